#!/usr/bin/env node
// `npm run bench:run` (and the second half of `npm run bench`): benchmarks of the
// `logward run` daemon, each against a baseline measured in the same run.
//
//  1. latency   append-to-alert latency at 100, 1,000 and 10,000 lines/s. A separate
//               writer process (lib/append-writer.mjs) appends to a followed auth.log;
//               each probe is a burst of failed sshd passwords from a new IP, whose last
//               line makes ssh_bruteforce fire for that IP. Latency = the daemon's ALERT
//               line for that IP arriving on its stdout minus the writer's clock just
//               before the write() of that last line (CLOCK_MONOTONIC in both).
//               Baseline: the plain-Node tailer of /work/shared/bench/tail-latency.mjs
//               (per line: inotify, read, split, one regex, a Map count).
//  2. catchup   `run --once` on a 1M-line auth.log backlog vs `scan` of the same file
//               with the same configuration: whole-process lines/s, best of RUNS,
//               interleaved, a fresh --state-dir each time.
//  3. memory    peak RSS (VmHWM) of `run --once` holding 1M distinct source IPs with 5
//               failed logins each, all inside ssh_bruteforce's window (threshold raised
//               to 6 and limits.max_keys_per_rule raised above 1M in the temporary
//               config, so every key stays open and none is evicted). Baseline:
//               /work/shared/bench/mem-window.mjs (layouts of the same state in plain Node).
//  4. idle      CPU time (utime+stime) and context switches of a caught-up daemon
//               following a few files, over IDLE seconds with no writes, vs an idle
//               `node -e "setInterval(()=>{}, 1000)"`.
//  5. burst     (only when asked for: LOGWARD_RUN_BENCH=burst, npm run bench:burst) a
//               writer process (lib/burst-writer.mjs) appends BURST_RATE lines/s of a
//               generated auth.log to a followed file for BURST_SECONDS while `logward
//               run` tails it. Every second: the daemon's RSS, its read lag (bytes written
//               minus bytes the process has read, from /proc/<pid>/io, so it is measured
//               even while the daemon is too busy to answer) and whether /metrics answers
//               within 1 s. Then: how long until every line was read, and whether the
//               daemon's line count equals the lines written.
// Results: tables on stdout and bench/.cache/run-bench.json.
//
//   LOGWARD_RUN_BENCH=latency,catchup     only these parts (default: the first four)
//   LOGWARD_BENCH_LINES=1000000           catch-up backlog (shared with scan-bench)
//   LOGWARD_RUN_BENCH_RUNS=2              catch-up runs of each side (best is taken)
//   LOGWARD_RUN_BENCH_SECONDS=10          writing time per latency rate
//   LOGWARD_RUN_BENCH_KEYS=1000000        distinct IPs of the memory test
//   LOGWARD_RUN_BENCH_IDLE=12             idle measuring time, seconds
//   LOGWARD_RUN_BENCH_BURST_RATE=100000   lines per second of the burst
//   LOGWARD_RUN_BENCH_BURST_SECONDS=60    length of the burst
//   LOGWARD_RUN_BENCH_BURST_DRAIN=900     longest wait for the daemon to read everything, seconds
//   LOGWARD_RUN_BENCH_DEBUG=1             also print every latency sample, in writing order

import { fork, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  cache, cli, cpuSeconds, ctxSwitches, fmtInt, generate, here, pct, r1, r2, root, rssMB, shared, sleep, syslogStamp, table, verdict, writeConfig,
} from './lib/util.mjs';

