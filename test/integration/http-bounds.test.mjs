// The HTTP endpoint against clients that do not play by the rules, on a real server in this
// process: Host headers of a rebinding web page, bodies too long, connections that never
// finish or never read, pipelined floods. Each bound answers with its status (421, 413,
// 408) or closes the connection, is counted on /metrics, and never costs a 500.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHttpServer } from '../../dist/http/server.js';
import { hostChecker } from '../../dist/http/host-check.js';
import { LiveBoard } from '../../dist/http/live-board.js';
import { systemClock } from '../../dist/util/clock.js';
import { fixedStatus, memoryLogger, rawExchange, request, sample, statusOf } from '../helpers/http-raw.mjs';

const status = fixedStatus({ sources: ['/var/log/auth.log'], events: 3 });

const T0 = Date.UTC(2025, 9, 14, 12, 0, 0);
function incident(n, sampleChars = 100) {
  const key = `198.51.100.${n % 250}`;
  return {
    id: `id${n}`, rule: 'ssh_bruteforce', severity: 'high', key, keyField: 'ip', first: T0 + n, last: T0 + n, firedAt: T0 + n, count: 5,
    ips: [key], users: ['root'], hosts: ['h'], truncated: false, samples: [{ source: 'auth.log', line: n, time: T0 + n, text: `${n} `.padEnd(sampleChars, 'x') }], windowMs: 60_000, threshold: 5,
  };
}

const metricsOf = async (url) => (await request(url, { path: '/metrics' })).body;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('the Host check', async () => {
  const { log } = memoryLogger();
  const board = new LiveBoard('web01', T0);
  board.opened(incident(1));
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: null, allowedHosts: ['logward.example.org'] }, status, log, { clock: systemClock, board });
  after(() => server.close());
  const port = new URL(server.url).port;

  test('answers 421 to a Host a rebinding web page would send, on every path, with nothing of the board', async () => {
    for (const path of ['/api/dashboard', '/', '/events', '/metrics', '/healthz', '/login', '/nope']) {
      for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost.attacker.example:${port}`, `192.0.2.1:${port}`]) {
        const r = await request(server.url, { path, headers: { host } });
        assert.equal(r.status, 421, `${path} Host ${host}`);
        assert.doesNotMatch(r.body, /198\.51\.100|web01|logward_/);
        assert.match(r.body, /http\.allowed_hosts/);
      }
    }
    assert.equal(sample(await metricsOf(server.url), 'logward_http_misdirected_total'), 35);
  });

  test('answers loopback names and addresses, *.localhost and the names in http.allowed_hosts', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, `127.0.0.2:${port}`, `dash.localhost:${port}`, `logward.example.org:${port}`, 'LogWard.Example.Org.']) {
      const r = await request(server.url, { path: '/api/dashboard', headers: { host } });
      assert.equal(r.status, 200, `Host ${host}: ${r.body}`);
    }
  });

  test('refuses a request without a Host header or with a malformed one', async () => {
    const none = await rawExchange(server.url, 'GET /api/dashboard HTTP/1.0\r\n\r\n');
    assert.equal(statusOf(none.text), 421);
    for (const host of ['', 'a b', '[::1', 'localhost:99999999', 'localhost:port']) {
      const r = await rawExchange(server.url, `GET /api/dashboard HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.ok([400, 421].includes(statusOf(r.text)), `Host "${host}": ${r.text.slice(0, 80)}`);
    }
  });

  test('with a wildcard bind, also answers the address the client connected to, written as an address', () => {
    const allowed = hostChecker('0.0.0.0', []);
    assert.equal(allowed('192.0.2.5:9110', '192.0.2.5'), true);
    assert.equal(allowed('192.0.2.5', '::ffff:192.0.2.5'), true);
    assert.equal(allowed('192.0.2.6:9110', '192.0.2.5'), false);
    assert.equal(allowed('logward-host:9110', '192.0.2.5'), false);
    assert.equal(hostChecker('logward-host', [])('logward-host:9110', '192.0.2.5'), true);
    assert.equal(hostChecker('::', [])('[2001:db8::5]:9110', '2001:db8::5'), true);
  });
});

