// A daemon that cannot do its job exits: a taken HTTP port, a state directory it cannot
// write, no source it can read. Nothing half-started keeps running, and a stop that hangs
// (here: an SMTP server that never greets) still ends within run.shutdown_timeout_secs.
// Each case runs the real CLI and measures how long the process lived.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { attackLine, caughtUp, daemonDir, killAll, logged, startDaemon } from '../helpers/daemon.mjs';
import { startSilentServer } from '../helpers/smtp.mjs';

after(killAll);

async function exitOf(d, boundMs = 15_000) {
  const t0 = Date.now();
  const timer = setTimeout(() => d.kill('SIGKILL'), boundMs);
  const r = await d.exited;
  clearTimeout(timer);
  return { ...r, ms: Date.now() - t0 };
}

const errorLines = (output) => output.split('\n').filter((l) => l.startsWith('logward: '));

describe('logward run exits when it cannot do its job', () => {
  test('exits 69 with one line when the HTTP port is taken, before reading or alerting anything', async () => {
    const taken = net.createServer();
    await new Promise((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const dir = daemonDir({ extra: `http:\n  enabled: true\n  host: 127.0.0.1\n  port: ${taken.address().port}` });
      fs.writeFileSync(path.join(dir, 'logs', 'app.log'), [0, 1, 2, 3].map((n) => attackLine(n)).join(''));
      const d = startDaemon(dir);
      const r = await exitOf(d);
      assert.equal(r.code, 69, d.output);
      assert.ok(r.ms < 10_000, `lived ${r.ms} ms`);
      const lines = errorLines(d.output);
      assert.equal(lines.length, 1, d.output);
      assert.match(lines[0], /cannot serve the dashboard and metrics on 127\.0\.0\.1:\d+ \(.*address already in use.*\); pick another http\.port/i);
      assert.doesNotMatch(d.output, /ALERT/);
      assert.equal(fs.existsSync(path.join(dir, 'events.jsonl')) ? fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8') : '', '');
    } finally {
      taken.close();
    }
  });

  test('exits 73 with one line when the state directory is a file it cannot create a directory in', async () => {
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), attackLine(0));
    const notADir = path.join(dir, 'state-file');
    fs.writeFileSync(notADir, 'not a directory\n');
    const d = startDaemon(dir, ['--state-dir', path.join(notADir, 'sub')]);
    const r = await exitOf(d);
    assert.equal(r.code, 73, d.output);
    assert.ok(r.ms < 10_000, `lived ${r.ms} ms`);
    const lines = errorLines(d.output);
    assert.equal(lines.length, 1, d.output);
    assert.match(lines[0], /state/);
  });

  test('exits 74 naming each source when none can be read, and waits instead for a file that does not exist yet', async () => {
    const dir = daemonDir();
    const fifo = path.join(dir, 'logs', 'app.log');
    execFileSync('mkfifo', [fifo]);
    const d = startDaemon(dir);
    const r = await exitOf(d);
    assert.equal(r.code, 74, d.output);
    assert.ok(r.ms < 10_000, `lived ${r.ms} ms`);
    const lines = errorLines(d.output);
    assert.equal(lines.length, 1, d.output);
    assert.match(lines[0], new RegExp(`no source can be read: ${fifo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(not-a-file\\); give logward read access`));

    // Only missing: a log that appears later is a normal wait, not a failure.
    fs.rmSync(fifo);
    const waiting = startDaemon(dir);
    await caughtUp(waiting);
    fs.writeFileSync(fifo, [0, 1, 2].map((n) => attackLine(n)).join(''));
    await logged(waiting, /ALERT failed_logins/, 'the alert of the file once it appeared');
    waiting.kill('SIGTERM');
    assert.equal((await exitOf(waiting)).code, 0, waiting.output);
  });

  test('ends within shutdown_timeout_secs when stopping hangs on an SMTP server that never answers', async () => {
    const silent = await startSilentServer();
    try {
      // extra lands under the base config's run: block, then opens mail:.
      const dir = daemonDir({ extra: '  shutdown_timeout_secs: 2\nmail:\n  greeting_timeout_secs: 120\n  connect_timeout_secs: 120\n  alert_min_severity: low' });
      fs.writeFileSync(path.join(dir, 'logs', 'app.log'), [0, 1, 2].map((n) => attackLine(n)).join(''));
      const d = startDaemon(dir, [], { SMTP_HOST: silent.host, SMTP_PORT: String(silent.port), SMTP_TO: 'ops@example.org', SMTP_FROM: 'logward@example.org' });
      await logged(d, /ALERT failed_logins/, 'the alert');
      const t0 = Date.now();
      d.kill('SIGTERM');
      const r = await exitOf(d, 30_000);
      const ms = Date.now() - t0;
      assert.ok(ms < 6_000, `stopping took ${ms} ms (limit 2 s)\n${d.output}`);
      // The alert mail is in flight to a server that never greets: the last delivery attempt hangs.
      assert.equal(r.code, 70, d.output);
      assert.match(d.output, /Shutdown took too long; exiting without finishing it/);
    } finally {
      silent.close();
    }
  });
});
