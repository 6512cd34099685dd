// Small helpers shared by the daemon benchmarks: cached data generation, temporary
// configurations, /proc readings, percentiles and table printing.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const root = path.resolve(here, '..');
export const shared = process.env.LOGWARD_SHARED ?? path.resolve(root, '../shared');
export const cache = path.join(here, '.cache');
export const cli = path.join(root, 'dist', 'cli.js');

/** The generated file bench/.cache/<name>, made once (same names as scan-bench.mjs uses). */
export function generate(gen, name, lines) {
  fs.mkdirSync(cache, { recursive: true });
  const out = path.join(cache, name);
  if (!fs.existsSync(out)) {
    const r = spawnSync(process.execPath, [path.join(shared, 'bench', gen), '--lines', String(lines), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${gen} failed`);
  }
  return out;
}

/**
 * A logward configuration in dir/logward.yaml: the builtin rules (absolute path), UTC,
 * a fixed year, reports and state inside dir, no configured sources unless given.
 */
export function writeConfig(dir, { year, sources = [], limits = null, overrides = null, pollSecs = 5, checkpointSecs = 2, level = 'info' }) {
  const lines = [
    'rules:',
    `  files: [${JSON.stringify(path.join(root, 'config', 'rules', '*.yaml'))}]`,
  ];
  if (overrides !== null) lines.push(`  overrides: ${JSON.stringify(overrides)}`);
  lines.push(`input: { timezone: UTC, year: ${year} }`);
  if (limits !== null) lines.push(`limits: ${JSON.stringify(limits)}`);
  lines.push(
    `reports: { dir: ${JSON.stringify(path.join(dir, 'reports'))} }`,
    `sources: ${JSON.stringify(sources)}`,
    `state: { dir: ${JSON.stringify(path.join(dir, 'state'))} }`,
    `run: { poll_secs: ${pollSecs}, checkpoint_secs: ${checkpointSecs} }`,
    `log: { level: ${level} }`,
    '',
  );
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a whole process (every thread), in seconds. */
export function cpuSeconds(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Context switches: of the main thread (/proc/pid/status) and summed over every thread. */
export function ctxSwitches(pid) {
  const read = (file) => {
    const t = fs.readFileSync(file, 'utf8');
    return { vol: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(t)[1]), invol: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(t)[1]) };
  };
  const main = read(`/proc/${pid}/status`);
  let allVol = 0, allInvol = 0, threads = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const c = read(`/proc/${pid}/task/${tid}/status`);
      allVol += c.vol;
      allInvol += c.invol;
      threads++;
    } catch {
      // thread ended meanwhile
    }
  }
  return { mainVol: main.vol, mainInvol: main.invol, allVol, allInvol, threads };
}

export function rssMB(pid) {
  const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(t)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

export function pct(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const r1 = (x) => Math.round(x * 10) / 10;
export const r2 = (x) => Math.round(x * 100) / 100;
export const fmtInt = (x) => Math.round(x).toLocaleString('en');

/** Prints a table: header row, then rows (arrays of cells); numbers right-aligned. */
export function table(title, head, rows) {
  const all = [head, ...rows].map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(all[0]));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => (n < 10 ? `0${n}` : String(n));
let stampSec = -1;
/**
 * The first `count` lines of a generated auth.log without their 15-character stamp, for a
 * writer that puts the current one in front at write time.
 */
export function loadNoise(file, count) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(Math.min(fs.fstatSync(fd).size, count * 260));
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const lines = buf.latin1Slice(0, n).split('\n');
  lines.pop(); // possibly partial
  return lines.slice(0, count).map((l) => l.slice(15));
}

let stampStr = '';
/** RFC 3164 stamp of the current UTC time ("Mar  1 00:00:13"), recomputed once a second. */
export function syslogStamp() {
  const s = Math.floor(Date.now() / 1000);
  if (s !== stampSec) {
    const d = new Date(s * 1000);
    const day = d.getUTCDate();
    stampStr = `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    stampSec = s;
  }
  return stampStr;
}

export const verdict = (ok) => (ok ? 'PASS' : 'MISS');