describe('bounded requests', async () => {
  const { log, lines } = memoryLogger();
  const board = new LiveBoard('web01', T0);
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: 'a-token-of-twenty-chars', maxBodyBytes: 2048, headerTimeoutMs: 1000, requestTimeoutMs: 2000, idleTimeoutMs: 2500 }, status, log, { clock: systemClock, board });
  after(() => server.close());
  const auth = { authorization: 'Bearer a-token-of-twenty-chars' };

  test('a login form over http.max_body_bytes answers 413 and logs no error, declared or chunked', async () => {
    const declared = await request(server.url, { method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${'x'.repeat(5000)}` });
    assert.equal(declared.status, 413);
    assert.match(declared.body, /at most 2048 bytes/);
    const chunked = await rawExchange(server.url, `POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n' + 'y'.repeat(1024) + '\r\n'}${'400\r\n' + 'y'.repeat(1024) + '\r\n'}${'400\r\n' + 'y'.repeat(1024) + '\r\n'}`);
    assert.equal(statusOf(chunked.text), 413, chunked.text.slice(0, 200));
    const other = await request(server.url, { method: 'POST', path: '/metrics', headers: auth, body: 'z'.repeat(100_000) });
    assert.equal(other.status, 413);
    assert.deepEqual(lines.filter((l) => l.level === 'error' || l.level === 'fatal'), []);
    assert.equal((await request(server.url, { path: '/healthz', headers: auth })).status, 200);
  });

  test('every answer says X-Content-Type-Options: nosniff', async () => {
    const answers = [
      await request(server.url, { path: '/healthz', headers: auth }),
      await request(server.url, { path: '/metrics' }),
      await request(server.url, { path: '/nope', headers: auth }),
      await request(server.url, { method: 'DELETE', path: '/healthz', headers: auth }),
      await request(server.url, { path: '/healthz', headers: { host: 'attacker.example' } }),
      await request(server.url, { path: '/login' }),
      await request(server.url, { method: 'POST', path: '/login', body: 'x'.repeat(3000) }),
      await request(server.url, { method: 'POST', path: '/logout' }),
    ];
    for (const r of answers) assert.equal(r.headers['x-content-type-options'], 'nosniff', `${r.status}`);
    const stream = await rawExchange(server.url, 'GET /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a-token-of-twenty-chars\r\n\r\n', { ms: 500 });
    assert.match(stream.text, /^HTTP\/1\.1 200[^]*x-content-type-options: nosniff/i);
    const bad = await rawExchange(server.url, 'GARBAGE\r\n\r\n');
    assert.equal(statusOf(bad.text), 400);
    assert.match(bad.text, /X-Content-Type-Options: nosniff/);
  });

  test('headers that never finish are cut off with 408 after http.header_timeout_secs', async () => {
    const t0 = Date.now();
    const r = await rawExchange(server.url, 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1', { ms: 6000 });
    const took = Date.now() - t0;
    assert.equal(r.closed, true, 'still open after 6 s');
    assert.ok(took < 3500, `closed after ${took} ms`);
    assert.equal(statusOf(r.text), 408, r.text);
  });

  test('a connection that sends nothing is closed after http.idle_timeout_secs', async () => {
    const t0 = Date.now();
    const r = await rawExchange(server.url, '', { ms: 6000 });
    assert.equal(r.closed, true);
    assert.ok(Date.now() - t0 < 4000, `closed after ${Date.now() - t0} ms`);
  });

  test('a flood of pipelined requests on one connection closes it instead of queueing every answer', async () => {
    const one = 'GET /api/dashboard HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a-token-of-twenty-chars\r\n\r\n';
    const r = await rawExchange(server.url, one.repeat(50), { ms: 3000 });
    assert.equal(r.closed, true);
    const answered = r.text.split('HTTP/1.1 200').length - 1;
    assert.ok(answered <= 5, `${answered} answers queued`);
    assert.equal((await request(server.url, { path: '/healthz', headers: auth })).status, 200);
  });
});

describe('connection caps', async () => {
  const { log } = memoryLogger();
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: null, maxConnections: 8, maxConnectionsPerClient: 4 }, status, log, { clock: systemClock, board: new LiveBoard('web01', T0) });
  after(() => server.close());
  const { port } = new URL(server.url);

  async function openIdle(n, localAddress) {
    const sockets = await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
      const s = net.connect({ port: Number(port), host: '127.0.0.1', localAddress });
      s.on('error', () => {});
      s.on('connect', () => resolve(s));
    })));
    return sockets;
  }

  test('past the cap of one client address, the connection idle longest makes room for a new request', async () => {
    const idle = await openIdle(4);
    await sleep(400);
    const r = await request(server.url, { path: '/healthz' });
    assert.equal(r.status, 200);
    await sleep(50);
    assert.equal(idle.filter((s) => s.destroyed || s.readableEnded).length >= 1, true, 'no idle connection was closed');
    const text = await metricsOf(server.url);
    assert.ok(sample(text, 'logward_http_connections_evicted_total') >= 1, text);
    assert.ok(sample(text, 'logward_http_connections') <= 4);
    for (const s of idle) s.destroy();
  });

  test('other addresses keep their own share, and the total cap holds', async () => {
    const a = await openIdle(4, '127.0.0.2');
    const b = await openIdle(4, '127.0.0.3');
    await sleep(400);
    // From a third address: the total (8) is reached, the oldest idle one goes.
    const r = await request(server.url, { path: '/metrics' });
    assert.equal(r.status, 200);
    assert.ok(sample(r.body, 'logward_http_connections') <= 8, r.body);
    for (const s of [...a, ...b]) s.destroy();
  });

  test('when every connection is busy, a new one is closed at once and counted', async () => {
    const streams = [];
    // Open dashboard streams keep their connections busy.
    for (let k = 0; k < 4; k++) {
      const s = net.connect(Number(port), '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.on('connect', r));
      s.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
      streams.push(s);
    }
    await sleep(400);
    await assert.rejects(request(server.url, { path: '/healthz' }));
    for (const s of streams) s.destroy();
    await sleep(100);
    const text = await metricsOf(server.url);
    assert.ok(sample(text, 'logward_http_connections_refused_total') >= 1, text);
  });
});

