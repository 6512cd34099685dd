#!/usr/bin/env node
// Offline IP enrichment: load time, memory after load (RSS, heap, the ASN table's own
// bytes) and lookups per second over 100,000 distinct public addresses (deterministic:
// a fixed-seed generator; special ranges skipped). Run with `npm run bench:enrich`.
//   node --expose-gc bench/enrich-bench.mjs [--count N]

import { Enricher, formatOrigin } from '../dist/enrich/index.js';
import { specialLabel } from '../dist/enrich/special.js';
import { createLogger } from '../dist/util/logger.js';
import { systemClock } from '../dist/util/clock.js';

const countArg = process.argv.indexOf('--count');
const COUNT = countArg > 0 ? Number(process.argv[countArg + 1]) : 100_000;
const MB = (n) => (n / 1048576).toFixed(1);
const gc = () => globalThis.gc?.();

// xorshift32, fixed seed: the same addresses on every run.
let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
};
const ips = new Set();
while (ips.size < COUNT) {
  const n = rnd();
  const ip = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  if (specialLabel(ip) === null) ips.add(ip);
}
const v6 = [];
for (let i = 0; v6.length < COUNT / 10; i++) {
  const h = () => (rnd() & 0xffff).toString(16);
  v6.push(`2${(rnd() & 0xfff).toString(16).padStart(3, '0')}:${h()}:${h()}::${h()}`);
}
const list = [...ips];

gc();
const before = process.memoryUsage();
const t0 = performance.now();
const config = { enrich: { enabled: true, provider: 'none', baseUrl: null, timeoutMs: 3000, deadlineMs: 5000, concurrency: 4, cacheFile: 'data/ip-cache.json', cacheTtlMs: 1, negativeTtlMs: 1, cacheMaxEntries: 1, breakerFailures: 5, breakerMs: 1 } };
const e = await Enricher.open(config, { log: createLogger({ level: 'silent' }), clock: systemClock, env: {} });
const loadMs = performance.now() - t0;
gc();
const after = process.memoryUsage();

function run(addrs) {
  let known = 0;
  let withAsn = 0;
  let chars = 0;
  const t = performance.now();
  for (const ip of addrs) {
    const o = e.lookupOffline(ip);
    if (o.country !== null) known++;
    if (o.asn !== null) withAsn++;
    chars += formatOrigin(o)?.length ?? 0;
  }
  const ms = performance.now() - t;
  return { ms, rate: addrs.length / (ms / 1000), known, withAsn, chars };
}
run(list.slice(0, 5000)); // warm-up
const r4 = run(list);
const r6 = run(v6);
const t1 = performance.now();
for (let i = 0; i < 1000; i++) await e.lookup(list[i]);
const asyncRate = 1000 / ((performance.now() - t1) / 1000);
gc();
const end = process.memoryUsage();
await e.close();

const rows = [
  ['load (ASN table + GeoLite2)', `${loadMs.toFixed(0)} ms`],
  ['ASN table', `${e.stats.asnRanges.toLocaleString('en-US')} ranges, ${MB(e.stats.asnBytes)} MB`],
  ['RSS after load', `${MB(after.rss)} MB (+${MB(after.rss - before.rss)} MB)`],
  ['heap used after load', `${MB(after.heapUsed)} MB (+${MB(after.heapUsed - before.heapUsed)} MB)`],
  ['array buffers after load', `${MB(after.arrayBuffers)} MB (GeoLite2 files and the ASN arrays)`],
  [`IPv4 lookupOffline, ${list.length.toLocaleString('en-US')} distinct`, `${Math.round(r4.rate).toLocaleString('en-US')}/s (${r4.ms.toFixed(0)} ms; ${(100 * r4.known / list.length).toFixed(1)}% with a country, ${(100 * r4.withAsn / list.length).toFixed(1)}% with an ASN)`],
  [`IPv6 lookupOffline, ${v6.length.toLocaleString('en-US')} distinct`, `${Math.round(r6.rate).toLocaleString('en-US')}/s (${(100 * r6.known / v6.length).toFixed(1)}% with a country, ${(100 * r6.withAsn / v6.length).toFixed(1)}% with an ASN)`],
  ['async lookup(), provider none, 1,000', `${Math.round(asyncRate).toLocaleString('en-US')}/s`],
  ['RSS / heap at the end', `${MB(end.rss)} MB / ${MB(end.heapUsed)} MB`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`| ${'what'.padEnd(w)} | result |\n|${'-'.repeat(w + 2)}|---|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
console.log(`\n(Node ${process.version}, GeoLite2 built ${e.stats.geoBuilt?.toISOString().slice(0, 10)})`);
