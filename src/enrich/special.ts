// Addresses that have no public origin: private networks, loopback, link-local, CGNAT,
// documentation ranges, multicast and the like (IANA special-purpose registries). They are
// labelled, never looked up in a database and never sent to an online provider.

import { normalizeIp } from '../core/ip.js';
import { ipv4ToInt, parseIp } from './addr.js';

export type SpecialLabel =
  | 'unspecified' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'documentation'
  | 'benchmarking' | 'multicast' | 'broadcast' | 'reserved';

/** Human text for a label, as formatOrigin prints it ("private address"). */
export const SPECIAL_TEXT: Readonly<Record<SpecialLabel, string>> = Object.freeze({
  unspecified: 'unspecified address',
  loopback: 'loopback address',
  private: 'private address',
  'link-local': 'link-local address',
  cgnat: 'CGNAT address',
  documentation: 'documentation address',
  benchmarking: 'benchmarking address',
  multicast: 'multicast address',
  broadcast: 'broadcast address',
  reserved: 'reserved address',
});

type V4Range = readonly [start: number, prefix: number, label: SpecialLabel];

function v4(cidr: string, label: SpecialLabel): V4Range {
  const [a, p] = cidr.split('/');
  return [ipv4ToInt(a!), Number(p), label];
}

// Most specific first where ranges nest (255.255.255.255 inside 240/4).
const V4_RANGES: readonly V4Range[] = [
  v4('255.255.255.255/32', 'broadcast'),
  v4('0.0.0.0/32', 'unspecified'),
  v4('0.0.0.0/8', 'reserved'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** Label of an IPv4 address given as a 32-bit unsigned integer, or null (public). */
export function specialIPv4(n: number): SpecialLabel | null {
  for (const [start, prefix, label] of V4_RANGES) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if (((n & mask) >>> 0) === start) return label;
  }
  return null;
}

/** Label of an IPv6 address given as four 32-bit words, or null (public). */
export function specialIPv6(w: Uint32Array): SpecialLabel | null {
  const [a, b, c, d] = [w[0]!, w[1]!, w[2]!, w[3]!];
  if (a === 0 && b === 0) {
    if (c === 0 && d === 0) return 'unspecified';
    if (c === 0 && d === 1) return 'loopback';
    // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96: the IPv4 address decides.
    if (c === 0xffff) return specialIPv4(d);
    if (c === 0xffff0000) return specialIPv4(d);
    // IPv4-compatible ::/96 (deprecated) and the rest of ::/64.
    return 'reserved';
  }
  const top16 = a >>> 16;
  if (top16 >= 0xff00) return 'multicast'; // ff00::/8
  if ((a & 0xffc00000) >>> 0 === 0xfe800000) return 'link-local'; // fe80::/10
  if ((a & 0xffc00000) >>> 0 === 0xfec00000) return 'private'; // fec0::/10, deprecated site-local
  if ((a & 0xfe000000) >>> 0 === 0xfc000000) return 'private'; // fc00::/7, unique local
  if (a === 0x20010db8) return 'documentation'; // 2001:db8::/32
  if ((a & 0xfffff000) >>> 0 === 0x3fff0000) return 'documentation'; // 3fff::/20 (RFC 9637)
  if (a === 0x01000000 && b === 0) return 'reserved'; // 100::/64, discard-only
  if (a === 0x0064ff9b && b === 0 && c === 0) return specialIPv4(d); // 64:ff9b::/96, NAT64 of an IPv4 address
  if (a === 0x20010002 && (b >>> 16) === 0) return 'benchmarking'; // 2001:2::/48
  return null;
}

/**
 * The special-purpose label of an address as written in a log (IPv4-mapped IPv6 and
 * brackets are handled), null for a public address, and null for a value that is not an
 * address at all (check with parseIp when that matters).
 */
export function specialLabel(ip: string): SpecialLabel | null {
  const s = normalizeIp(ip);
  if (s === null) return null;
  const p = parseIp(s);
  if (p === null) return null;
  return p.family === 4 ? specialIPv4(p.v4) : specialIPv6(p.words);
}
