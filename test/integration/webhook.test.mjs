// Webhook delivery against a real node:http server: the exact body and its HMAC, retries
// on 5xx and timeouts, dead letters on other 4xx, and the outbox timer doing it alone.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.mjs';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/util/logger.js';
import { manualClock, systemClock } from '../../dist/util/clock.js';
import { Outbox, fileName } from '../../dist/delivery/outbox.js';

const SECRET = 'webhook-hmac-key-5d1c';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A receiver answering each request with the next of `answers` (a status, or 'hang'), then 200. */
async function receiver(answers = []) {
  const requests = [];
  const hanging = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method, url: req.url, headers: req.headers, raw });
      const a = answers.shift() ?? 200;
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a < 300 ? 'ok' : 'no');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const r = {
    url: `http://127.0.0.1:${server.address().port}/hooks/T123/very-secret-path`,
    requests,
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
  receivers.push(r);
  return r;
}

const receivers = [];
const outboxes = [];
after(async () => {
  await Promise.all(outboxes.map((o) => o.stop()));
  await Promise.all(receivers.map((r) => r.close()));
});

/** The outbox's clock is a manual one unless `clock` is given: a retry is made due by advancing it, not by sleeping. */
function setup(webhook, clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))) {
  const dir = tempDir('logward-webhook-');
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, JSON.stringify({
    rules: { files: [path.join(ROOT, 'config', 'rules', '*.yaml')] },
    mail: { outbox_dir: path.join(dir, 'eml') },
    webhook: { timeout_secs: 2, ...webhook },
    delivery: { retry_min_secs: 0.05, retry_max_secs: 0.4, alert_stream: false },
  }));
  const lines = [];
  const log = createLogger({ level: 'debug', destination: { write: (s) => { lines.push(s); } } });
  const o = new Outbox({ dir: path.join(dir, 'outbox'), config: loadConfig(file, { env: {} }), log, clock });
  outboxes.push(o);
  return { o, dir, clock, lines, records: () => lines.map((l) => JSON.parse(l)) };
}

let seq = 0;
function hook(body = { rule: 'ssh_bruteforce', severity: 'high', key: '203.0.113.7', count: 12, note: 'ünïcödé "quoted"' }) {
  const id = `alert-${process.pid}-${++seq}`;
  return { kind: 'webhook', id, created: Date.now(), webhook: { body: { id, ...body } } };
}

describe('webhook delivery', () => {
  test('posts the exact JSON body with X-Logward-Signature (HMAC-SHA256 of the body), X-Logward-Id and the configured headers', async () => {
    const rcv = await receiver();
    const { o, lines } = setup({ url: rcv.url, secret: SECRET, headers: { Authorization: 'Bearer tok-123' } });
    const msg = hook();
    assert.equal(o.enqueue(msg), 'queued');
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(rcv.requests.length, 1);
    const req = rcv.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hooks/T123/very-secret-path');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer tok-123');
    assert.equal(req.headers['x-logward-id'], msg.id);
    assert.equal(req.raw, JSON.stringify(msg.webhook.body));
    assert.deepEqual(JSON.parse(req.raw), msg.webhook.body);
    const expected = `sha256=${createHmac('sha256', SECRET).update(req.raw).digest('hex')}`;
    assert.equal(req.headers['x-logward-signature'], expected);
    const log = lines.join('');
    assert.ok(!log.includes('very-secret-path'), 'the URL path (a Slack token) is not logged');
    assert.ok(!log.includes(SECRET) && !log.includes('tok-123'));
    assert.equal(o.enqueue(msg), 'duplicate');
  });

  test('without webhook.secret no signature header is sent', async () => {
    const rcv = await receiver();
    const { o } = setup({ url: rcv.url });
    o.enqueue(hook());
    await o.flush();
    assert.equal(rcv.requests[0].headers['x-logward-signature'], undefined);
  });

  test('500 then 200: retried after the backoff, delivered once', async () => {
    const rcv = await receiver([500]);
    const { o, clock, records } = setup({ url: rcv.url, secret: SECRET });
    const msg = hook();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    assert.match(records().find((r) => r.level === 'warn').msg, /webhook http:\/\/127\.0\.0\.1:\d+\/… answered HTTP 500; will retry/);
    const rec = JSON.parse(fs.readFileSync(path.join(o.dir, 'pending', fileName(msg.id)), 'utf8'));
    assert.equal(rec.attempts, 1);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 0 }, 'not due before its backoff');
    clock.set(rec.nextAttemptAt);
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 0 });
    assert.equal(rcv.requests.length, 2);
    assert.equal(rcv.requests[1].raw, rcv.requests[0].raw, 'the retry posts the same body');
    assert.equal(rcv.requests[1].headers['x-logward-id'], msg.id);
  });

  test('429 and 408 are retried; 404 is dead-lettered and logged as an error', async () => {
    const rcv = await receiver([429, 408, 404]);
    const { o, clock, records } = setup({ url: rcv.url });
    const a = hook();
    o.enqueue(a);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    clock.advance(80);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    clock.advance(150);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 1 });
    const dead = JSON.parse(fs.readFileSync(path.join(o.dir, 'dead', fileName(a.id)), 'utf8'));
    assert.equal(dead.attempts, 3);
    assert.match(dead.error, /answered HTTP 404; not retried/);
    assert.ok(records().some((r) => r.level === 'error' && r.id === a.id));
    assert.equal(o.pendingCount(), 0);
  });

  test('a hanging receiver: the request times out (webhook.timeout_secs), then the retry is delivered', async () => {
    const rcv = await receiver(['hang']);
    const { o, clock, records } = setup({ url: rcv.url, timeout_secs: 0.3 });
    const msg = hook();
    o.enqueue(msg);
    const t0 = Date.now();
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    assert.ok(Date.now() - t0 < 2000, 'the timeout ended the request');
    assert.match(records().find((r) => r.level === 'warn').msg, /no answer within 0\.3 s \(webhook\.timeout_secs\); will retry/);
    clock.advance(80);
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(rcv.requests.length, 2);
  });

  test('started, the outbox retries on its own until the receiver accepts', async () => {
    const rcv = await receiver([503, 503]);
    // Real timers and the real clock: the delivery loop schedules its own retries.
    const { o } = setup({ url: rcv.url }, systemClock);
    o.start();
    const msg = hook();
    o.enqueue(msg);
    const deadline = Date.now() + 5000;
    while (o.pendingCount() > 0 && Date.now() < deadline) await sleep(20);
    await o.stop();
    assert.equal(o.pendingCount(), 0);
    assert.equal(rcv.requests.length, 3);
  });

  test('without webhook.url a webhook message is dropped with a debug log', async () => {
    const { o, records } = setup({ url: null });
    const msg = hook();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 0 });
    assert.equal(o.pendingCount(), 0);
    assert.ok(records().some((r) => r.level === 'debug' && /dropped: webhook\.url is not set/.test(r.msg)));
  });
});
