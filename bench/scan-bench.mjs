#!/usr/bin/env node
// `npm run bench`: full `logward scan` (parse, timestamps, every builtin rule, windows,
// reports) on a 1M-line auth.log and a 1M-line nginx access log, against the plain-Node
// baseline (node-baseline.mjs --mode fast) on the same files in the same run.
// Prints lines/s, MB/s, peak RSS and the ratio logward/baseline (median of RUNS runs).
// The data is generated once (deterministic) into bench/.cache/.
//   LOGWARD_BENCH_LINES=200000 npm run bench    smaller files
//   LOGWARD_BENCH_RUNS=5                        more runs

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const shared = process.env.LOGWARD_SHARED ?? path.resolve(root, '../shared');
const LINES = Number(process.env.LOGWARD_BENCH_LINES ?? 1_000_000);
const RUNS = Number(process.env.LOGWARD_BENCH_RUNS ?? 3);
const cache = path.join(here, '.cache');
fs.mkdirSync(cache, { recursive: true });

function generate(gen, name) {
  const out = path.join(cache, name);
  if (!fs.existsSync(out)) {
    const r = spawnSync(process.execPath, [path.join(shared, 'bench', gen), '--lines', String(LINES), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${gen} failed`);
  }
  return out;
}

function timed(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(here, 'peak.mjs'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const peak = JSON.parse(r.stderr.trim().split('\n').pop()).peakRssMB;
  return { ms, peak, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(label, args) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(timed(args));
  return { label, ms: median(runs.map((r) => r.ms)), peak: Math.max(...runs.map((r) => r.peak)), stdout: runs[0].stdout };
}

const files = [
  ['auth.log', generate('gen-authlog.mjs', `auth-${LINES}.log`)],
  ['access.log', generate('gen-accesslog.mjs', `access-${LINES}.log`)],
];
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-bench-'));
console.log(`logward scan benchmark: ${LINES.toLocaleString('en')} lines per file, median of ${RUNS} runs, node ${process.version}, ${os.cpus().length} cpus`);
console.log('file        what                       lines/s      MB/s   peak RSS   ratio');
const results = [];
for (const [name, file] of files) {
  const bytes = fs.statSync(file).size;
  const base = measure('baseline fast', [path.join(shared, 'bench', 'node-baseline.mjs'), '--mode', 'fast', file]);
  const lw = measure('logward scan', [path.join(root, 'dist', 'cli.js'), 'scan', file, '--config', path.join(root, 'config', 'logward.yaml'), '--out', outDir, '--timezone', 'UTC', '--year', '2024', '--json']);
  const summary = JSON.parse(lw.stdout);
  if (summary.lines_read !== LINES) throw new Error(`logward read ${summary.lines_read} lines, expected ${LINES}`);
  for (const r of [base, lw]) {
    const lps = LINES / (r.ms / 1000);
    const mbps = bytes / 1e6 / (r.ms / 1000);
    const ratio = r === lw ? (base.ms / lw.ms).toFixed(2) + 'x' : '1.00x';
    console.log(`${name.padEnd(11)} ${r.label.padEnd(22)} ${Math.round(lps).toLocaleString('en').padStart(11)} ${mbps.toFixed(1).padStart(9)} ${String(r.peak).padStart(7)} MB ${ratio.padStart(7)}`);
  }
  console.log(`${''.padEnd(11)} (logward: ${summary.events} events, ${summary.alerts.length} alerts, ${summary.lines_not_parsed} lines not parsed)`);
  results.push({ file: name, lines: LINES, bytes, baseline: { ms: base.ms, peakRssMB: base.peak }, logward: { ms: lw.ms, peakRssMB: lw.peak }, ratio: base.ms / lw.ms });
}
fs.rmSync(outDir, { recursive: true, force: true });
fs.writeFileSync(path.join(cache, 'last-scan-bench.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('Targets: ratio >= 0.50x (logward lines/s over the baseline\'s), peak RSS < 150 MB.');