const PARTS = (process.env.LOGWARD_RUN_BENCH ?? 'latency,catchup,memory,idle').split(',');
const LINES = Number(process.env.LOGWARD_BENCH_LINES ?? 1_000_000);
const RUNS = Number(process.env.LOGWARD_RUN_BENCH_RUNS ?? 2);
const SECONDS = Number(process.env.LOGWARD_RUN_BENCH_SECONDS ?? 10);
const KEYS = Number(process.env.LOGWARD_RUN_BENCH_KEYS ?? 1_000_000);
const IDLE = Number(process.env.LOGWARD_RUN_BENCH_IDLE ?? 12);
const BURST_RATE = Number(process.env.LOGWARD_RUN_BENCH_BURST_RATE ?? 100_000);
const BURST_SECONDS = Number(process.env.LOGWARD_RUN_BENCH_BURST_SECONDS ?? 60);
const BURST_DRAIN = Number(process.env.LOGWARD_RUN_BENCH_BURST_DRAIN ?? 900);
const RATES = [100, 1000, 10000];
const BURST = 5; // ssh_bruteforce threshold (config/rules/ssh.yaml)
/** Quiet log: probes written line by line (one write() per line, gapMs apart), pauseMs of silence between probes. */
const QUIET = { count: 8, gapMs: 2, pauseMs: 1500 };
const TARGET = { p99ms: 50, catchupRatio: 0.8, peakRssMB: 160, idleCpuPct: 1 };

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-run-bench-'));
const tmp = (name) => {
  const d = path.join(tmpRoot, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const results = { node: process.version, cpus: os.cpus().length, date: new Date().toISOString(), targets: TARGET };
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

console.log(`logward run benchmarks: node ${process.version}, ${os.cpus().length} cpus, parts: ${PARTS.join(', ')}`);

/** Starts `logward run`; lines of its stdout go to onLine(line, arrivalNs). */
function startDaemon(args, onLine) {
  const child = spawn(process.execPath, [cli, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  children.add(child);
  let carry = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    const now = process.hrtime.bigint(); // arrival of this chunk, before any parsing
    const text = carry + d;
    let s = 0;
    for (let e = text.indexOf('\n'); e !== -1; s = e + 1, e = text.indexOf('\n', s)) onLine(text.slice(s, e), now);
    carry = text.slice(s);
  });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((res) => child.on('exit', (code, sig) => { children.delete(child); res({ code, sig, err }); }));
  return { child, exited };
}

async function stopDaemon(d) {
  if (d.child.exitCode === null) d.child.kill('SIGTERM');
  const r = await Promise.race([d.exited, sleep(15000).then(() => null)]);
  if (r === null) { d.child.kill('SIGKILL'); await d.exited; }
  return r;
}

function waitFor(pred, ms, what) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      const v = pred();
      if (v) { clearInterval(iv); resolve(v); } else if (Date.now() - t0 > ms) { clearInterval(iv); reject(new Error(`timed out waiting for ${what}`)); }
    }, 5);
  });
}

// ---------------------------------------------------------------- 1. latency
const ALERT_KEY = /"msg":"ALERT ssh_bruteforce [^"]*ip=(198\.19\.\d+\.\d+)"/;

