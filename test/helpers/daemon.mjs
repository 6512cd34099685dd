// Runs the real `logward run` as a child process on a temp directory, as systemd would,
// and reads back its JSON Lines events file.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, tempDir } from './cli.mjs';

/** A directory with logs/, a config following logs/app.log (or `sources`), state/ and events.jsonl. */
export function daemonDir({ sources = null, extra = '' } = {}) {
  const dir = tempDir('logward-run-');
  fs.mkdirSync(path.join(dir, 'logs'));
  const src = sources ?? [`  - { path: ${path.join(dir, 'logs', 'app.log')}, start_at: beginning }`];
  fs.writeFileSync(path.join(dir, 'logward.yaml'), [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    '  enabled: [failed_logins]',
    '  overrides:',
    '    failed_logins: { threshold: 3, window_secs: 60 }',
    'input:',
    '  timezone: UTC',
    '  year: 2025',
    'sources:',
    ...src,
    'state:',
    `  dir: ${path.join(dir, 'state')}`,
    'reports:',
    `  dir: ${path.join(dir, 'reports')}`,
    'run:',
    '  poll_secs: 0.2',
    '  checkpoint_secs: 0.1',
    extra,
    '',
  ].join('\n'));
  return dir;
}

/** An sshd failure whose source address encodes n, so each line's event is recognisable. */
export function attackLine(n, second = n % 60) {
  const s = String(second).padStart(2, '0');
  return `Oct 14 12:00:${s} host1 sshd[${1000 + n}]: Failed password for root from 10.0.${Math.floor(n / 256)}.${n % 256} port ${20000 + n} ssh2\n`;
}

export function lineOfIp(ip) {
  const [, , a, b] = ip.split('.').map(Number);
  return a * 256 + b;
}

const running = new Set();

/** Kills every daemon still running: a failed test must not leave one to hold the runner. */
export function killAll() {
  for (const c of running) c.kill('SIGKILL');
}

export function startDaemon(dir, args = [], env = {}) {
  const child = spawn(process.execPath, [CLI, 'run', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl'), ...args], {
    env: { ...process.env, LOGWARD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  running.add(child);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  return child;
}

export function events(dir) {
  const file = path.join(dir, 'events.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** The attack numbers seen in the events file, in order. */
export function seen(dir) {
  return events(dir).map((e) => lineOfIp(e.ip));
}

/**
 * Polls check until it holds. The bound only ends a test that would otherwise hang: the
 * daemon's start, a backlog or a rotation take many seconds on a loaded machine (load 10
 * on 2 cores here), and a test that passes must not depend on them being quick.
 */
export async function waitFor(check, what, timeoutMs = 60_000) {
  const t0 = Date.now();
  for (;;) {
    if (check()) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Resolves when the daemon's output matches re: its own signal that something happened
 * ("Caught up with the files", "A source was rotated"), not a guess at how long it takes
 * on a loaded machine. Rejects when the daemon exits first; the bound only ends a hang.
 */
export async function logged(child, re, what = String(re), boundMs = 120_000) {
  const t0 = Date.now();
  let exited = false;
  child.exited.then(() => { exited = true; });
  for (;;) {
    if (re.test(child.output)) return;
    if (exited) throw new Error(`the daemon exited before logging ${what}:\n${child.output}`);
    if (Date.now() - t0 > boundMs) throw new Error(`the daemon did not log ${what} in ${boundMs} ms:\n${child.output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The daemon read every file to its end once since it started. */
export function caughtUp(child) {
  return logged(child, /Caught up with the files/, 'that it caught up');
}

export async function stopDaemon(child) {
  child.kill('SIGTERM');
  return child.exited;
}

export function range(a, b) {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
