// Who may use the HTTP endpoint when http.token is set: the bearer token check, the
// dashboard's login form and the session cookie it sets. The cookie holds a hash derived from
// the token, never the token itself. Secrets are always compared in constant time, and a
// missing credential costs the same as a wrong one. It never logs a token or a cookie, and
// never decides which path answers what (routes.ts does).

import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../util/logger.js';
import { loginPage } from './dashboard-page.js';
import { HTML_TYPE, newNonce, pageHeaders, send, TEXT_TYPE } from './respond.js';

/** Compares in time independent of where the strings differ (and of their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const COOKIE = 'logward_session';

/** The cookie's value: derived from the token, so the token itself is never stored by a browser. */
function sessionOf(token: string): string {
  return createHash('sha256').update(`logward dashboard session\u0000${token}`).digest('hex');
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function authorized(req: http.IncomingMessage, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  // Always compare, so a missing header takes the same time as a wrong one.
  const byHeader = sameSecret(m?.[1] ?? '', token);
  const cookie = cookieValue(req.headers.cookie, COOKIE);
  const byCookie = sameSecret(cookie ?? '', sessionOf(token));
  return (m !== null && byHeader) || (cookie !== null && byCookie);
}

/** The 401 for a request without valid credentials; a browser asking for the dashboard gets the login form. */
export function refuse(res: http.ServerResponse, offerLogin: boolean): void {
  if (offerLogin) {
    const nonce = newNonce();
    send(res, 401, HTML_TYPE, loginPage(nonce, false), { ...pageHeaders(nonce), 'WWW-Authenticate': 'Bearer realm="logward"' });
    return;
  }
  send(res, 401, TEXT_TYPE, 'unauthorized: send Authorization: Bearer <http.token>\n', { 'WWW-Authenticate': 'Bearer realm="logward"' });
}

async function readForm(req: http.IncomingMessage, limit: number): Promise<URLSearchParams | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** /login: the form on GET, the token check on POST, and the session cookie when it matches. */
export async function login(req: http.IncomingMessage, res: http.ServerResponse, token: string | null, log: Logger): Promise<void> {
  const nonce = newNonce();
  if (token === null) {
    send(res, 303, TEXT_TYPE, 'no token is needed\n', { Location: './' });
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    send(res, 200, HTML_TYPE, loginPage(nonce, false), pageHeaders(nonce));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'GET, POST' });
    return;
  }
  const form = await readForm(req, 4096);
  const given = form?.get('token') ?? '';
  if (!sameSecret(given, token)) {
    log.warn({ remote: req.socket.remoteAddress }, 'http: dashboard login with a wrong token refused');
    send(res, 401, HTML_TYPE, loginPage(nonce, true), pageHeaders(nonce));
    return;
  }
  send(res, 303, TEXT_TYPE, 'signed in\n', {
    Location: './',
    'Set-Cookie': `${COOKIE}=${sessionOf(token)}; HttpOnly; SameSite=Strict; Path=/`,
  });
}