async function latencyAt(rate, noiseFile) {
  const quiet = rate === 'quiet';
  const dir = tmp(`lat-${rate}`);
  const file = path.join(dir, 'auth.log');
  fs.writeFileSync(file, '');
  const cfg = writeConfig(dir, { year: new Date().getUTCFullYear() });
  const arrivals = new Map();
  let ready = false;
  const d = startDaemon(['--state-dir', path.join(dir, 'state'), '--config', cfg, file], (line, now) => {
    if (line.includes('"msg":"ALERT ssh_bruteforce')) {
      const m = ALERT_KEY.exec(line);
      if (m !== null && !arrivals.has(m[1])) arrivals.set(m[1], now);
    } else if (line.includes('"msg":"Following source."')) ready = true;
  });
  await waitFor(() => ready || d.child.exitCode !== null, 15000, 'the daemon to start');
  if (!ready) throw new Error(`logward run exited: ${(await d.exited).err}`);
  await sleep(1000); // the inotify watches are set up after the first read
  // Warm-up probes (written by this process, not measured): the watch works, code is hot.
  for (let w = 0; w < 3; w++) {
    const ip = `198.19.255.${250 + w}`;
    let text = '';
    for (let b = 0; b < BURST; b++) text += `${syslogStamp()} srv01 sshd[999${w}]: Failed password for invalid user warm from ${ip} port 4000${b} ssh2\n`;
    fs.appendFileSync(file, text);
    await waitFor(() => arrivals.has(ip), 10000, `the warm-up alert ${ip}`);
    await sleep(100); // past the watcher's 50 ms change throttle
  }
  const probesPerSec = rate <= 100 ? 12 : 20;
  const cpu0 = cpuSeconds(d.child.pid);
  const t0 = process.hrtime.bigint();
  const writer = fork(path.join(here, 'lib', 'append-writer.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(writer);
  const done = new Promise((res) => writer.once('message', res));
  writer.send(quiet
    ? { mode: 'quiet', file, count: QUIET.count, burst: BURST, gapMs: QUIET.gapMs, pauseMs: QUIET.pauseMs, probeBase: 1 }
    : { file, rate, seconds: SECONDS, probesPerSec, burst: BURST, noiseFile, probeBase: 1 });
  const w = await done;
  const expect = w.probes.map(([ip]) => ip);
  // Wait for the last alerts (at most poll_secs + 2 s: the safety re-check reads everything).
  await waitFor(() => expect.every((ip) => arrivals.has(ip)), 7000, 'alerts').catch(() => {});
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(d.child.pid) - cpu0;
  await stopDaemon(d);
  const lat = [];
  let missing = 0;
  for (const [ip, ns] of w.probes) {
    const a = arrivals.get(ip);
    if (a === undefined) missing++;
    else lat.push(Number(a - BigInt(ns)) / 1e6);
  }
  if (process.env.LOGWARD_RUN_BENCH_DEBUG) console.log(rate, lat.map((x) => Math.round(x)).join(' '));
  const sorted = Float64Array.from(lat).sort();
  return {
    rate, seconds: quiet ? null : SECONDS, written: w.written, writerSec: r2(w.wallSec), probes: w.probes.length, alerts: lat.length, missing,
    p50ms: r2(pct(sorted, 0.5)), p90ms: r2(pct(sorted, 0.9)), p99ms: r2(pct(sorted, 0.99)), maxms: r2(sorted[sorted.length - 1]),
    daemonCpuPct: r1((cpu / wall) * 100),
  };
}

function tailBaseline() {
  const dir = tmp('tail-baseline');
  const r = spawnSync(process.execPath, [path.join(shared, 'bench', 'tail-latency.mjs'), '--rates', RATES.join(','), '--seconds', String(SECONDS), '--file', path.join(dir, 'tail-test.log')], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) return { error: r.stderr.slice(-500) };
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x.rate, x]));
}

async function latency() {
  const noiseFile = generate('gen-authlog.mjs', `auth-${LINES}.log`, LINES);
  const rows = [];
  for (const rate of RATES) rows.push(await latencyAt(rate, noiseFile));
  rows.push(await latencyAt('quiet', noiseFile));
  const base = tailBaseline();
  results.latency = { method: 'separate writer process; probe = 5 failed sshd passwords from a new IP (last line measured); noise = generated auth.log lines', logward: rows, baseline: base };
  const out = [];
  for (const r of rows) {
    const b = base[r.rate];
    const ok = r.missing === 0 && r.p99ms <= TARGET.p99ms;
    r.pass = ok;
    const label = r.rate === 'quiet' ? 'quiet log' : `${fmtInt(r.rate)}/s`;
    out.push([label, r.rate === 'quiet' ? 'logward run, line-by-line' : 'logward run (to ALERT)', r.probes, r.missing, r.p50ms, r.p99ms, r.maxms, `${r.daemonCpuPct}%`, '', r.rate === 10000 ? `p99<=${TARGET.p99ms}` : `(p99<=${TARGET.p99ms})`, verdict(ok)]);
    if (b !== undefined) {
      out.push(['', 'baseline tail-latency', b.seen, b.written - b.seen, b.p50ms, b.p99ms, b.maxms, `${b.readerCpuPct}%`, '1.00x', '', '']);
      r.p99VsBaseline = r2(r.p99ms / b.p99ms);
      r.p50VsBaseline = r2(r.p50ms / b.p50ms);
      out[out.length - 2][8] = `${r.p99VsBaseline}x`;
    }
  }
  table(`1. Append-to-alert latency (ms), ${SECONDS} s per rate; ratio = p99 / baseline p99 (lower is better)`,
    ['rate', 'what', 'samples', 'missed', 'p50', 'p99', 'max', 'cpu', 'p99 ratio', 'target', 'result'], out);
  if (base.error) console.log(`baseline failed: ${base.error}`);
  console.log('   logward samples: probe bursts (5 failed passwords from a new IP), each matched to its ALERT line; the rest of');
  console.log('   the rate is generated auth.log noise. Baseline samples: every line its plain-Node tailer read.');
  console.log(`   quiet log: ${QUIET.count} probes, each as ${BURST} separate write()s ${QUIET.gapMs} ms apart, then ${QUIET.pauseMs} ms without writes.`);
}

