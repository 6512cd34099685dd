#!/usr/bin/env node
// `npm run bench:soak`: runs `logward run` for N minutes under steady appends while the
// log is rotated every few seconds (rename-then-create and copytruncate in turn, rotated
// files kept as logrotate keeps them), the daemon is killed with SIGKILL at random and
// started again after a short pause, and the SMTP server goes down for random periods.
// Then it checks what an operator relies on:
//   1. every attack line written produced its event exactly once (per matching rule),
//      and every attacker that crossed ssh_bruteforce's threshold opened exactly one incident;
//   2. no incident was mailed twice, except in the window README's "Delivery guarantees"
//      names (reported apart, with the reason), and every alerted incident was mailed
//      once the last outage was over;
//   3. the daemon's RSS stayed flat over its longest-lived process.
// It prints the counts and a table of verdicts, writes bench/.cache/soak.json, and exits
// 1 when a check fails. Not part of `npm test`.
//
// Options (argv `--minutes 2`, or env LOGWARD_SOAK_MINUTES=2):
//   minutes 10          writing time
//   rate 200            lines/s; attack-share 0.1 of them are attack lines
//   rotate-secs 5       rotation interval; keep 5 rotated files
//   copytruncate 1      rename-then-create and copytruncate in turn (0: rename-then-create only)
//   kill-min 20, kill-max 60     seconds between two kill -9 ...
//   pause-min 0.5, pause-max 3   ... and before the restart
//   kill-on-mail 0.3    share of the kills made just after the SMTP server accepted a mail,
//                       before its reply reaches the daemon (the documented duplicate window)
//   kill-until 0.7      no kill after this fraction of the run, so one process lives long
//                       enough for the memory check
//   up-min 20, up-max 60, down-min 5, down-max 30   SMTP server up and down periods, s
//   growth-mb 16, growth-pct 15  RSS growth allowed over the longest life (the larger wins)
//   seed 1, enrich 1 (0: enrich.enabled false), keep-dir 0 (1: keep the temp directory)
// LOGWARD_SOAK_DIST=DIR runs another build of dist/ (e.g. of one commit) instead of ./dist.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cache, cli as builtCli, cpuSeconds, fmtInt, generate, root, sleep, table } from '../lib/util.mjs';
import { startSink } from './smtp-sink.mjs';
import { Traffic, loadBackground, prng } from './traffic.mjs';
import { checkCampaigns, checkEvents, checkMail, checkMemory, readIncidents } from './check.mjs';

const DEFAULTS = {
  minutes: 10, rate: 200, attackShare: 0.1, rotateSecs: 5, keep: 5, killMin: 20, killMax: 60, pauseMin: 0.5, pauseMax: 3,
  copytruncate: 1, killOnMail: 0.3, killUntil: 0.7, upMin: 20, upMax: 60, downMin: 5, downMax: 30, growthMb: 16, growthPct: 15, seed: 1, enrich: 1, keepDir: 0,
};
function options() {
  const o = { ...DEFAULTS };
  const kebab = (k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const k of Object.keys(o)) {
    const env = process.env[`LOGWARD_SOAK_${kebab(k).replace(/-/g, '_').toUpperCase()}`];
    if (env !== undefined) o[k] = Number(env);
  }
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    const key = m && Object.keys(o).find((k) => kebab(k) === m[1]);
    if (!key) throw new Error(`unknown option ${argv[i]}; see the top of bench/soak/soak.mjs`);
    o[key] = Number(m[2] ?? argv[++i]);
    if (!Number.isFinite(o[key])) throw new Error(`--${m[1]} needs a number`);
  }
  return o;
}

const opt = options();
// One stream per schedule, so the kill and outage times do not depend on how many lines
// were drawn before them: the same seed gives the same schedules and the same lines.
const killRnd = prng(opt.seed * 3 + 1);
const outageRnd = prng(opt.seed * 3 + 2);
const between = (rnd, a, b) => (a + rnd() * (b - a)) * 1000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-soak-'));
const logFile = path.join(dir, 'logs', 'auth.log');
const stateDir = path.join(dir, 'state');
const eventsFile = path.join(dir, 'events.jsonl');
fs.mkdirSync(path.dirname(logFile));
const MIN_SEVERITY = 'low';

