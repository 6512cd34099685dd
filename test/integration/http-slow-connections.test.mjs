// The connection flood of issue 16 against the real `logward run`, started as systemd
// would limit it (1024 file descriptors): 10,000 slowloris connections from four client
// processes, each sending a header line every 3 s and never finishing, reconnecting when
// closed. Before the caps, the daemon ran out of descriptors: /metrics stopped answering
// and checkpoints failed with EMFILE. Now it holds at most http.max_connections, /metrics
// answers all along, and the reading positions keep being saved.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, ROOT, tempDir } from '../helpers/cli.mjs';
import { sample } from '../helpers/http-raw.mjs';

const SLOWLORIS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'slowloris.mjs');
const CONNECTIONS = 10_000;
const PROCESSES = 4;
const ATTACK_MS = 25_000;

const children = new Set();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  child.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('10,000 slow connections leave /metrics answering and checkpoints saving, with 1024 file descriptors', { timeout: 90_000 }, async () => {
  const dir = tempDir('logward-slow-');
  fs.mkdirSync(path.join(dir, 'logs'));
  const log = path.join(dir, 'logs', 'auth.log');
  fs.writeFileSync(log, '');
  fs.writeFileSync(path.join(dir, 'logward.yaml'), [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    '  enabled: [ssh_bruteforce]',
    'input: { timezone: UTC, year: 2025 }',
    'sources:',
    `  - { path: ${log}, start_at: beginning }`,
    `state: { dir: ${path.join(dir, 'state')} }`,
    `reports: { dir: ${path.join(dir, 'reports')} }`,
    'mail: { alert_min_severity: "off", digest: false }',
    'run: { poll_secs: 0.5, checkpoint_secs: 0.5 }',
    'http: { enabled: true, port: 0 }',
    '',
  ].join('\n'));
  // The shell lowers both limits before the daemon starts; Node cannot raise them again.
  const d = track(spawn('sh', ['-c', `ulimit -n 1024 && exec "${process.execPath}" "${CLI}" run --config "${path.join(dir, 'logward.yaml')}"`], { stdio: ['ignore', 'pipe', 'pipe'] }));
  for (let k = 0; k < 200 && !/Serving the dashboard/.test(d.output); k++) await sleep(50);
  const url = JSON.parse(d.output.split('\n').find((l) => l.includes('Serving the dashboard'))).url;
  assert.match(fs.readFileSync(`/proc/${d.pid}/limits`, 'utf8'), /Max open files\s+1024\s+1024/);
  const port = new URL(url).port;

  const attackers = Array.from({ length: PROCESSES }, () => track(spawn(process.execPath, [SLOWLORIS, port, String(CONNECTIONS / PROCESSES), String(ATTACK_MS)], { stdio: ['ignore', 'pipe', 'pipe'] })));
  const lastCounts = (c) => JSON.parse(c.output.trim().split('\n').at(-1) || '{}');

  const stateFile = path.join(dir, 'state', 'logward-state.json');
  const offset = () => {
    try {
      return JSON.parse(fs.readFileSync(stateFile, 'utf8')).files[log]?.offset ?? 0;
    } catch {
      return 0;
    }
  };
  const scrapes = [];
  const saved = [];
  let n = 0;
  const t0 = Date.now();
  await sleep(3000); // every attacker connection has been opened once by now
  while (Date.now() - t0 < ATTACK_MS - 1000) {
    fs.appendFileSync(log, `Oct 14 12:00:${String(n % 60).padStart(2, '0')} web01 sshd[${2000 + n}]: Failed password for root from 203.0.113.${n % 250} port ${30000 + n} ssh2\n`);
    n++;
    const s0 = Date.now();
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      scrapes.push({ status: res.status, ms: Date.now() - s0, text: await res.text() });
    } catch (err) {
      scrapes.push({ status: 0, ms: Date.now() - s0, error: String(err) });
    }
    saved.push(fs.existsSync(stateFile) ? offset() : 0);
    await sleep(500);
  }
  await Promise.all(attackers.map((a) => a.exited));
  const counts = attackers.map(lastCounts);
  const connects = counts.reduce((a, c) => a + (c.connects ?? 0), 0);

  const failed = scrapes.filter((s) => s.status !== 200);
  const times = scrapes.map((s) => s.ms).sort((a, b) => a - b);
  const slowest = times.at(-1);
  const median = times[Math.floor(times.length / 2)];
  const last = scrapes.filter((s) => s.status === 200).at(-1)?.text ?? '';
  const detail = `${scrapes.length} scrapes, ${failed.length} failed (${failed.map((f) => f.error ?? f.status).slice(0, 3).join('; ')}), median ${median} ms, slowest ${slowest} ms; ${connects} attacker connects; open ${sample(last, 'logward_http_connections')}, evicted ${sample(last, 'logward_http_connections_evicted_total')}, refused ${sample(last, 'logward_http_connections_refused_total')}`;
  console.log(`# ${detail}`);
  assert.ok(connects >= CONNECTIONS, `the attack made only ${connects} connections`);
  // Every scrape answered within its 5 s timeout (Prometheus allows 10 s), most of them at once.
  assert.equal(failed.length, 0, detail);
  assert.ok(median < 1000, detail);
  // The caps held: never more open than http.max_connections (256), and the flood was turned away.
  for (const s of scrapes) if (s.text) assert.ok(sample(s.text, 'logward_http_connections') <= 256, detail);
  assert.ok(sample(last, 'logward_http_connections_evicted_total') + sample(last, 'logward_http_connections_refused_total') >= CONNECTIONS - 256, detail);
  // Checkpoints went on: the saved position followed the appended lines during the attack.
  assert.ok(saved.at(-1) > saved[0] && new Set(saved).size >= scrapes.length / 2, `saved offsets ${saved.join(' ')}`);
  assert.doesNotMatch(d.output, /EMFILE|too many open files/i);
  assert.doesNotMatch(d.output, /"level":"error"/);

  d.kill('SIGTERM');
  assert.equal(await d.exited, 0, d.output.slice(-2000));
  assert.match(d.output, /logward stopped; positions saved/);
});