// ---------------------------------------------------------------- 2. catch-up
function timedPeak(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(here, 'peak.mjs'), ...args], { encoding: 'utf8', maxBuffer: 256 << 20, cwd: root });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-1000)}`);
  const peak = JSON.parse(r.stderr.trim().split('\n').pop()).peakRssMB;
  return { ms, peak, stdout: r.stdout };
}

function runSummary(stdout) {
  let lines = 0, alerts = null;
  for (const l of stdout.split('\n')) {
    // Lines read by this process (files and journal), from its stop message.
    if (l.includes('"msg":"logward stopped')) ({ lines, alerts } = JSON.parse(l));
  }
  return { lines, alerts };
}

function catchup() {
  const file = generate('gen-authlog.mjs', `auth-${LINES}.log`, LINES);
  const dir = tmp('catchup');
  const cfg = writeConfig(dir, { year: 2024 });
  const runs = { run: [], scan: [] };
  let check = null;
  for (let i = 0; i < RUNS; i++) {
    const stateDir = fs.mkdtempSync(path.join(dir, 'state-'));
    const a = timedPeak([cli, 'run', '--once', '--state-dir', stateDir, '--config', cfg, file]);
    const b = timedPeak([cli, 'scan', file, '--config', cfg, '--out', path.join(dir, 'reports'), '--json']);
    runs.run.push(a);
    runs.scan.push(b);
    if (i === 0) {
      const rs = runSummary(a.stdout);
      const ss = JSON.parse(b.stdout);
      check = { runLines: rs.lines, runAlerts: rs.alerts, scanLines: ss.lines_read, scanAlerts: ss.alerts.length };
      if (rs.lines !== LINES || ss.lines_read !== LINES) throw new Error(`lines read: run ${rs.lines}, scan ${ss.lines_read}, expected ${LINES}`);
    }
  }
  const best = (xs) => xs.reduce((m, x) => (x.ms < m.ms ? x : m));
  const br = best(runs.run), bs = best(runs.scan);
  const ratio = bs.ms / br.ms;
  const mb = fs.statSync(file).size / 1e6;
  results.catchup = {
    file: path.basename(file), lines: LINES, runs: RUNS, ...check,
    scan: { bestMs: Math.round(bs.ms), linesPerSec: Math.round(LINES / (bs.ms / 1000)), peakRssMB: Math.max(...runs.scan.map((x) => x.peak)), allMs: runs.scan.map((x) => Math.round(x.ms)) },
    run: { bestMs: Math.round(br.ms), linesPerSec: Math.round(LINES / (br.ms / 1000)), peakRssMB: Math.max(...runs.run.map((x) => x.peak)), allMs: runs.run.map((x) => Math.round(x.ms)) },
    ratio: r2(ratio), pass: ratio >= TARGET.catchupRatio,
  };
  const c = results.catchup;
  table(`2. Catch-up: ${fmtInt(LINES)}-line auth.log backlog (${mb.toFixed(0)} MB), best of ${RUNS} interleaved, whole process`,
    ['what', 'best s', 'lines/s', 'MB/s', 'peak RSS MB', 'alerts', 'ratio', 'target', 'result'], [
      ['logward scan (baseline)', (bs.ms / 1000).toFixed(2), fmtInt(c.scan.linesPerSec), (mb / (bs.ms / 1000)).toFixed(1), c.scan.peakRssMB, c.scanAlerts, '1.00x', '', ''],
      ['logward run --once', (br.ms / 1000).toFixed(2), fmtInt(c.run.linesPerSec), (mb / (br.ms / 1000)).toFixed(1), c.run.peakRssMB, c.runAlerts, `${c.ratio}x`, `>=${TARGET.catchupRatio}x`, verdict(c.pass)],
    ]);
  console.log(`   all runs (ms): run ${c.run.allMs.join(', ')}; scan ${c.scan.allMs.join(', ')}`);
}

// ---------------------------------------------------------------- 3. memory
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** N distinct IPs (mem-window.mjs's bijection), 5 rounds of one failed login each, within 500 s. */
function memLog(n) {
  const out = path.join(cache, `mem-keys-${n}.log`);
  if (fs.existsSync(out)) return out;
  const fd = fs.openSync(`${out}.tmp`, 'w');
  const T0 = Date.UTC(2024, 2, 1, 12, 0, 0);
  const MON = 'Mar';
  let chunk = '';
  for (let r = 0; r < 5; r++) {
    for (let i = 0; i < n; i++) {
      const t = new Date(T0 + (r * 100 + Math.floor((i * 100) / n)) * 1000);
      const hh = String(t.getUTCHours()).padStart(2, '0'), mm = String(t.getUTCMinutes()).padStart(2, '0'), ss = String(t.getUTCSeconds()).padStart(2, '0');
      const x = mix32(i + 1);
      chunk += `${MON}  1 ${hh}:${mm}:${ss} srv01 sshd[${1000 + (i % 30000)}]: Failed password for invalid user admin from ${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255} port ${1024 + (i % 60000)} ssh2\n`;
      if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  fs.renameSync(`${out}.tmp`, out);
  return out;
}

function memory() {
  const file = memLog(KEYS);
  const dir = tmp('memory');
  const maxKeys = Math.max(100_000, Math.ceil(KEYS * 1.1));
  // Default limits.max_keys_per_rule is 100,000 (src/config/schema.ts): raised so all KEYS stay held.
  const cfg = writeConfig(dir, { year: 2024, limits: { max_keys_per_rule: maxKeys }, overrides: { ssh_bruteforce: { threshold: BURST + 1 } } });
  let lw;
  try {
    lw = timedPeak([cli, 'run', '--once', '--state-dir', path.join(dir, 'state'), '--config', cfg, file]);
  } catch (err) {
    lw = { error: String(err.message).slice(-600) };
  }
  const sum = lw.error ? null : runSummary(lw.stdout);
  const base = (() => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(shared, 'bench', 'mem-window.mjs'), '--ips', String(KEYS), '--events', String(BURST)], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) return { error: (r.stderr || 'timeout').slice(-300) };
    return { ms: Date.now() - t0, variants: r.stdout.trim().split('\n').map((l) => JSON.parse(l)) };
  })();
  // The same flood at the shipped key cap: what an operator's daemon does with 1M addresses.
  const capDir = tmp('memory-cap');
  const capCfg = writeConfig(capDir, { year: 2024, overrides: { ssh_bruteforce: { threshold: BURST + 1 } } });
  let capped;
  try {
    capped = timedPeak([cli, 'run', '--once', '--state-dir', path.join(capDir, 'state'), '--config', capCfg, file]);
  } catch (err) {
    capped = { error: String(err.message).slice(-600) };
  }
  const cappedWarned = !capped.error && capped.stdout.includes('max_keys_per_rule keys');
  const pass = !lw.error && lw.peak <= TARGET.peakRssMB;
  results.memory = {
    keys: KEYS, eventsPerKey: BURST, lines: KEYS * BURST, file: path.basename(file), maxKeysPerRule: maxKeys, sshBruteforceThreshold: BURST + 1,
    logward: lw.error ? { error: lw.error } : { peakRssMB: lw.peak, seconds: r1(lw.ms / 1000), linesRead: sum.lines, alerts: sum.alerts },
    baseline: base, pass,
    atDefaultCap: capped.error ? { error: capped.error } : { maxKeysPerRule: 100_000, peakRssMB: capped.peak, seconds: r1(capped.ms / 1000), evictionWarned: cappedWarned },
  };
  const rows = [];
  rows.push(['logward run --once', lw.error ? 'failed' : lw.peak, lw.error ? '-' : Math.round(((lw.peak * 1048576) / KEYS)), '', `<=${TARGET.peakRssMB} MB`, verdict(pass)]);
  rows.push(['logward run --once, default key cap 100,000', capped.error ? 'failed' : capped.peak, '', '', 'bounded by the cap', capped.error ? 'failed' : cappedWarned ? 'evicted, warned' : 'no eviction?']);
  if (!base.error) {
    for (const v of base.variants) rows.push([`baseline mem-window ${v.variant}`, v.rssTotalMB, v.bytesPerIp, v.heapMB, '', '']);
  }
  table(`3. Memory: ${fmtInt(KEYS)} distinct source IPs x ${BURST} failed logins held open in ssh_bruteforce's window (${fmtInt(KEYS * BURST)} lines)`,
    ['what', 'total RSS MB', 'bytes/IP', 'heap MB', 'target', 'result'], rows);
  console.log(`   temp config: limits.max_keys_per_rule ${fmtInt(maxKeys)} (default 100,000), ssh_bruteforce threshold ${BURST + 1} so ${BURST} events per key stay below it; every other rule as shipped.`);
  console.log('   logward: VmHWM of the whole process (peak, includes reading and the shutdown report); bytes/IP = total RSS / IPs.');
  console.log('   baseline: RSS of a Node process holding just the window state after a full GC; bytes/IP = V8 heap per IP.');
  if (lw.error) console.log(`   logward failed: ${lw.error}`);
  else console.log(`   logward read ${fmtInt(sum.lines)} lines in ${r1(lw.ms / 1000)} s, ${sum.alerts} alert(s) (failed_logins, host-wide, is expected to fire once)`);
  if (base.error) console.log(`   baseline failed: ${base.error}`);
}