// Alert mails at once for every incident (low and up), a limit the run cannot reach (the
// checker still counts folded mails), retries within seconds of an outage's end, no
// digest (its schedule must not decide the mail count), frequent checkpoints.
const cfg = path.join(dir, 'logward.yaml');
fs.writeFileSync(cfg, [
  'rules:',
  `  files: [${JSON.stringify(path.join(root, 'config', 'rules', '*.yaml'))}]`,
  `input: { timezone: UTC, year: ${new Date().getUTCFullYear()} }`,
  `sources: [{ path: ${JSON.stringify(logFile)}, start_at: beginning }]`,
  `state: { dir: ${JSON.stringify(stateDir)} }`,
  `reports: { dir: ${JSON.stringify(path.join(dir, 'reports'))} }`,
  'run: { poll_secs: 2, checkpoint_secs: 1, timezone: UTC, shutdown_timeout_secs: 20 }',
  `mail: { digest: false, alert_min_severity: ${MIN_SEVERITY}, alerts_per_hour: 10000, connect_timeout_secs: 5, greeting_timeout_secs: 5 }`,
  'delivery: { retry_min_secs: 1, retry_max_secs: 8 }',
  `enrich: { enabled: ${opt.enrich ? 'true' : 'false'} }`,
  'log: { level: info }',
  '',
].join('\n'));

/** The rules an attack line feeds, from `logward scan` of one line of each form. */
function attackRules() {
  const probe = path.join(dir, 'probe.log');
  const out = path.join(dir, 'probe-events.jsonl');
  fs.writeFileSync(probe, 'Mar  1 00:00:00 srv01 sshd[1]: Failed password for invalid user soak0 from 198.18.0.1 port 2 ssh2\nMar  1 00:00:01 srv01 sshd[2]: Invalid user soak1 from 198.18.0.1 port 3\n');
  const r = spawnSync(process.execPath, [cli, 'scan', probe, '--config', cfg, '--out', path.join(dir, 'probe-reports'), '--events', out], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`logward scan of the probe lines failed: ${r.stderr}`);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const rules = [...new Set(rows.map((e) => e.rule))].sort();
  for (const u of ['soak0', 'soak1']) {
    if (rows.filter((e) => e.user === u).length !== rules.length) throw new Error(`probe line ${u} did not feed every rule ${rules.join(', ')}`);
  }
  return rules;
}

// A copy of dist/ (and package.json, which dist reads its version from) under bench/.cache:
// a build started elsewhere in the working tree during the run must not swap the code of
// the next restart. Bare imports still resolve to the repository's node_modules.
const snapshot = path.join(cache, 'soak-build');
fs.rmSync(snapshot, { recursive: true, force: true });
fs.mkdirSync(snapshot, { recursive: true });
fs.cpSync(process.env.LOGWARD_SOAK_DIST ?? path.dirname(builtCli), path.join(snapshot, 'dist'), { recursive: true });
fs.copyFileSync(path.join(root, 'package.json'), path.join(snapshot, 'package.json'));
const cli = path.join(snapshot, 'dist', 'cli.js');

const rules = attackRules();
const lines = Math.ceil(opt.rate * opt.minutes * 60 * 1.1);
const background = loadBackground(generate('gen-authlog.mjs', 'auth-1000000.log', 1_000_000), Math.min(lines, 1_000_000));
const sink = await startSink();
const traffic = new Traffic({ file: logFile, rate: opt.rate, attackShare: opt.attackShare, background, keep: opt.keep, rnd: prng(opt.seed * 3) });

// ---------------------------------------------------------------- daemon lifetimes
const lives = [];
let current = null;
let ending = false;
const problems = [];

function startDaemon() {
  const n = lives.length;
  const log = path.join(dir, `daemon-${n}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(process.execPath, [cli, 'run', '--config', cfg, '--events', eventsFile], {
    cwd: root,
    env: { ...process.env, SMTP_HOST: sink.host, SMTP_PORT: String(sink.port), SMTP_TO: 'soak@example.org', SMTP_FROM: 'logward@example.org', LOGWARD_LOG_LEVEL: 'info' },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const life = { n, pid: child.pid, start: Date.now(), end: null, ready: false, how: null, code: null, signal: null, rss: [], cpu: 0, log, child };
  life.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    Object.assign(life, { end: Date.now(), code, signal });
    if (life.how === null) {
      life.how = 'exited by itself';
      problems.push(`daemon ${n} (pid ${life.pid}) exited by itself: code ${code}, signal ${signal}; see ${log}`);
    }
    if (current === life) current = null;
    resolve();
    if (life.how === 'exited by itself' && !ending) setTimeout(() => { if (current === null && !ending) current = startDaemon(); }, 1000);
  }));
  lives.push(life);
  return life;
}

/** Has this daemon caught up once (it is following, not still starting)? */
function reading(life) {
  if (life === null || life.end !== null) return false;
  life.ready ||= fs.readFileSync(life.log, 'utf8').includes('"msg":"Caught up');
  return life.ready;
}

function sample() {
  const l = current;
  if (l === null || l.end !== null) return;
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${l.pid}/status`, 'utf8'))?.[1]);
    if (Number.isFinite(kb)) l.rss.push([Date.now(), Math.round(kb / 102.4) / 10]); // no VmRSS once it is a zombie
    l.cpu = cpuSeconds(l.pid);
  } catch {
    // exiting
  }
}

