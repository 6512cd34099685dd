// The HTTP endpoint on random requests: a real server (with the dashboard, a token and
// small bounds) in this process gets random methods, targets, versions, headers, framings
// and bodies as raw bytes, sometimes several pipelined. Whatever arrives, it answers with a
// status other than 500 or closes the connection, logs no error, keeps serving, and holds
// no more connections or buffered bytes than its bounds allow.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpServer } from '../../dist/http/server.js';
import { LiveBoard } from '../../dist/http/live-board.js';
import { createLogger } from '../../dist/util/logger.js';
import { systemClock } from '../../dist/util/clock.js';
import { fixedStatus, rawExchange, request, sample, statusOf } from '../helpers/http-raw.mjs';
import { fc, params } from './fc-params.mjs';

const TOKEN = 'fuzz-token-0123456789';
const T0 = Date.UTC(2025, 9, 14, 12, 0, 0);
const status = fixedStatus({ sources: ['/var/log/auth.log'], events: 3, lastLineAt: T0 });

const logged = [];
const log = createLogger({ level: 'info', destination: { write: (l) => { logged.push(JSON.parse(l)); } } });
const board = new LiveBoard('web01', T0);
for (let n = 0; n < 20; n++) {
  board.opened({
    id: `id${n}`, rule: 'ssh_bruteforce', severity: 'high', key: `198.51.100.${n}`, keyField: 'ip', first: T0, last: T0, firedAt: T0, count: 5,
    ips: [`198.51.100.${n}`], users: ['r\u202eoot\u2028'], hosts: ['h'], truncated: false, samples: [{ source: 'a', line: n, time: T0, text: `sample ${n}` }], windowMs: 60_000, threshold: 5,
  });
}
const LIMITS = { maxConnections: 32, maxConnectionsPerClient: 16, maxBodyBytes: 2048, headerTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 2000, loginFailuresPerMin: 1000 };
const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: TOKEN, ...LIMITS }, status, log, { clock: systemClock, board });
after(() => server.close());
const { port } = new URL(server.url);

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
// Mostly well-formed, so most requests reach the routes; the rest is noise for the parser.
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'GET', 'POST', 'HEAD') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get') },
  { weight: 1, arbitrary: token },
);
const target = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/', '/metrics', '/healthz', '/api/dashboard', '/events', '/login', '/logout', '/nope', '*', '//x', '/../etc/passwd', '/%00', '/%zz', '/login?token=x', 'http://localhost/metrics') },
  { weight: 2, arbitrary: fc.webPath() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `/${s}`) },
);
const version = fc.oneof({ weight: 8, arbitrary: fc.constant('HTTP/1.1') }, fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/9', ''));
const host = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(`localhost:${port}`, `127.0.0.1:${port}`) }, fc.constantFrom('attacker.example', '[::1]', '', 'a b', `localhost:${port}, evil`), fc.string({ maxLength: 20 }));
const credential = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.constant(['Authorization', `Bearer ${TOKEN}`]) },
  fc.string({ maxLength: 30 }).map((s) => ['Authorization', `Bearer ${s}`]),
  fc.string({ maxLength: 60 }).map((s) => ['Cookie', `logward_session=${s}`]),
);
const header = fc.tuple(
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Expect', 'Upgrade', 'Host') },
    { weight: 6, arbitrary: fc.constantFrom('Connection', 'Accept', 'Content-Type', 'Cookie', 'Authorization', 'X-Forwarded-For', 'Accept-Encoding', 'Range') },
    { weight: 3, arbitrary: token },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  ),
  fc.oneof(
    { weight: 6, arbitrary: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('close', 'keep-alive', 'chunked', '100-continue', 'text/html', 'text/event-stream', '0', '-1', '99999999999', 'websocket')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  ),
);
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(`token=${TOKEN}`, 'token=wrong', `token=${'x'.repeat(3000)}`),
  fc.nat({ max: 9000 }).map((n) => 'b'.repeat(n)),
);
const framing = fc.constantFrom('length', 'chunked', 'none', 'wrong-length', 'bad-chunked');
const requestArb = fc.record({ method, target, version, host: fc.option(host, { nil: null }), credential, headers: fc.array(header, { maxLength: 3 }), body, framing });

function render(r) {
  const lines = [`${r.method} ${r.target} ${r.version}`.trimEnd()];
  if (r.host !== null) lines.push(`Host: ${r.host}`);
  if (r.credential !== null) lines.push(`${r.credential[0]}: ${r.credential[1]}`);
  for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
  let payload = r.body;
  if (r.framing === 'length') lines.push(`Content-Length: ${Buffer.byteLength(r.body)}`);
  else if (r.framing === 'wrong-length') lines.push(`Content-Length: ${Buffer.byteLength(r.body) + 7}`);
  else if (r.framing === 'chunked' || r.framing === 'bad-chunked') {
    lines.push('Transfer-Encoding: chunked');
    payload = r.framing === 'chunked' ? `${Buffer.byteLength(r.body).toString(16)}\r\n${r.body}\r\n0\r\n\r\n` : `zz\r\n${r.body}`;
  }
  return `${lines.join('\r\n')}\r\n\r\n${payload}`;
}

test('random requests never get a 500, never crash the server, and never grow its buffers past the bounds', { timeout: 60_000 }, async () => {
  const rss0 = process.memoryUsage().rss;
  await fc.assert(fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 3 }), async (reqs) => {
    const text = reqs.map(render).join('');
    // Half-closed after the bytes: the server sees the end, so nothing waits for a timeout.
    const r = await rawExchange(server.url, text, { ms: 2500, endAfterWrite: true });
    const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.ok(!statuses.includes(500), `answered 500 to ${JSON.stringify(text.slice(0, 300))}`);
    assert.ok(statuses.length > 0 || r.closed, `no answer and still open: ${JSON.stringify(text.slice(0, 300))}`);
    if (statuses.length === 0) assert.equal(statusOf(r.text), null);
    const errors = logged.filter((l) => l.level === 'error' || l.level === 'fatal');
    assert.deepEqual(errors, [], JSON.stringify(text.slice(0, 300)));
  }), params(3000));

  // Still serving, and back within its bounds once the clients are gone.
  const health = await request(server.url, { path: '/healthz', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(health.status, 200);
  const metrics = (await request(server.url, { path: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body;
  assert.ok(sample(metrics, 'logward_http_connections') <= LIMITS.maxConnections, metrics);
  assert.ok(sample(metrics, 'logward_http_dashboard_buffered_bytes') <= 16 * 2 * 1024 * 1024, metrics);
  assert.ok(process.memoryUsage().rss - rss0 < 200 * 1024 * 1024, `RSS grew by ${(process.memoryUsage().rss - rss0) / 1048576} MB`);
});
