// Which Host headers the endpoint answers, against DNS rebinding: a web page whose name
// an attacker points at 127.0.0.1 may make the operator's browser send requests here, but
// the browser still names the attacker's host. Answered are loopback names and addresses
// (localhost and *.localhost, which browsers never ask DNS for), http.host, the address
// the connection arrived at, and the names in http.allowed_hosts. It never answers the
// request itself and never resolves a name.

import net from 'node:net';
import { isLoopbackHost } from '../util/loopback.js';

/** The host of a Host header without its port, in lower case; null when it is not one. */
export function hostOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0 || !/^(?::\d{1,5})?$/.test(h.slice(end + 1))) return null;
    return h.slice(1, end);
  }
  const m = /^([^:\s]+)(?::\d{1,5})?$/.exec(h);
  return m === null ? null : m[1]!.replace(/\.$/, '');
}

/** Decides, per request, whether its Host header names this endpoint. */
export function hostChecker(listenHost: string, allowed: readonly string[]): (header: string | undefined, localAddress: string | undefined) => boolean {
  const names = new Set(allowed);
  const own = hostOf(listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost);
  if (own !== null) names.add(own);
  return (header, localAddress) => {
    const host = hostOf(header);
    if (host === null) return false;
    if (names.has(host) || isLoopbackHost(host) || host.endsWith('.localhost')) return true;
    // The address the client connected to, written as an address: no name to rebind.
    if (net.isIP(host) === 0 || localAddress === undefined) return false;
    return host === localAddress.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  };
}
