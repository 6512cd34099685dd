import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Enricher } from '../../dist/enrich/index.js';
import { createLogger } from '../../dist/util/logger.js';
import { ROOT } from '../helpers/cli.mjs';

const TOKEN = 'tok-s3cret-abc';

/** A local server playing ipinfo (/<ip>?token=) and ipapi (/<ip>/json/); a test sets how it answers each address. */
let server;
let base;
const requests = [];
const behave = new Map();
let inFlight = 0;
let maxInFlight = 0;

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/([^/]+)(\/json\/)?$/.exec(url.pathname);
    const ip = m ? decodeURIComponent(m[1]) : '';
    requests.push({ ip, at: Date.now(), token: url.searchParams.get('token'), ipapi: m?.[2] !== undefined });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const b = behave.get(ip) ?? { kind: 'ok' };
    const n = requests.filter((r) => r.ip === ip).length;
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const good = () => (m?.[2]
      ? send(200, { ip, city: 'Mountain View', region: 'California', country_code: 'US', timezone: 'America/Los_Angeles', asn: 'AS15169', org: 'Google LLC' })
      : send(200, { ip, city: 'Mountain View', region: 'California', country: 'US', loc: '37.4,-122.1', org: 'AS15169 Google LLC', timezone: 'America/Los_Angeles' }));
    switch (b.kind) {
      case 'ok': return good();
      case '429-once': return n === 1 ? send(429, { error: 'rate limited' }, { 'retry-after': '1' }) : good();
      case '500': return send(500, 'internal error');
      case 'garbage': return send(200, '<html>not json');
      case 'slow': { const t = setTimeout(good, b.ms); res.on('close', () => clearTimeout(t)); return; }
      case 'hold': { const t = setTimeout(good, 150); res.on('close', () => clearTimeout(t)); return; }
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

function config(dir, over = {}) {
  return {
    enrich: {
      enabled: true, provider: 'ipinfo', baseUrl: base, timeoutMs: 3000, deadlineMs: 5000, concurrency: 4,
      cacheFile: path.join(dir, 'ip-cache.json'), cacheTtlMs: 3_600_000, negativeTtlMs: 600_000, cacheMaxEntries: 1000,
      breakerFailures: 5, breakerMs: 300_000, ...over,
    },
  };
}

function setup(over, envExtra = { IPINFO_TOKEN: TOKEN }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-enrich-'));
  const lines = [];
  const log = createLogger({ level: 'debug', destination: { write: (l) => lines.push(l) } });
  const clock = { t: Date.now(), now() { return this.t; } };
  return { dir, lines, clock, open: () => Enricher.open(config(dir, over), { log, clock, env: envExtra, backoffMs: 50 }) };
}

const sent = (ip) => requests.filter((r) => r.ip === ip);

test('special addresses are labelled and never sent to the provider', async () => {
  const s = setup();
  const e = await s.open();
  const before = requests.length;
  for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.1.1', '192.0.2.45', '198.51.100.33', '203.0.113.10', '2001:db8::1', '224.0.0.1', '0.0.0.0', '255.255.255.255', 'fd00::1', '::1', 'fe80::1', '::ffff:10.1.1.1']) {
    const o = await e.lookup(ip);
    assert.notEqual(o.special, null, ip);
    assert.equal(o.source, 'special');
  }
  assert.equal((await e.lookup('203.0.113.10')).special, 'documentation');
  assert.equal((await e.lookup('::ffff:10.1.1.1')).special, 'private');
  assert.equal(requests.length, before, 'no request for a special address');
  await e.close();
});