// ---------------------------------------------------------------- the run
let endRun;
const ended = new Promise((r) => { endRun = r; });
const nap = (ms) => Promise.race([sleep(ms), ended]);
const kills = [];
const loads = [];
const t0 = Date.now();
const runMs = opt.minutes * 60_000;

console.log(`logward soak: ${opt.minutes} min, ${opt.rate} lines/s (${opt.attackShare * 100}% attack lines), rotation every ${opt.rotateSecs} s (${opt.copytruncate ? 'rename and copytruncate' : 'rename only'}), kill -9 every ${opt.killMin}-${opt.killMax} s until ${opt.killUntil * 100}% of the run, SMTP down ${opt.downMin}-${opt.downMax} s every ${opt.upMin}-${opt.upMax} s; seed ${opt.seed}; node ${process.version}, ${os.cpus().length} cpus`);
console.log(`   directory ${dir}; attack lines feed the rules ${rules.join(', ')}`);

current = startDaemon();
// The first daemon must be following before the first line: a file rotated away before
// logward ever saw it is not its to read.
const first = current;
while (!reading(first)) {
  if (first.end !== null) throw new Error(`logward run exited at start; see ${first.log}`);
  await sleep(100);
}
traffic.start(Date.now());
const timers = [
  setInterval(() => traffic.tick(Date.now()), 50),
  setInterval(sample, 1000),
  setInterval(() => loads.push(os.loadavg()[0]), 5000),
];
let rotations = 0;
timers.push(setInterval(() => {
  if (opt.copytruncate && rotations++ % 2 === 1) traffic.copyTruncate(Date.now(), reading(current));
  else traffic.renameCreate(Date.now(), reading(current));
}, opt.rotateSecs * 1000));
const progress = setInterval(() => {
  const s = Math.round((Date.now() - t0) / 1000);
  console.log(`   ${s} s: ${fmtInt(traffic.written)} lines, ${kills.length} kills, ${traffic.rotations.length} rotations, ${sink.outages.length} outages, ${sink.received.length} mails, daemon ${current === null ? 'down' : `pid ${current.pid} ${current.rss.at(-1)?.[1] ?? '?'} MB`}`);
}, 30_000);

const killLoop = (async () => {
  for (;;) {
    await nap(between(killRnd, opt.killMin, opt.killMax));
    if (ending || Date.now() - t0 > opt.killUntil * runMs) return;
    const l = current;
    if (l === null) continue;
    sample();
    // Some kills wait for the next mail and land between the server's acceptance and the
    // daemon seeing it: the one window README allows a duplicate in, made to happen.
    let onMail = false;
    if (killRnd() < opt.killOnMail) {
      onMail = await Promise.race([
        new Promise((resolve) => {
          sink.onAccept = () => {
            sink.onAccept = null;
            if (l.end === null && l.how === null) {
              l.how = 'kill -9';
              l.child.kill('SIGKILL');
            }
            resolve(true);
          };
        }),
        sleep(10_000).then(() => false),
      ]);
      sink.onAccept = null;
    }
    if (l.how === null) {
      l.how = 'kill -9';
      l.child.kill('SIGKILL');
    }
    await l.exited;
    kills.push({ at: Date.now(), life: l.n, onMail });
    await sleep(between(killRnd, opt.pauseMin, opt.pauseMax));
    current = startDaemon();
  }
})();

const outageLoop = (async () => {
  for (;;) {
    await nap(between(outageRnd, opt.upMin, opt.upMax));
    if (ending) return;
    await sink.stop();
    await nap(between(outageRnd, opt.downMin, opt.downMax));
    for (let tries = 0; ; tries++) {
      try {
        await sink.start();
        break;
      } catch (err) {
        if (tries > 50) throw err;
        await sleep(200); // the port is still in TIME_WAIT or taken for a moment
      }
    }
    if (ending) return;
  }
})();

