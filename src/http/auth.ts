// Who may use the HTTP endpoint when http.token is set: the bearer token check, the
// dashboard's login form with its per-address limit on wrong tokens, the session cookie a
// good login sets (a random id, see sessions.ts) and the logout that ends it. A token change
// ends every session. Secrets are always compared in constant time, and a missing
// credential costs the same as a wrong one. It never logs a token or a cookie, and never
// decides which path answers what (routes.ts does).

import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { readBody } from './body.js';
import { clientKey } from './connections.js';
import { loginPage } from './dashboard-page.js';
import { LoginLimiter } from './login-limit.js';
import { HTML_TYPE, newNonce, pageHeaders, send, TEXT_TYPE } from './respond.js';
import { Sessions } from './sessions.js';

/** Compares in time independent of where the strings differ (and of their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const COOKIE = 'logward_session';
const COOKIE_ATTRIBUTES = 'HttpOnly; SameSite=Strict; Path=/';

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export interface GateOptions {
  /** http.token: null serves everyone. */
  token: string | null;
  clock: Clock;
  log: Logger;
  sessionMs: number;
  loginFailuresPerMin: number;
  maxBodyBytes: number;
}

export interface GateStats {
  loginFailures: number;
  loginsLimited: number;
}

export class Gate {
  private token: string | null;
  private readonly sessions: Sessions;
  private readonly limiter: LoginLimiter;

  constructor(private readonly opts: GateOptions) {
    this.token = opts.token;
    this.sessions = new Sessions(opts.clock, opts.sessionMs);
    this.limiter = new LoginLimiter(opts.clock, opts.loginFailuresPerMin);
  }

  /** True when no token is set: everyone is served. */
  get open(): boolean {
    return this.token === null;
  }

  /** A new token (a reload): sessions opened with the old one end. */
  setToken(token: string | null): void {
    if (token === this.token) return;
    this.token = token;
    this.sessions.endAll();
  }

  authorized(req: http.IncomingMessage): boolean {
    if (this.token === null) return true;
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    // Always compare, so a missing header takes the same time as a wrong one.
    const byHeader = sameSecret(m?.[1] ?? '', this.token);
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    return (m !== null && byHeader) || (cookie !== null && this.sessions.valid(cookie));
  }

  /** The 401 for a request without valid credentials; a browser asking for the dashboard gets the login form. */
  refuse(res: http.ServerResponse, offerLogin: boolean): void {
    if (offerLogin) {
      const nonce = newNonce();
      send(res, 401, HTML_TYPE, loginPage(nonce, null), { ...pageHeaders(nonce), 'WWW-Authenticate': 'Bearer realm="logward"' });
      return;
    }
    send(res, 401, TEXT_TYPE, 'unauthorized: send Authorization: Bearer <http.token>\n', { 'WWW-Authenticate': 'Bearer realm="logward"' });
  }

  /** /login: the form on GET, the token check on POST, and a new session when it matches. */
  async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const nonce = newNonce();
    if (this.token === null) {
      send(res, 303, TEXT_TYPE, 'no token is needed\n', { Location: './' });
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      send(res, 200, HTML_TYPE, loginPage(nonce, null), pageHeaders(nonce));
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'GET, POST' });
      return;
    }
    const client = clientKey(req.socket.remoteAddress);
    const wait = this.limiter.retryAfterSecs(client);
    if (wait > 0) {
      // Not even read: a guess made now tells nothing.
      send(res, 429, HTML_TYPE, loginPage(nonce, `Too many wrong tokens from this address; try again in ${wait} s.`), { ...pageHeaders(nonce), 'Retry-After': String(wait), Connection: 'close' });
      return;
    }
    const body = await readBody(req, res, this.opts.maxBodyBytes);
    if (body === null) return;
    const given = new URLSearchParams(body).get('token') ?? '';
    if (!sameSecret(given, this.token)) {
      const note = this.limiter.failed(client);
      const remote = req.socket.remoteAddress;
      if (note === 'first') this.opts.log.warn({ remote }, 'http: dashboard login with a wrong token refused');
      else if (note === 'limit') {
        this.opts.log.warn({ remote, failures: this.opts.loginFailuresPerMin }, 'http: too many wrong dashboard logins from one address; its logins are refused (429) for the rest of the minute');
      }
      send(res, 401, HTML_TYPE, loginPage(nonce, 'That token is not right.'), pageHeaders(nonce));
      return;
    }
    this.limiter.succeeded(client);
    const id = this.sessions.start();
    send(res, 303, TEXT_TYPE, 'signed in\n', {
      Location: './',
      'Set-Cookie': `${COOKIE}=${id}; ${COOKIE_ATTRIBUTES}; Max-Age=${this.sessions.maxAgeSecs}`,
    });
  }

  /** /logout (POST): ends the session of the cookie, if any, and clears the cookie. */
  logout(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'POST') {
      send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'POST' });
      return;
    }
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    if (cookie !== null) this.sessions.end(cookie);
    send(res, 303, TEXT_TYPE, 'signed out\n', { Location: './', 'Set-Cookie': `${COOKIE}=; ${COOKIE_ATTRIBUTES}; Max-Age=0` });
  }

  stats(): GateStats {
    return { loginFailures: this.limiter.failures, loginsLimited: this.limiter.limited };
  }
}