test('ipinfo answers fill what the offline data lacks, with the token, and are cached across restarts', async () => {
  const s = setup();
  const e = await s.open();
  const off = e.lookupOffline('8.8.8.4');
  assert.equal(off.source, 'offline');
  assert.equal(off.city, null, 'the bundled data has no city for this address, so it goes online');
  const o = await e.lookup('8.8.8.4');
  assert.equal(o.source, 'ipinfo');
  assert.equal(o.country, 'US');
  assert.equal(o.asn, 15169);
  assert.equal(o.city, 'Mountain View');
  assert.equal(o.region, 'California');
  assert.equal(o.timeZone, 'America/Chicago', 'the offline time zone is kept; online only fills gaps');
  assert.equal(sent('8.8.8.4').at(-1).token, TOKEN);
  await e.close();
  assert.ok(!s.lines.join('').includes(TOKEN), 'the token never reaches a log line');
  assert.ok(!fs.readFileSync(path.join(s.dir, 'ip-cache.json'), 'utf8').includes(TOKEN));
  const n = sent('8.8.8.4').length;
  const again = await s.open();
  const c = await again.lookup('8.8.8.4');
  assert.equal(c.source, 'cache');
  assert.equal(c.city, 'Mountain View');
  assert.equal(again.lookupOffline('8.8.8.4').city, 'Mountain View');
  assert.equal(sent('8.8.8.4').length, n, 'a cached address is not asked again');
  assert.deepEqual(again.cacheCounters, { hits: 2, misses: 0 }, 'both lookups after the restart were answered by the cache');
  assert.equal(e.cacheCounters.misses >= 1, true, 'the first run missed the cache before asking ipinfo');
  await again.close();
});

test('ipapi answers are read from its own shape', async () => {
  const s = setup({ provider: 'ipapi' }, {});
  const e = await s.open();
  const o = await e.lookup('8.8.8.8');
  assert.equal(o.source, 'ipapi');
  assert.equal(o.city, 'Mountain View');
  assert.equal(o.asn, 15169);
  assert.ok(sent('8.8.8.8').at(-1).ipapi);
  await e.close();
});

test('a 429 is retried after its Retry-After', async () => {
  const s = setup();
  behave.set('8.8.8.9', { kind: '429-once' });
  const e = await s.open();
  const o = await e.lookup('8.8.8.9');
  const r = sent('8.8.8.9');
  assert.equal(r.length, 2);
  assert.ok(r[1].at - r[0].at >= 950, `retried after ${r[1].at - r[0].at} ms`);
  assert.equal(o.source, 'ipinfo');
  assert.equal(o.city, 'Mountain View');
  await e.close();
});

test('5xx answers are retried, then the breaker opens and no request is made while it is open', async () => {
  const s = setup({ breakerFailures: 3, breakerMs: 60_000 });
  for (const ip of ['8.8.8.11', '8.8.8.12', '8.8.8.13']) behave.set(ip, { kind: '500' });
  const e = await s.open();
  const o = await e.lookup('8.8.8.11');
  assert.equal(o.source, 'offline');
  assert.equal(o.asn, 15169);
  assert.equal(sent('8.8.8.11').length, 3, 'one request and two retries');
  assert.ok(s.lines.some((l) => /"level":"warn"/.test(l) && /not asked again/.test(l)), 'the breaker opening is logged');
  const p = await e.lookup('8.8.8.12');
  assert.equal(p.source, 'offline');
  assert.equal(sent('8.8.8.12').length, 0, 'no request while the breaker is open');
  s.clock.t += 61_000;
  await e.lookup('8.8.8.13');
  assert.equal(sent('8.8.8.13').length, 1, 'after breaker_secs one trial request, which fails and reopens it');
  await e.lookup('8.8.8.12');
  assert.equal(sent('8.8.8.12').length, 0);
  await e.close();
});

test('a lookup whose answer is slower than the deadline resolves in time with offline data; the late answer is cached', async () => {
  const s = setup();
  behave.set('8.8.8.22', { kind: 'slow', ms: 800 });
  const e = await s.open();
  const t0 = Date.now();
  const o = await e.lookup('8.8.8.22', 200);
  const took = Date.now() - t0;
  assert.ok(took < 600, `resolved after ${took} ms`);
  assert.equal(o.source, 'offline');
  assert.equal(o.country, 'US');
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(e.lookupOffline('8.8.8.22').source, 'cache');
  await e.close();
});

