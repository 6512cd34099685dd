// The dashboard's login on a real server in this process, on a manual clock: wrong tokens
// are limited per client address (429 with Retry-After, two log lines a burst, not one per
// guess), sessions are random ids that expire, end with a sign-out and with a new token.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpServer } from '../../dist/http/server.js';
import { LiveBoard } from '../../dist/http/live-board.js';
import { manualClock } from '../../dist/util/clock.js';
import { fixedStatus, memoryLogger, request, sample } from '../helpers/http-raw.mjs';

const TOKEN = 'correct-horse-battery-staple';
const status = fixedStatus();

const T0 = Date.UTC(2025, 9, 14, 12, 0, 0);
const form = (token) => ({ method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
const cookieOf = (r) => /^logward_session=([^;]*)/.exec(r.headers['set-cookie']?.[0] ?? '')?.[1] ?? null;
const withCookie = (c) => ({ path: '/api/dashboard', headers: { cookie: `logward_session=${c}` } });

describe('dashboard logins', async () => {
  const clock = manualClock(T0);
  const { log, lines } = memoryLogger();
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: TOKEN, loginFailuresPerMin: 3, sessionMs: 3_600_000 }, status, log, { clock, board: new LiveBoard('web01', T0) });
  after(() => server.close());
  const warned = () => lines.filter((l) => l.level === 'warn' && /login/.test(l.msg));

  test('wrong tokens past the limit answer 429 with Retry-After, even the right one, until the minute is over', async () => {
    for (let k = 0; k < 3; k++) assert.equal((await request(server.url, form(`guess-${k}`))).status, 401);
    clock.advance(20_000);
    const limited = await request(server.url, form('guess-3'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '40');
    assert.match(limited.body, /try again in 40 s/);
    // The right token now tells nothing: it is not even looked at.
    assert.equal((await request(server.url, form(TOKEN))).status, 429);
    for (let k = 0; k < 200; k++) assert.equal((await request(server.url, form(`flood-${k}`))).status, 429);
    clock.advance(40_000);
    const ok = await request(server.url, form(TOKEN));
    assert.equal(ok.status, 303);
    assert.ok(cookieOf(ok));
  });

  test('a burst of wrong tokens is logged twice (its first and the limit), with the address and never the guess', () => {
    const w = warned();
    assert.equal(w.length, 2, JSON.stringify(w));
    assert.match(w[0].msg, /wrong token refused/);
    assert.match(w[1].msg, /too many wrong dashboard logins/);
    assert.ok(w.every((l) => l.remote === '127.0.0.1'));
    assert.doesNotMatch(JSON.stringify(lines), /guess-|flood-|correct-horse/);
  });

  test('counts the wrong logins and the refused ones on /metrics', async () => {
    const text = (await request(server.url, { path: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body;
    assert.equal(sample(text, 'logward_http_login_failures_total'), 3);
    assert.equal(sample(text, 'logward_http_logins_limited_total'), 202);
  });

  test('a session is a random id, unrelated to the token, with a Max-Age of http.session_hours', async () => {
    const a = await request(server.url, form(TOKEN));
    const b = await request(server.url, form(TOKEN));
    const [ca, cb] = [cookieOf(a), cookieOf(b)];
    assert.notEqual(ca, cb);
    assert.match(ca, /^[A-Za-z0-9_-]{43}$/);
    assert.match(a.headers['set-cookie'][0], /HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600$/);
    assert.equal((await request(server.url, withCookie(ca))).status, 200);
    assert.equal((await request(server.url, withCookie(cb))).status, 200);
  });

  test('a session ends when its time is up', async () => {
    const c = cookieOf(await request(server.url, form(TOKEN)));
    clock.advance(3_599_000);
    assert.equal((await request(server.url, withCookie(c))).status, 200);
    clock.advance(1000);
    assert.equal((await request(server.url, withCookie(c))).status, 401);
  });

  test('sign-out ends the session and clears the cookie; other sessions stay', async () => {
    const mine = cookieOf(await request(server.url, form(TOKEN)));
    const other = cookieOf(await request(server.url, form(TOKEN)));
    const page = await request(server.url, { path: '/', headers: { cookie: `logward_session=${mine}`, accept: 'text/html' } });
    assert.match(page.body, /id="signout"/);
    assert.equal((await request(server.url, { path: '/logout', headers: { cookie: `logward_session=${mine}` } })).status, 405);
    const out = await request(server.url, { method: 'POST', path: '/logout', headers: { cookie: `logward_session=${mine}` } });
    assert.equal(out.status, 303);
    assert.match(out.headers['set-cookie'][0], /^logward_session=; .*Max-Age=0/);
    assert.equal((await request(server.url, withCookie(mine))).status, 401);
    assert.equal((await request(server.url, withCookie(other))).status, 200);
  });

  test('a new token on reload ends every session; the same token keeps them', async () => {
    const c = cookieOf(await request(server.url, form(TOKEN)));
    server.reload({ host: '127.0.0.1', port: 0, token: TOKEN });
    assert.equal((await request(server.url, withCookie(c))).status, 200);
    server.reload({ host: '127.0.0.1', port: 0, token: `${TOKEN}-2` });
    assert.equal((await request(server.url, withCookie(c))).status, 401);
    assert.equal((await request(server.url, { path: '/api/dashboard', headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
    assert.equal((await request(server.url, { path: '/api/dashboard', headers: { authorization: `Bearer ${TOKEN}-2` } })).status, 200);
  });
});
