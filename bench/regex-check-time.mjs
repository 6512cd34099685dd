// Times the catastrophic-backtracking check over every builtin pattern: what each start
// pays, since config load compiles and checks every rule. Run after `npm run build`:
//   node bench/regex-check-time.mjs
// Prints the first loadConfig of config/logward.yaml (every pattern checked cold, in a
// fresh process, JIT warm-up included) and then backtrackRisk alone over the same
// patterns in rounds (a no-op flag varies the memo key so each round checks afresh):
// CPU time per round, minimum and median, which a busy machine disturbs less than wall time.

import { performance } from 'node:perf_hooks';

const { loadConfig } = await import('../dist/config/load.js');
const { backtrackRisk } = await import('../dist/core/regex/safety.js');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const config = loadConfig('config/logward.yaml', { env: {} });
const load = { wall: performance.now() - t0, cpu: process.cpuUsage(cpu0).user / 1000 };

const sources = [];
for (const m of config.detection.matchers) {
  const flags = m.caseInsensitive ? 'i' : '';
  for (const src of [...m.patterns.map((p) => p.regex), ...m.ignore]) sources.push([src, flags]);
}
const rounds = [];
const slowest = new Map();
for (const extra of ['g', 'd', 'gd', 'dg', 'y', 'gy', 'yg', 'dy', 'yd']) {
  const c0 = process.cpuUsage();
  for (const [src, flags] of sources) {
    const s = performance.now();
    const risk = backtrackRisk(src, `${flags}${extra}`);
    slowest.set(src, Math.min(slowest.get(src) ?? Infinity, performance.now() - s));
    if (risk !== null && extra === 'g') console.log(`REFUSED ${src}: ${risk.message}`);
  }
  rounds.push(process.cpuUsage(c0).user / 1000);
}
rounds.sort((a, b) => a - b);
const [worst, ms] = [...slowest.entries()].sort((a, b) => b[1] - a[1])[0];
console.log(`loadConfig (cold): ${load.wall.toFixed(0)} ms wall, ${load.cpu.toFixed(0)} ms CPU`);
console.log(`check of ${sources.length} patterns: min ${rounds[0].toFixed(0)} ms, median ${rounds[Math.floor(rounds.length / 2)].toFixed(0)} ms CPU per round; slowest pattern ${ms.toFixed(1)} ms: ${worst.slice(0, 70)}`);