test('an answer that is not JSON does not crash and leaves a short negative cache entry', async () => {
  const s = setup();
  behave.set('8.8.8.33', { kind: 'garbage' });
  const e = await s.open();
  const o = await e.lookup('8.8.8.33');
  assert.equal(o.source, 'offline');
  assert.equal(sent('8.8.8.33').length, 1, 'not retried');
  await e.lookup('8.8.8.33');
  assert.equal(sent('8.8.8.33').length, 1, 'the failure is cached');
  await e.close();
  const entry = JSON.parse(fs.readFileSync(path.join(s.dir, 'ip-cache.json'), 'utf8')).entries['8.8.8.33'];
  assert.equal(entry.answer, null);
  assert.match(entry.error, /not JSON/);
  s.clock.t += 11 * 60_000;
  const later = await s.open();
  await later.lookup('8.8.8.33');
  assert.equal(sent('8.8.8.33').length, 2, 'asked again after the negative TTL');
  await later.close();
});

test('no more than enrich.concurrency requests run at once, and one address is asked once at a time', async () => {
  const s = setup({ concurrency: 2 });
  const ips = Array.from({ length: 8 }, (_, i) => `8.8.8.${i + 51}`);
  for (const ip of ips) behave.set(ip, { kind: 'hold' });
  const e = await s.open();
  maxInFlight = 0;
  const res = await Promise.all([...ips, ...ips].map((ip) => e.lookup(ip)));
  assert.ok(res.every((o) => o.source === 'ipinfo'));
  assert.equal(maxInFlight, 2);
  for (const ip of ips) assert.equal(sent(ip).length, 1, ip);
  await e.close();
});

test('two processes saving the same cache file at once both keep their entries in one valid file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-enrich-2p-'));
  const file = path.join(dir, 'ip-cache.json');
  const script = (prefix) => `
    import { OriginCache } from ${JSON.stringify(path.join(ROOT, 'dist/enrich/cache.js'))};
    import { createLogger } from ${JSON.stringify(path.join(ROOT, 'dist/util/logger.js'))};
    const log = createLogger({ level: 'silent' });
    const c = OriginCache.open(${JSON.stringify(file)}, { ttlMs: 3600000, negativeTtlMs: 600000, maxEntries: 100000, clock: { now: () => Date.now() }, log });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) c.set('${prefix}.' + round + '.' + i, 'ipinfo', { country: 'US', region: null, city: null, timeZone: null, asn: ${prefix}, org: 'p${prefix}' });
      if (!c.save()) process.exit(3);
    }`;
  const run = (prefix) => new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script(prefix)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => resolve({ code, err }));
  });
  const [a, b] = await Promise.all([run(11), run(22)]);
  assert.deepEqual([a.code, b.code], [0, 0], a.err + b.err);
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const keys = Object.keys(doc.entries);
  assert.equal(keys.filter((k) => k.startsWith('11.')).length, 1000);
  assert.equal(keys.filter((k) => k.startsWith('22.')).length, 1000);
  assert.deepEqual(fs.readdirSync(dir), ['ip-cache.json']);
});

test('a corrupt cache file does not stop enrichment: it is moved aside with a warning', async () => {
  const s = setup();
  fs.writeFileSync(path.join(s.dir, 'ip-cache.json'), 'not json at all');
  const e = await s.open();
  const o = await e.lookup('8.8.8.4');
  assert.equal(o.source, 'ipinfo');
  await e.close();
  assert.ok(s.lines.some((l) => /"level":"warn"/.test(l) && /corrupt/.test(l)));
  assert.ok(fs.readdirSync(s.dir).some((f) => f.startsWith('ip-cache.json.corrupt-')));
  assert.ok(JSON.parse(fs.readFileSync(path.join(s.dir, 'ip-cache.json'), 'utf8')).entries['8.8.8.4']);
});
