// The http block of the configuration: from its YAML shape to Config['http'], with the checks
// that look at more than one field (an address other than loopback needs a token, and one
// long enough not to be guessed). It never opens a socket and never prints a token.

import type { Problem } from '../core/rules.js';
import { isLoopbackHost } from '../util/loopback.js';
import { httpDefaults } from './schema.js';
import type { Config } from './types.js';

/** Shortest token accepted on an address other than loopback. */
export const MIN_REMOTE_TOKEN_CHARS = 16;

type RawHttp = ReturnType<typeof httpDefaults>;

export function normaliseHttp(raw: RawHttp, where: string, problems: Problem[]): Config['http'] {
  const token = raw.token === null || raw.token === '' ? null : raw.token;
  if (raw.enabled && !isLoopbackHost(raw.host)) {
    if (token === null) {
      problems.push({ path: `${where}: http.token`, message: `binding to ${raw.host} needs http.token (a bearer token), or bind to 127.0.0.1` });
    } else if (token.length < MIN_REMOTE_TOKEN_CHARS) {
      problems.push({ path: `${where}: http.token`, message: `a token of ${token.length} characters is too easy to guess on ${raw.host}; use at least ${MIN_REMOTE_TOKEN_CHARS} (e.g. the output of "openssl rand -hex 16"), or bind to 127.0.0.1` });
    }
  }
  if (raw.header_timeout_secs > raw.request_timeout_secs) {
    problems.push({ path: `${where}: http.header_timeout_secs`, message: `${raw.header_timeout_secs} s is longer than http.request_timeout_secs (${raw.request_timeout_secs} s), which includes the headers; lower it or raise the other` });
  }
  return {
    enabled: raw.enabled,
    host: raw.host,
    port: raw.port,
    token,
    allowedHosts: raw.allowed_hosts.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')),
    maxConnections: raw.max_connections,
    // A client cannot hold more than all of them.
    maxConnectionsPerClient: Math.min(raw.max_connections_per_client, raw.max_connections),
    headerTimeoutMs: raw.header_timeout_secs * 1000,
    requestTimeoutMs: raw.request_timeout_secs * 1000,
    idleTimeoutMs: raw.idle_timeout_secs * 1000,
    maxBodyBytes: raw.max_body_bytes,
    sessionMs: raw.session_hours * 3_600_000,
    loginFailuresPerMin: raw.login_failures_per_min,
  };
}

/** Every default of the http block (tests and callers that set only a few fields start here). */
export const DEFAULT_HTTP: Config['http'] = Object.freeze(normaliseHttp(httpDefaults(), '', []));