await sleep(runMs);
ending = true;
endRun();
for (const t of timers) clearInterval(t);
clearInterval(progress);
traffic.tick(t0 + runMs); // exactly rate x minutes lines
traffic.close();
await killLoop;
await outageLoop;
if (current === null) current = startDaemon();
const wroteAt = Date.now();

// Caught up and drained: the checkpoint covers the whole file and the outbox is empty.
function caughtUp() {
  try {
    const st = JSON.parse(fs.readFileSync(path.join(stateDir, 'logward-state.json'), 'utf8'));
    const pos = st.files?.[logFile];
    const pending = fs.readdirSync(path.join(stateDir, 'outbox', 'pending')).filter((n) => n.endsWith('.json')).length;
    return pos !== undefined && pos.offset === fs.statSync(logFile).size && pending === 0;
  } catch {
    return false;
  }
}
const sampler = setInterval(sample, 1000);
while (!caughtUp() && Date.now() - wroteAt < 180_000) await sleep(500);
if (!caughtUp()) problems.push('the daemon had not caught up or emptied its outbox 180 s after the last write');
const drainSec = (Date.now() - wroteAt) / 1000;
clearInterval(sampler);
const last = current;
sample();
last.how = 'SIGTERM';
last.child.kill('SIGTERM');
const stopped = await Promise.race([last.exited.then(() => true), sleep(30_000).then(() => false)]);
if (!stopped) {
  problems.push('the last daemon did not stop within 30 s of SIGTERM');
  last.child.kill('SIGKILL');
  await last.exited;
} else if (last.code !== 0) problems.push(`the last daemon exited ${last.code} after SIGTERM`);
await sleep(500);
await sink.stop();

// ---------------------------------------------------------------- verdicts
const events = checkEvents({ eventsFile, traffic, rules });
const incidents = readIncidents(stateDir);
const campaigns = checkCampaigns({ traffic, incidents });
const mail = checkMail({ sink, incidents, lives, minSeverity: MIN_SEVERITY, outboxDir: path.join(stateDir, 'outbox') });
const memory = checkMemory({ lives, growthMB: opt.growthMb, growthPct: opt.growthPct });
const outages = sink.outages.filter((o) => o.down < wroteAt);
const downSec = outages.reduce((a, o) => a + ((o.up ?? wroteAt) - o.down), 0) / 1000;
const load = loads.length === 0 ? [NaN] : loads;
const cpuSec = lives.reduce((a, l) => a + l.cpu, 0);
const byKind = (k) => traffic.rotations.filter((r) => r.kind === k).length;

table('Counts', ['what', 'count'], [
  ['lines written', fmtInt(traffic.written)],
  ['attack lines (campaigns)', `${fmtInt(events.attackLines)} (${fmtInt(campaigns.campaigns)})`],
  ['events in --events (of attack lines)', `${fmtInt(events.events)} (${fmtInt(events.attackEvents)} of ${fmtInt(events.expected)} expected)`],
  ['incidents opened (journal)', fmtInt(incidents.opened.length)],
  ['alert mails received (distinct ids)', `${fmtInt(mail.received)} (${fmtInt(mail.distinct)})`],
  ['kill -9 (of them at a mail acceptance) / daemon processes', `${kills.length} (${kills.filter((k) => k.onMail).length}) / ${lives.length}`],
  ['rotations (rename / copytruncate)', `${traffic.rotations.length} (${byKind('rename')} / ${byKind('copytruncate')})`],
  ['SMTP outages (total down)', `${outages.length} (${Math.round(downSec)} s)`],
  ['duplicate mails: crash window / reply lost / unexplained', `${mail.crashWindow.length} / ${mail.replyLost.length} / ${mail.unexplained.length}`],
  ['drain after the last write', `${drainSec.toFixed(1)} s`],
  ['daemon CPU (all processes)', `${Math.round(cpuSec)} s, ${((cpuSec / ((Date.now() - t0) / 1000)) * 100).toFixed(1)}% of one core`],
  ['load average (1 min) during the run', `min ${Math.min(...load).toFixed(2)}, mean ${(load.reduce((a, b) => a + b, 0) / load.length).toFixed(2)}, max ${Math.max(...load).toFixed(2)}`],
]);