describe('dashboard streams whose client never reads', async () => {
  const { log } = memoryLogger();
  const board = new LiveBoard('web01', T0);
  for (let n = 0; n < 200; n++) board.opened(incident(n, 5000));
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: null, idleTimeoutMs: 3000 }, status, log, { clock: systemClock, board });
  after(() => server.close());
  const picture = (await request(server.url, { path: '/api/dashboard' })).body.length;

  test('hold at most about one picture each, and are dropped once they take nothing for http.idle_timeout_secs', async () => {
    assert.ok(picture > 900_000, `picture of ${picture} bytes`);
    const stalled = [];
    for (let k = 0; k < 4; k++) {
      const s = net.connect(Number(new URL(server.url).port), '127.0.0.1');
      s.on('error', () => {});
      s.pause();
      s.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
      stalled.push(s);
    }
    // A reader that keeps up gets every push.
    const reading = rawExchange(server.url, 'GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n', { ms: 2500 });
    let most = 0;
    const busy = setInterval(() => board.opened(incident(1000 + Math.floor(Math.random() * 1e6), 5000)), 20);
    try {
      for (let k = 0; k < 10; k++) {
        await sleep(200);
        const text = await metricsOf(server.url);
        most = Math.max(most, sample(text, 'logward_http_dashboard_buffered_bytes'));
      }
    } finally {
      clearInterval(busy);
    }
    const reader = await reading;
    assert.ok(reader.text.split('event: state').length - 1 >= 3, 'the reading dashboard got pushes');
    assert.ok(most <= 4 * (2 * picture + 65_536), `${most} bytes buffered for 4 stalled streams of ${picture}-byte pictures`);
    await sleep(3500);
    const after = await metricsOf(server.url);
    assert.equal(sample(after, 'logward_http_dashboard_streams'), 0, after);
    assert.equal(sample(after, 'logward_http_dashboard_buffered_bytes'), 0);
    for (const s of stalled) s.destroy();
  });

  test('answers of /api/dashboard that are never read hold 16 MB at most: the oldest are dropped', async () => {
    const sockets = [];
    // Pipelined: what the kernel does not take waits in the daemon, a picture per request.
    for (let k = 0; k < 40; k++) {
      const s = net.connect(Number(new URL(server.url).port), '127.0.0.1');
      s.on('error', () => {});
      s.pause();
      s.write('GET /api/dashboard HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(4));
      sockets.push(s);
    }
    await sleep(1500);
    const text = await metricsOf(server.url);
    const buffered = sample(text, 'logward_http_dashboard_buffered_bytes');
    assert.ok(buffered <= 16 * 1024 * 1024 + picture, `${buffered} bytes buffered`);
    assert.ok(sample(text, 'logward_http_dashboard_streams_dropped_total') >= 10, text);
    for (const s of sockets) s.destroy();
  });
});

describe('a new dashboard when all 16 places are taken', async () => {
  const { log } = memoryLogger();
  const board = new LiveBoard('web01', T0);
  for (let n = 0; n < 200; n++) board.opened(incident(n, 5000));
  // Idle streams are dropped only after 30 s here: what makes room is the stall itself.
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, token: null, idleTimeoutMs: 30_000 }, status, log, { clock: systemClock, board });
  after(() => server.close());

  test('with every place taken, a new dashboard gets 503 while all read, and replaces one stalled for 5 s', async () => {
    const port = Number(new URL(server.url).port);
    const openStream = (read) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.head = '';
      s.on('data', (d) => { if (s.head.length < 100) s.head += d.toString('latin1'); });
      if (!read) s.pause();
      s.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
      return s;
    };
    const readers = Array.from({ length: 15 }, () => openStream(true));
    const stalled = openStream(false);
    const busy = setInterval(() => board.opened(incident(2_000_000 + Math.floor(Math.random() * 1e6), 5000)), 50);
    try {
      await sleep(1000);
      const early = openStream(true);
      await sleep(500);
      assert.match(early.head, /^HTTP\/1\.1 503/, 'a stream behind for less than 5 s keeps its place');
      early.destroy();
      await sleep(5500);
      const late = openStream(true);
      await sleep(500);
      assert.match(late.head, /^HTTP\/1\.1 200/, 'the stalled stream made room');
      assert.ok(readers.every((r) => !r.destroyed && r.head.startsWith('HTTP/1.1 200')), 'a reading dashboard was dropped');
      late.destroy();
    } finally {
      clearInterval(busy);
      for (const r of [...readers, stalled]) r.destroy();
    }
  });
});
