// The attack of issue 16 against the real `logward run`: 16 dashboard clients that open
// /events and never read, while 200 lines a second keep the board of 200 incidents (a
// picture of about 1 MB) changing. Before the bound, the daemon grew by gigabytes in a
// minute; now each stream holds at most about one picture, a stalled one is dropped, and
// the daemon's resident memory (from /proc) grows by less than 50 MB in 60 s while the
// operator's own dashboard keeps getting every picture.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers/cli.mjs';
import { request, rssOf, sample } from '../helpers/http-raw.mjs';

const CLIENTS = 16;
const LINES_PER_SEC = 200;
const ATTACK_MS = 60_000;
const MB = 1024 * 1024;

const children = new Set();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function configDir() {
  const dir = tempDir('logward-mem-');
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'logs', 'auth.log'), '');
  fs.writeFileSync(path.join(dir, 'logward.yaml'), [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    '  enabled: [ssh_bruteforce]',
    '  overrides:',
    // A short window: the detector's own state (hits, contexts) stays the same size all along.
    '    ssh_bruteforce: { threshold: 1, window_secs: 10 }',
    'input: { timezone: UTC, year: 2025 }',
    'limits: { max_sample_chars: 4000 }',
    // The hourly report keeps few events: the daemon's own state stays the same size under the attack.
    `reports: { dir: ${path.join(dir, 'reports')}, max_events: 100 }`,
    'sources:',
    `  - { path: ${path.join(dir, 'logs', 'auth.log')}, start_at: beginning }`,
    `state: { dir: ${path.join(dir, 'state')} }`,
    'mail: { alert_min_severity: "off", digest: false }',
    'run: { poll_secs: 0.5, checkpoint_secs: 1 }',
    'http: { enabled: true, port: 0 }',
    '',
  ].join('\n'));
  return dir;
}

/** The daemon, keeping only the line that says where it serves (alerts flood its output). */
function startQuietDaemon(dir) {
  const child = spawn(process.execPath, [CLI, 'run', '--config', path.join(dir, 'logward.yaml')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOGWARD_LOG_LEVEL: 'info' } });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.url = new Promise((resolve, reject) => {
    let head = '';
    const onData = (d) => {
      head += d;
      const line = head.split('\n').find((l) => l.includes('Serving the dashboard'));
      if (line !== undefined) {
        child.stdout.off('data', onData);
        resolve(JSON.parse(line).url);
      } else if (head.length > 1e6) head = head.slice(-1e5);
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the daemon exited (${code}) before serving: ${head}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  return child;
}

/**
 * Addresses (and sshd pids) the attack cycles through: enough to fill the board, few enough
 * that the daemon's own state stops growing once each has opened its incident, so what the
 * test measures is what the dashboards cost.
 */
const ADDRESSES = 250;
let n = 0;
/** Failed sshd logins with long user names: each address opens an incident of about 5 KB on the board, later lines count into it. */
function attackLines(count) {
  let out = '';
  for (let k = 0; k < count; k++, n++) {
    const s = Math.floor(n / LINES_PER_SEC);
    const stamp = `Oct 14 ${String(10 + Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    const a = n % ADDRESSES;
    out += `${stamp} web01 sshd[${1000 + a}]: Failed password for invalid user u${a}${'x'.repeat(2500)} from 10.0.${a >> 8}.${a & 255} port ${20000 + (n % 40000)} ssh2\n`;
  }
  return out;
}

const EVENTS = 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n';

/**
 * A client that opens /events and never reads. Not reading, it cannot see the daemon drop
 * it, so it opens another such stream every RENEW_MS, never closing the old ones: the
 * daemon always has a full set of stalled streams to hold.
 */
const RENEW_MS = 5000;
function neverReader(url, stats) {
  const { port } = new URL(url);
  const open = () => {
    const s = net.connect(Number(port), '127.0.0.1');
    s.pause();
    s.on('error', () => {});
    s.on('connect', () => {
      stats.connects++;
      s.write(EVENTS);
    });
    stats.sockets.add(s);
  };
  open();
  const timer = setInterval(open, RENEW_MS);
  return () => clearInterval(timer);
}

/** The operator's own dashboard, which reads everything: the daemon builds pictures before and during the attack alike. */
function reader(url) {
  const s = net.connect(Number(new URL(url).port), '127.0.0.1');
  let bytes = 0;
  s.on('error', () => {});
  s.on('connect', () => s.write(EVENTS));
  s.on('data', (d) => { bytes += d.length; });
  return { socket: s, bytes: () => bytes };
}

test('16 dashboards that never read, while 200 lines a second change a board of 1 MB pictures, grow the daemon by less than 50 MB in 60 s', { timeout: 120_000 }, async () => {
  const dir = configDir();
  const log = path.join(dir, 'logs', 'auth.log');
  const d = startQuietDaemon(dir);
  const url = await d.url;
  const append = setInterval(() => fs.appendFileSync(log, attackLines(LINES_PER_SEC / 10)), 100);
  try {
    // Warm up: the board full of 200 big incidents, every part of the daemon running.
    let picture = 0;
    for (let k = 0; k < 100 && picture < 900_000; k++) {
      await new Promise((r) => setTimeout(r, 200));
      picture = (await request(url, { path: '/api/dashboard' })).body.length;
    }
    assert.ok(picture >= 900_000, `a picture of ${picture} bytes`);
    const operator = reader(url);
    await new Promise((r) => setTimeout(r, 5000));
    const baseline = rssOf(d.pid);
    const readBefore = operator.bytes();

    const stats = { connects: 0, sockets: new Set() };
    const stops = Array.from({ length: CLIENTS }, () => neverReader(url, stats));
    let peak = baseline;
    let peakBuffered = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < ATTACK_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      peak = Math.max(peak, rssOf(d.pid));
      const metrics = (await request(url, { path: '/metrics' })).body;
      peakBuffered = Math.max(peakBuffered, sample(metrics, 'logward_http_dashboard_buffered_bytes'));
    }
    const metrics = (await request(url, { path: '/metrics' })).body;
    for (const stop of stops) stop();
    for (const s of stats.sockets) s.destroy();
    operator.socket.destroy();

    const growth = peak - baseline;
    const detail = `RSS ${(baseline / MB).toFixed(0)} -> peak ${(peak / MB).toFixed(0)} MB; at most ${(peakBuffered / MB).toFixed(1)} MB buffered for dashboards; ${stats.connects} connects; dropped ${sample(metrics, 'logward_http_dashboard_streams_dropped_total')}`;
    assert.ok(growth < 50 * MB, detail);
    // Each stalled stream holds about one picture (plus what a socket takes), never a queue of them.
    assert.ok(peakBuffered <= CLIENTS * (2 * picture + 64 * 1024), detail);
    assert.ok(sample(metrics, 'logward_source_lines_total', `{source="${log}",kind="file"}`) >= (ATTACK_MS / 1000) * LINES_PER_SEC, 'the daemon kept reading');
    // The operator's dashboard kept getting pictures all along (about 4 a second).
    assert.ok(operator.bytes() - readBefore > 60 * picture, `the reading dashboard got ${operator.bytes() - readBefore} bytes`);
    // The stalled streams were found out and dropped (they came back, as an attacker would).
    assert.ok(sample(metrics, 'logward_http_dashboard_streams_dropped_total') >= CLIENTS, detail);
    console.log(`# ${detail}`);
  } finally {
    clearInterval(append);
    d.kill('SIGTERM');
  }
});
