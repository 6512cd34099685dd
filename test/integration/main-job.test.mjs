// The main job as `npm start` runs it: `logward run` on the bundled configuration, in a
// copy of the project's config/ and data/sample_logs/, stopped with Ctrl-C (SIGINT).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, tempDir, runCli } from '../helpers/cli.mjs';
import { waitFor } from '../helpers/daemon.mjs';

let child = null;
after(() => child?.kill('SIGKILL'));

function project() {
  const dir = tempDir('logward-main-');
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'data', 'sample_logs'), path.join(dir, 'data', 'sample_logs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'reports'));
  return dir;
}

test('npm start runs the daemon on the sample logs, prints alerts as they fire and stops cleanly on Ctrl-C', async () => {
  const dir = project();
  child = spawn(process.execPath, [CLI, 'run'], { cwd: dir, env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => /Caught up with the files/.test(out), 'the catch-up line', 20_000);
  const caughtUp = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const alerts = caughtUp.filter((r) => r.msg.startsWith('ALERT '));
  assert.ok(alerts.length >= 10, `only ${alerts.length} alerts`);
  assert.ok(new Set(alerts.map((a) => a.alert.rule)).size >= 4, 'alerts of several rule families');
  // A new attack appended to the bundled auth.log is alerted while it runs.
  const auth = path.join(dir, 'data', 'sample_logs', 'auth.log');
  fs.appendFileSync(auth, Array.from({ length: 6 }, (_, i) => `Dec 31 23:59:5${i} demo sshd[77${i}]: Failed password for root from 192.0.2.250 port 4000${i} ssh2\n`).join(''));
  await waitFor(() => /ALERT ssh_bruteforce[^\n]*ip=192\.0\.2\.250/.test(out), 'the alert on the appended lines');
  // The demo leaves the hourly mail budget for this step: the appended attack is mailed at once (an .eml here).
  await waitFor(() => fs.readdirSync(path.join(dir, 'reports', 'outbox')).some((f) => fs.readFileSync(path.join(dir, 'reports', 'outbox', f), 'utf8').includes('192.0.2.250')), 'the alert mail of the appended attack');
  child.kill('SIGINT');
  assert.equal(await exited, 0, out);
  assert.match(out, /"reason":"SIGINT"/);
  const reports = fs.readdirSync(path.join(dir, 'reports'));
  assert.ok(reports.some((f) => /^report_\d{8}_\d{6}\.json$/.test(f)), reports.join(','));
  // The sample logs carry complete dates: one time range, the same on every machine and day.
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'reports', reports.find((f) => f.endsWith('.json') && f.startsWith('report_'))), 'utf8'));
  const sampleAlerts = report.alerts.filter((a) => !a.ips.includes('192.0.2.250'));
  assert.ok(sampleAlerts.length >= 10);
  for (const a of sampleAlerts) assert.match(a.first, /^2025-10-14T/, `${a.rule} ${a.key} at ${a.first}`);
  assert.ok(fs.existsSync(path.join(dir, 'data', 'logward-state.json')));
  assert.ok(fs.existsSync(path.join(dir, 'data', 'incidents.jsonl')));
});

test('on a terminal it prints one line per alert: rule, time, count, key and origin', async () => {
  const dir = project();
  // script(1) gives the daemon a pseudo-terminal, as `npm start` in a shell has.
  const r = spawnSync('script', ['-qc', `${process.execPath} ${CLI} run --once`, '/dev/null'], { cwd: dir, env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  const alerts = lines.filter((l) => l.includes('ALERT '));
  assert.ok(alerts.length >= 10, r.stdout);
  // Each alert one line, each mail sent one line; everything else a handful (start, sources, report, stop).
  const mails = lines.filter((l) => / delivered via /.test(l));
  assert.ok(mails.length >= 10, r.stdout);
  assert.ok(lines.length <= alerts.length + mails.length + 8, `${lines.length} lines for ${alerts.length} alerts and ${mails.length} mails:\n${r.stdout}`);
  assert.ok(alerts.some((l) => /ALERT ssh_bruteforce at 2025-10-14T\S+ \(count=\d+\) ip=\S+ from \S/.test(l)), alerts.join('\n'));
  assert.ok(!r.stdout.includes('"samples"'), 'the full alert JSON is not printed on the terminal');
});

test('a second start on the same state continues where the first stopped and alerts nothing twice', async () => {
  const dir = project();
  const first = await runCli(['run', '--once'], { cwd: dir, env: { LOGWARD_LOG_LEVEL: 'warn' } });
  assert.equal(first.code, 0, first.stderr);
  assert.ok((first.stdout.match(/ALERT /g) ?? []).length >= 10);
  const second = await runCli(['run', '--once'], { cwd: dir, env: { LOGWARD_LOG_LEVEL: 'warn' } });
  assert.equal(second.code, 0, second.stderr);
  assert.equal((second.stdout.match(/ALERT /g) ?? []).length, 0, second.stdout);
});