// ---------------------------------------------------------------- 4. idle
async function measureIdle(pid) {
  const c0 = cpuSeconds(pid), x0 = ctxSwitches(pid), t0 = process.hrtime.bigint();
  await sleep(IDLE * 1000);
  const c1 = cpuSeconds(pid), x1 = ctxSwitches(pid), wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    seconds: r1(wall), cpuMs: Math.round((c1 - c0) * 1000), cpuPct: r2(((c1 - c0) / wall) * 100),
    wakeupsPerSecMain: r1((x1.mainVol - x0.mainVol) / wall), wakeupsPerSecAll: r1((x1.allVol - x0.allVol) / wall), threads: x1.threads,
  };
}

async function idle() {
  const dir = tmp('idle');
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs);
  const sample = path.join(root, 'data', 'sample_logs');
  const names = fs.readdirSync(sample);
  for (const n of names) fs.copyFileSync(path.join(sample, n), path.join(logs, n));
  const cfg = writeConfig(dir, { year: 2025, sources: [{ path: logs, start_at: 'beginning' }] });
  let following = false;
  const d = startDaemon(['--state-dir', path.join(dir, 'state'), '--config', cfg], (line) => {
    if (line.includes('"msg":"Following source."')) following = true;
  });
  await waitFor(() => following || d.child.exitCode !== null, 15000, 'the daemon to catch up');
  if (!following) throw new Error(`logward run exited: ${(await d.exited).err}`);
  await sleep(3000); // watches ready, first checkpoint written
  const lw = await measureIdle(d.child.pid);
  await stopDaemon(d);
  const b = spawn(process.execPath, ['-e', 'setInterval(()=>{}, 1000)'], { stdio: 'ignore' });
  children.add(b);
  await sleep(2000);
  const base = await measureIdle(b.pid);
  b.kill('SIGKILL');
  const pass = lw.cpuPct < TARGET.idleCpuPct;
  results.idle = { files: names, pollSecs: 5, checkpointSecs: 2, logward: lw, baseline: base, pass };
  table(`4. Idle: caught-up daemon following ${names.length} files (${names.join(', ')}), ${IDLE} s without writes`,
    ['what', 'CPU ms', 'CPU %', 'wakeups/s main', 'wakeups/s all threads', 'threads', 'target', 'result'], [
      ['logward run (poll_secs 5, checkpoint_secs 2)', lw.cpuMs, lw.cpuPct, lw.wakeupsPerSecMain, lw.wakeupsPerSecAll, lw.threads, `<${TARGET.idleCpuPct}%`, verdict(pass)],
      ['baseline node setInterval 1 s', base.cpuMs, base.cpuPct, base.wakeupsPerSecMain, base.wakeupsPerSecAll, base.threads, '', ''],
    ]);
  console.log('   CPU from /proc/<pid>/stat utime+stime (10 ms ticks); wakeups = voluntary_ctxt_switches per second.');
}

