import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OriginCache } from '../../dist/enrich/cache.js';
import { createLogger } from '../../dist/util/logger.js';

const HOUR = 3_600_000;
const answer = (org) => ({ country: 'US', region: null, city: null, timeZone: 'America/Chicago', asn: 15169, org });

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cache-'));
  const lines = [];
  const log = createLogger({ level: 'debug', destination: { write: (l) => lines.push(JSON.parse(l)) } });
  const clock = { t: Date.UTC(2025, 0, 1), now() { return this.t; } };
  return { dir, file: path.join(dir, 'ip-cache.json'), lines, log, clock };
}

const opts = (s, extra = {}) => ({ ttlMs: 2 * HOUR, negativeTtlMs: 10 * 60_000, maxEntries: 100, clock: s.clock, log: s.log, ...extra });

test('cached answers survive a restart and expire after the TTL; failures expire after the negative TTL', () => {
  const s = setup();
  const a = OriginCache.open(s.file, opts(s));
  a.set('8.8.8.8', 'ipinfo', answer('Google LLC'));
  a.set('9.9.9.9', 'ipinfo', null, 'ipinfo: HTTP 500 for 9.9.9.9');
  assert.ok(a.save());
  const b = OriginCache.open(s.file, opts(s));
  assert.equal(b.get('8.8.8.8').answer.org, 'Google LLC');
  assert.equal(b.get('9.9.9.9').answer, null);
  s.clock.t += 11 * 60_000;
  assert.equal(b.get('9.9.9.9'), null, 'negative entry past its TTL');
  assert.ok(b.get('8.8.8.8'));
  s.clock.t += 2 * HOUR;
  assert.equal(b.get('8.8.8.8'), null, 'answer past its TTL');
  assert.equal(OriginCache.open(s.file, opts(s)).size, 0);
});

test('beyond the size cap the least recently used entries are evicted, in memory and on disk', () => {
  const s = setup();
  const c = OriginCache.open(s.file, opts(s, { maxEntries: 3 }));
  for (const ip of ['1.0.0.1', '1.0.0.2', '1.0.0.3']) {
    c.set(ip, 'ipapi', answer(ip));
    s.clock.t += 1000;
  }
  assert.ok(c.get('1.0.0.1')); // now the most recently used
  s.clock.t += 1000;
  c.set('1.0.0.4', 'ipapi', answer('4'));
  assert.equal(c.size, 3);
  assert.equal(c.get('1.0.0.2'), null, 'the least recently used went first');
  assert.ok(c.get('1.0.0.1'));
  c.save();
  const doc = JSON.parse(fs.readFileSync(s.file, 'utf8'));
  assert.deepEqual(Object.keys(doc.entries).sort(), ['1.0.0.1', '1.0.0.3', '1.0.0.4']);
});

test('saving merges with entries another process saved meanwhile; the newest fetch of an address wins', () => {
  const s = setup();
  const a = OriginCache.open(s.file, opts(s));
  const b = OriginCache.open(s.file, opts(s));
  a.set('8.8.8.8', 'ipinfo', answer('old'));
  s.clock.t += 1000;
  b.set('8.8.8.8', 'ipinfo', answer('new'));
  b.set('1.1.1.1', 'ipinfo', answer('Cloudflare'));
  a.set('9.9.9.9', 'ipinfo', answer('Quad9'));
  assert.ok(b.save());
  assert.ok(a.save());
  const doc = JSON.parse(fs.readFileSync(s.file, 'utf8'));
  assert.deepEqual(Object.keys(doc.entries).sort(), ['1.1.1.1', '8.8.8.8', '9.9.9.9']);
  assert.equal(doc.entries['8.8.8.8'].answer.org, 'new');
  assert.equal(a.get('1.1.1.1').answer.org, 'Cloudflare', 'a learned what b saved');
  assert.deepEqual(fs.readdirSync(s.dir).sort(), ['ip-cache.json'], 'no lock or temporary file left');
});

test('a corrupt cache file is moved aside with a warning and replaced, never stopping the run', () => {
  const s = setup();
  fs.writeFileSync(s.file, '{"version":1,"entries":{"8.8.8.8":');
  const c = OriginCache.open(s.file, opts(s));
  assert.equal(c.size, 0);
  const aside = fs.readdirSync(s.dir).filter((f) => f.startsWith('ip-cache.json.corrupt-'));
  assert.equal(aside.length, 1);
  assert.equal(fs.readFileSync(path.join(s.dir, aside[0]), 'utf8'), '{"version":1,"entries":{"8.8.8.8":');
  const warn = s.lines.find((l) => l.level === 'warn' && /corrupt/.test(l.msg));
  assert.ok(warn, 'a warning names the corrupt file');
  assert.match(warn.msg, /ip-cache\.json/);
  c.set('8.8.8.8', 'ipinfo', answer('Google LLC'));
  assert.ok(c.save());
  assert.equal(JSON.parse(fs.readFileSync(s.file, 'utf8')).entries['8.8.8.8'].answer.org, 'Google LLC');
});

test('a stale lock left by a crashed process is broken instead of blocking saves', () => {
  const s = setup();
  fs.writeFileSync(`${s.file}.lock`, '12345');
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(`${s.file}.lock`, old, old);
  const c = OriginCache.open(s.file, opts(s));
  c.set('8.8.8.8', 'ipinfo', answer('Google LLC'));
  const t0 = Date.now();
  assert.ok(c.save());
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(fs.existsSync(`${s.file}.lock`), false);
});