const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
const lt = memory.longest;
table('Checks', ['check', 'result', 'details'], [
  ['1. attack line -> one event per rule', verdict(events.ok), `lost ${events.lost}, partly lost ${events.partial}, duplicated ${events.duplicated}, unreadable ${events.unreadable}, foreign ${events.foreign}${events.lost > 0 ? `; lost lines by where they were: ${JSON.stringify(events.lostCauses)}` : ''}`],
  ['1b. campaign >= 5 lines -> one incident', verdict(campaigns.ok), `${campaigns.expected} expected, missing ${campaigns.missing}, twice ${campaigns.twice}, below threshold but alerted ${campaigns.unexpected}`],
  ['2. incident mailed once, all mailed', verdict(mail.ok), `alerted ${mail.alerted}, not mailed ${mail.notMailed}, duplicates ${mail.duplicates} (documented crash window ${mail.crashWindow.length}, reply lost in an outage ${mail.replyLost.length}, unexplained ${mail.unexplained.length}), mailed but not journaled ${mail.unjournaled}, journaled twice ${incidents.journaledTwice}, damaged journal lines ${incidents.bad}, folded ${mail.folded}, left pending ${mail.pending}, dead ${mail.dead}`],
  ['3. RSS flat (longest life)', verdict(memory.ok), lt === undefined ? memory.why : `daemon ${lt.n}, ${lt.minutes} min: ${lt.at25MB} MB at 25% -> ${lt.atEndMB} MB at the end (${lt.growthMB >= 0 ? '+' : ''}${Math.round(lt.growthMB * 10) / 10} MB, ${lt.slopeMBPerMin} MB/min; limit +${lt.limitMB} MB)`],
  ['daemon processes', verdict(problems.length === 0), problems.length === 0 ? 'no unexpected exit; caught up and stopped cleanly' : problems.join('; ')],
]);
/** Seconds from spawn to "Caught up" (reading again after a restart), from the daemon's log. */
function readySec(life) {
  const line = fs.readFileSync(life.log, 'utf8').split('\n').find((l) => l.includes('"msg":"Caught up'));
  return line === undefined ? null : Math.round((Date.parse(JSON.parse(line).time) - life.start) / 100) / 10;
}
const ready = new Map(lives.map((l) => [l.n, readySec(l)]));
table('Daemon processes (RSS in MB)', ['process', 'pid', 'lived s', 'reading after s', 'samples', 'peak RSS', 'last RSS', 'ended by'],
  memory.per.map((p) => [p.n, p.pid, p.seconds, ready.get(p.n), p.samples, p.peakMB, p.lastMB, p.how]));
for (const d of [...mail.crashWindow, ...mail.replyLost, ...mail.unexplained]) console.log(`   duplicate ${d.id}: ${d.copies} copies, first at ${d.firstAt} from daemon ${d.life}${d.killedAfterMs !== undefined ? `, whose exit was seen ${d.killedAfterMs} ms later` : ''}`);
if (mail.crashWindow.length > 0) console.log('   crash window: the server accepted the message, the daemon was killed before it recorded it as sent, and the next daemon sent it again with the same Message-ID (README, Delivery guarantees).');
if (mail.replyLost.length > 0) console.log("   reply lost: the server took the message as it was stopping and the daemon saw the connection fail, so it retried (the same Message-ID).");

const ok = events.ok && campaigns.ok && mail.ok && memory.ok && problems.length === 0;
const result = {
  date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, options: opt, rules, ok,
  counts: { lines: traffic.written, attackLines: events.attackLines, events: events.events, incidents: incidents.opened.length, mails: mail.received, kills: kills.length, processes: lives.length, rotations: traffic.rotations.length, outages: outages.length, downSec: Math.round(downSec), drainSec },
  load: { min: Math.min(...load), mean: load.reduce((a, b) => a + b, 0) / load.length, max: Math.max(...load) },
  events, campaigns, mail, memory, problems,
};
// What happened when, for a post-mortem of a failed check (kept with the directory).
fs.writeFileSync(path.join(dir, 'timeline.json'), JSON.stringify({
  t0, wroteAt, rotations: traffic.rotations, kills, outages: sink.outages, received: sink.received,
  lives: lives.map(({ child: _c, exited: _e, ...l }) => l), attacks: traffic.attacks, campaignLines: traffic.campaignLines,
}));
fs.writeFileSync(path.join(cache, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
if (ok && !opt.keepDir) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`\n   files kept in ${dir}`);
console.log(`\nsoak: ${ok ? 'PASS' : 'FAIL'}; results in ${path.relative(root, path.join(cache, 'soak.json'))}`);
process.exitCode = ok ? 0 : 1;