// ---------------------------------------------------------------- 5. burst
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** GET /metrics within timeoutMs: { lag, lines } of the file source, or null (no answer). */
function scrape(port, file, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const metric = (name) => {
          for (const l of body.split('\n')) {
            if (l.startsWith(`${name}{`) && l.includes(JSON.stringify(file))) return Number(l.slice(l.lastIndexOf(' ') + 1));
          }
          return null;
        };
        resolve({ lag: metric('logward_source_lag_bytes'), lines: metric('logward_source_lines_total') });
      });
    });
    req.on('timeout', () => { req.destroy(); resolve(null); });
    req.on('error', () => resolve(null));
  });
}

function readChars(pid) {
  return Number(/rchar:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
}

async function burst() {
  const noiseFile = generate('gen-authlog.mjs', `auth-${LINES}.log`, LINES);
  const dir = tmp('burst');
  const file = path.join(dir, 'auth.log');
  fs.writeFileSync(file, '');
  const port = await freePort();
  const cfg = writeConfig(dir, { year: new Date().getUTCFullYear(), sources: [{ path: file, start_at: 'beginning' }] });
  fs.appendFileSync(cfg, `http: { enabled: true, host: 127.0.0.1, port: ${port} }\n`);
  let ready = false;
  const d = startDaemon(['--state-dir', path.join(dir, 'state'), '--config', cfg], (line) => {
    if (line.includes('"msg":"Following source."')) ready = true;
  });
  await waitFor(() => ready || d.child.exitCode !== null, 30000, 'the daemon to start');
  if (!ready) throw new Error(`logward run exited: ${(await d.exited).err}`);
  await sleep(1000);
  const pid = d.child.pid;
  const rchar0 = readChars(pid);
  const samples = [];
  let writing = true;
  let written = null;
  const t0 = Date.now();
  const writer = fork(path.join(here, 'lib', 'burst-writer.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(writer);
  const done = new Promise((res) => writer.once('message', res)).then((w) => { writing = false; written = w; return w; });
  writer.send({ file, rate: BURST_RATE, seconds: BURST_SECONDS, noiseFile });
  let drainedAt = null;
  let last = null;
  while (Date.now() - t0 < (BURST_SECONDS + BURST_DRAIN) * 1000) {
    const tick = Date.now();
    const size = fs.statSync(file).size;
    const lag = Math.max(0, size - (readChars(pid) - rchar0));
    const { rss } = rssMB(pid);
    const m = await scrape(port, file, 1000);
    samples.push({ s: r1((tick - t0) / 1000), writing, size, lag, rssMB: rss, answered: m !== null, metricsLag: m?.lag ?? null, lines: m?.lines ?? null });
    if (m !== null) last = m;
    if (!writing && m !== null && m.lag === 0 && m.lines === written.written) {
      drainedAt = (Date.now() - t0) / 1000;
      break;
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await done;
  const hwm = rssMB(pid).hwm;
  const exit = await stopDaemon(d);
  const during = samples.filter((x) => x.writing);
  const bytesPerLine = written.bytes / written.written;
  const maxLag = Math.max(...samples.map((x) => x.lag));
  const res = {
    rate: BURST_RATE, seconds: BURST_SECONDS, written: written.written, bytes: written.bytes, writerSec: r1(written.wallSec), writerWorstBehindLines: written.worstBehind,
    peakRssMB: hwm, maxSampledRssMB: Math.max(...samples.map((x) => x.rssMB)),
    maxLagMB: r1(maxLag / 1048576), maxLagLines: Math.round(maxLag / bytesPerLine), maxLagSeconds: r1(maxLag / (written.bytes / written.wallSec)),
    scrapesDuringBurst: during.length, scrapesAnsweredDuringBurst: during.filter((x) => x.answered).length,
    allRead: drainedAt !== null, linesRead: last?.lines ?? null, readAllAfterSec: drainedAt === null ? null : r1(drainedAt - written.wallSec),
    daemonExit: exit === null ? 'killed' : exit.code, samples,
  };
  results.burst = res;
  table(`5. Burst: ${fmtInt(BURST_RATE)} lines/s for ${BURST_SECONDS} s appended to a followed auth.log (${fmtInt(written.written)} lines, ${r1(written.bytes / 1048576)} MB)`,
    ['what', 'value'], [
      ['writer: lines written / its own worst lag (lines)', `${fmtInt(written.written)} in ${r1(written.wallSec)} s / ${fmtInt(written.worstBehind)}`],
      ['daemon peak RSS (VmHWM) / highest 1 s sample', `${hwm} MB / ${res.maxSampledRssMB} MB`],
      ['largest read lag', `${res.maxLagMB} MB = ${fmtInt(res.maxLagLines)} lines = ${res.maxLagSeconds} s of writing`],
      ['/metrics answered within 1 s during the burst', `${res.scrapesAnsweredDuringBurst} of ${res.scrapesDuringBurst}`],
      ['every line read', res.allRead ? `yes, ${res.readAllAfterSec} s after the writer stopped (${fmtInt(res.linesRead)} lines)` : `no: ${fmtInt(res.linesRead ?? 0)} of ${fmtInt(written.written)} after ${BURST_DRAIN} s`],
      ['daemon exit on SIGTERM', String(res.daemonExit)],
    ]);
  const every = Math.max(1, Math.round(samples.length / 12));
  console.log(`   samples (s: RSS MB, lag MB${samples.some((x) => !x.answered) ? ', * = /metrics did not answer' : ''}): ${samples.filter((_, i) => i % every === 0).map((x) => `${x.s}: ${x.rssMB}, ${r1(x.lag / 1048576)}${x.answered ? '' : '*'}`).join('; ')}`);
  console.log('   lag = bytes written - bytes the daemon process has read (/proc/<pid>/io rchar, includes a little other reading).');
}

// ----------------------------------------------------------------
// The machine may be shared: the load average next to each part tells how quiet it was.
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
results.loadavg = {};
async function part(name, fn) {
  if (!PARTS.includes(name)) return;
  const before = load();
  await fn();
  results.loadavg[name] = { before, after: load() };
  console.log(`   load average before/after: ${before} / ${results.loadavg[name].after}`);
}
const t0 = Date.now();
await part('latency', latency);
await part('catchup', catchup);
await part('memory', memory);
await part('idle', idle);
await part('burst', burst);
results.totalSeconds = Math.round((Date.now() - t0) / 1000);
fs.mkdirSync(cache, { recursive: true });
const jsonFile = path.join(cache, 'run-bench.json');
// Parts not run this time keep their previous results.
let previous = {};
try { previous = JSON.parse(fs.readFileSync(jsonFile, 'utf8')); } catch { /* first run */ }
fs.writeFileSync(jsonFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
console.log(`\nrun-bench: ${results.totalSeconds} s; results in ${path.relative(root, jsonFile)}`);
