// `logward run` on real files being written, rotated, truncated and deleted, with the real
// daemon process: every line is seen exactly once, in order, and restarts (even kill -9)
// continue where reading stopped.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { attackLine, caughtUp, daemonDir, events, killAll, logged, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';

after(killAll);
import { runCli } from '../helpers/cli.mjs';

const write = (dir, name, from, to) => fs.appendFileSync(path.join(dir, 'logs', name), range(from, to).map((n) => attackLine(n)).join(''));

describe('logward run follows files', () => {
  test('finishes a file renamed by logrotate before reading the new one', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 5);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 5, '5 events');
    write(dir, 'app.log', 5, 8);
    fs.renameSync(path.join(dir, 'logs', 'app.log'), path.join(dir, 'logs', 'app.log.1'));
    write(dir, 'app.log.1', 8, 10); // the writer still had the old file open
    write(dir, 'app.log', 10, 14); // then reopened the path
    await waitFor(() => seen(dir).length >= 14, '14 events');
    const { code } = await stopDaemon(d);
    assert.equal(code, 0, d.output);
    assert.deepEqual(seen(dir), range(0, 14));
    assert.match(d.output, /A source was rotated; the old file was read to its end/);
  });

  test('starts again at the beginning after copytruncate', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 6);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 6, '6 events');
    fs.copyFileSync(path.join(dir, 'logs', 'app.log'), path.join(dir, 'logs', 'app.log.1'));
    fs.truncateSync(path.join(dir, 'logs', 'app.log'), 0);
    write(dir, 'app.log', 6, 9);
    await waitFor(() => seen(dir).length >= 9, '9 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), range(0, 9));
    assert.match(d.output, /truncated \(copytruncate\)/);
  });

  test('reads the lines a copytruncate left unread from the copy, then the emptied file', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 6);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 6, '6 events');
    d.kill('SIGSTOP'); // frozen: lines 6-9 are written and copied away before any read
    try {
      write(dir, 'app.log', 6, 9);
      fs.copyFileSync(path.join(dir, 'logs', 'app.log'), path.join(dir, 'logs', 'app.log.1'));
      fs.truncateSync(path.join(dir, 'logs', 'app.log'), 0);
      write(dir, 'app.log', 9, 11);
    } finally {
      d.kill('SIGCONT');
    }
    await waitFor(() => seen(dir).length >= 11, '11 events');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), range(0, 11));
    assert.match(d.output, /read from the rotated file first/);
  });

  test('notices a copytruncate even when the emptied file has grown past the old position', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 3);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    d.kill('SIGSTOP');
    try {
      fs.copyFileSync(path.join(dir, 'logs', 'app.log'), path.join(dir, 'logs', 'app.log.1'));
      fs.truncateSync(path.join(dir, 'logs', 'app.log'), 0);
      write(dir, 'app.log', 3, 12); // more bytes than were read before the truncation
    } finally {
      d.kill('SIGCONT');
    }
    await waitFor(() => seen(dir).length >= 12, '12 events');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), range(0, 12));
    assert.match(d.output, /truncated \(copytruncate\)/);
  });

  test('resumes right after a copytruncate made while it was stopped, for a file that was empty when first opened', async () => {
    const dir = daemonDir();
    const file = path.join(dir, 'logs', 'app.log');
    fs.writeFileSync(file, ''); // its identity is first taken from no bytes at all
    const d1 = startDaemon(dir);
    await new Promise((r) => setTimeout(r, 400));
    write(dir, 'app.log', 0, 5);
    await waitFor(() => seen(dir).length === 5, '5 events');
    await new Promise((r) => setTimeout(r, 300)); // a checkpoint after the last read
    d1.kill('SIGKILL');
    await d1.exited;
    write(dir, 'app.log', 5, 8); // unread when logward stopped
    fs.copyFileSync(file, path.join(dir, 'logs', 'app.log.1'));
    fs.truncateSync(file, 0);
    write(dir, 'app.log', 8, 30); // the new content is longer than the old position
    const d2 = startDaemon(dir);
    await waitFor(() => seen(dir).length >= 30, '30 events');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.deepEqual(seen(dir), range(0, 30));
  });

  test('follows a file deleted and created again', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 3);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    fs.rmSync(path.join(dir, 'logs', 'app.log'));
    await new Promise((r) => setTimeout(r, 300));
    write(dir, 'app.log', 3, 7);
    await waitFor(() => seen(dir).length >= 7, '7 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), range(0, 7));
  });

  test('warns once about a source that does not exist yet and picks it up when it appears', async () => {
    const dir = daemonDir();
    const d = startDaemon(dir);
    await waitFor(() => /does not exist \(yet\)/.test(d.output), 'the warning');
    await new Promise((r) => setTimeout(r, 500)); // several re-checks
    write(dir, 'app.log', 0, 4);
    await waitFor(() => seen(dir).length >= 4, '4 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), range(0, 4));
    assert.equal(d.output.match(/does not exist \(yet\)/g).length, 1);
  });

  test('holds a partial last line until its newline arrives', async () => {
    const dir = daemonDir();
    const file = path.join(dir, 'logs', 'app.log');
    const line = attackLine(0);
    fs.writeFileSync(file, line.slice(0, 30));
    const d = startDaemon(dir);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(seen(dir).length, 0);
    fs.appendFileSync(file, line.slice(30));
    await waitFor(() => seen(dir).length === 1, 'the completed line');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), [0]);
  });

  test('reads only new files of a followed directory, never rotated or compressed ones', async () => {
    const dir = daemonDir({ sources: [] });
    fs.appendFileSync(path.join(dir, 'logward.yaml'), '');
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('sources:\n', `sources:\n  - { path: "${path.join(dir, 'logs', '*.log')}", start_at: beginning }\n`));
    write(dir, 'a.log', 0, 2);
    write(dir, 'a.log.1', 100, 103);
    fs.writeFileSync(path.join(dir, 'logs', 'b.log.2.gz'), 'not text');
    const d = startDaemon(dir, []);
    await waitFor(() => seen(dir).length === 2, '2 events');
    write(dir, 'c.log', 2, 5); // appears while running
    await waitFor(() => seen(dir).length >= 5, '5 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir).sort((x, y) => x - y), range(0, 5));
  });

  test('cuts a line over max_line_bytes, counts it, and reads on', async () => {
    const dir = daemonDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('input:\n', 'input:\n  max_line_bytes: 256\n'));
    const file = path.join(dir, 'logs', 'app.log');
    // The sshd rules are anchored at the line's end: the cut line gives no event, and the
    // next line is read whole.
    fs.writeFileSync(file, attackLine(0).replace('ssh2\n', `ssh2 ${'x'.repeat(5000)}\n`) + attackLine(1));
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 1, '1 event');
    fs.appendFileSync(file, `${attackLine(2).slice(0, 40)}${'y'.repeat(300)}\n${attackLine(3)}`);
    await waitFor(() => seen(dir).length === 2, '2 events');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), [1, 3]);
    const reports = fs.readdirSync(path.join(dir, 'reports')).filter((f) => f.endsWith('.json'));
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'reports', reports[0]), 'utf8'));
    assert.equal(Number(JSON.stringify(report).match(/"lines_cut":(\d+)/)?.[1]), 2);
    assert.equal(Number(JSON.stringify(report).match(/"lines_read":(\d+)/)?.[1]), 4);
  });
});

describe('logward run restarts', () => {
  test('continues after SIGTERM where it stopped, without reading a line twice', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 5);
    let d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 5, '5 events');
    assert.equal((await stopDaemon(d)).code, 0);
    write(dir, 'app.log', 5, 9);
    d = startDaemon(dir);
    await waitFor(() => seen(dir).length >= 9, '9 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), range(0, 9));
  });

  test('loses no line and writes no event twice across kill -9', async () => {
    const dir = daemonDir();
    const file = path.join(dir, 'logs', 'app.log');
    let next = 0;
    const d1 = startDaemon(dir);
    // Appends while the daemon reads, then a kill -9 in the middle of it.
    for (let i = 0; i < 20; i++) {
      write(dir, 'app.log', next, next + 25);
      next += 25;
      await new Promise((r) => setTimeout(r, 20));
    }
    d1.kill('SIGKILL');
    await d1.exited;
    write(dir, 'app.log', next, next + 50);
    next += 50;
    const d2 = startDaemon(dir);
    await waitFor(() => seen(dir).length >= next, `${next} events`);
    await new Promise((r) => setTimeout(r, 300));
    await stopDaemon(d2);
    assert.deepEqual(seen(dir), range(0, next));
    assert.ok(fs.statSync(file).size > 0);
  });

  test('stops promptly on SIGTERM in the middle of a big backlog and goes on from there', async () => {
    const dir = daemonDir();
    const file = path.join(dir, 'logs', 'app.log');
    const noise = 'Oct 14 12:00:00 host1 CRON[4242]: pam_unix(cron:session): session closed for user root\n'.repeat(99);
    const out = fs.openSync(file, 'w');
    for (let n = 0; n < 4000; n++) fs.writeSync(out, attackLine(n) + noise); // 400,000 lines, about 35 MB
    fs.closeSync(out);
    const size = fs.statSync(file).size;
    const stateFile = path.join(dir, 'state', 'logward-state.json');
    const saved = () => {
      try {
        return JSON.parse(fs.readFileSync(stateFile, 'utf8')).files[file]?.offset ?? 0;
      } catch {
        return 0;
      }
    };
    const d1 = startDaemon(dir);
    // Read in slices, so a checkpoint is written long before the end of the file.
    await waitFor(() => saved() > 0, 'a first checkpoint');
    d1.kill('SIGTERM');
    assert.equal((await d1.exited).code, 0, d1.output);
    const stoppedAt = saved();
    assert.ok(stoppedAt > 0 && stoppedAt < size, `stopped at ${stoppedAt} of ${size} bytes`);
    const d2 = startDaemon(dir, ['--once']);
    assert.equal((await d2.exited).code, 0, d2.output);
    assert.equal(saved(), size);
    assert.deepEqual(seen(dir), range(0, 4000));
  });

  test('reads the unread end of a file rotated while it was stopped, before the new file', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 4);
    let d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 4, '4 events');
    await stopDaemon(d);
    write(dir, 'app.log', 4, 7); // written while logward was stopped...
    fs.renameSync(path.join(dir, 'logs', 'app.log'), path.join(dir, 'logs', 'app.log.1')); // ...then rotated
    write(dir, 'app.log', 7, 10);
    d = startDaemon(dir);
    await waitFor(() => seen(dir).length >= 10, '10 events');
    await stopDaemon(d);
    assert.deepEqual(seen(dir), range(0, 10));
    assert.match(d.output, /rotated before logward read it to its end/);
  });
});

describe('logward run and two rotations between two reads', () => {
  const logs = (dir, name) => path.join(dir, 'logs', name);

  test('reads the file renamed away before it was ever opened, while logward was paused', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 3);
    const d = startDaemon(dir);
    await caughtUp(d);
    assert.deepEqual(seen(dir), range(0, 3));
    d.kill('SIGSTOP'); // frozen: no read happens until SIGCONT
    try {
      write(dir, 'app.log', 3, 5);
      fs.renameSync(logs(dir, 'app.log'), logs(dir, 'app.log.2'));
      write(dir, 'app.log', 5, 8); // the middle file: never opened by the daemon
      fs.renameSync(logs(dir, 'app.log'), logs(dir, 'app.log.1'));
      write(dir, 'app.log', 8, 10);
    } finally {
      d.kill('SIGCONT');
    }
    // The daemon says when it found the rotations; the lines are read before it says so.
    await logged(d, /A source was rotated/, 'the rotation');
    await waitFor(() => seen(dir).length >= 10, '10 events');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), range(0, 10));
  });

  test('reads the middle file of two rotations made while logward was stopped', async () => {
    const dir = daemonDir();
    write(dir, 'app.log', 0, 3);
    const d1 = startDaemon(dir);
    await caughtUp(d1);
    assert.deepEqual(seen(dir), range(0, 3));
    assert.equal((await stopDaemon(d1)).code, 0);
    write(dir, 'app.log', 3, 5);
    fs.renameSync(logs(dir, 'app.log'), logs(dir, 'app.log.2'));
    write(dir, 'app.log', 5, 8);
    fs.renameSync(logs(dir, 'app.log'), logs(dir, 'app.log.1'));
    write(dir, 'app.log', 8, 10);
    const d2 = startDaemon(dir);
    // Both rotated files are read at start, before the daemon says it caught up.
    await caughtUp(d2);
    assert.deepEqual(seen(dir), range(0, 10));
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.deepEqual(seen(dir), range(0, 10));
  });
});

describe('scan equals run', () => {
  test('tailing a log written line by line, with rotations, gives the events and alerts of scanning it', async () => {
    const dir = daemonDir();
    const lines = [];
    for (let n = 0; n < 60; n++) lines.push(attackLine(n, (n * 7) % 60));
    const file = path.join(dir, 'logs', 'app.log');
    fs.appendFileSync(file, lines[0]);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 1, 'the daemon reading');
    for (let n = 1; n < lines.length; n++) {
      if (n === 20 || n === 41) {
        // Rotate twice; each time after the daemon has read up to here, as a daily
        // logrotate would (two rotations between two reads is a different case).
        await waitFor(() => seen(dir).length >= n, `${n} events before rotating`, 30_000);
        fs.renameSync(file, `${file}.${n}`);
      }
      fs.appendFileSync(file, lines[n]);
      if (n % 7 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    await waitFor(() => seen(dir).length >= lines.length, `${lines.length} events`, 30_000);
    await stopDaemon(d);
    const whole = path.join(dir, 'whole.log');
    fs.writeFileSync(whole, lines.join(''));
    const scanEvents = path.join(dir, 'scan.jsonl');
    const r = await runCli(['scan', whole, '--config', path.join(dir, 'logward.yaml'), '--events', scanEvents, '--out', path.join(dir, 'scan-reports'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const fromScan = fs.readFileSync(scanEvents, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const strip = (e) => ({ rule: e.rule, time: e.time, ip: e.ip, user: e.user, host: e.host, program: e.program });
    assert.deepEqual(events(dir).map(strip), fromScan.map(strip));
    // Alerts: the run's report (written at shutdown) against the scan's.
    const runReports = fs.readdirSync(path.join(dir, 'reports')).filter((f) => f.endsWith('.json'));
    const runAlerts = runReports.flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, 'reports', f), 'utf8')).alerts);
    const key = (a) => `${a.rule} ${a.first} ${a.key}`;
    assert.deepEqual(runAlerts.map(key).sort(), JSON.parse(r.stdout).alerts.map(key).sort());
    assert.ok(runAlerts.length > 0);
  });
});

describe('logward run signals and watching', () => {
  test('notices appended lines through the file watcher, not only the slow re-check', async () => {
    const dir = daemonDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('poll_secs: 0.2', 'poll_secs: 600'));
    write(dir, 'app.log', 0, 1);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 1, 'the first event');
    await new Promise((r) => setTimeout(r, 500)); // the watches are in place
    write(dir, 'app.log', 1, 3);
    // The re-check is 10 minutes away: only the watcher can deliver these.
    await waitFor(() => seen(dir).length === 3, 'the appended lines', 5000);
    await stopDaemon(d);
  });

  test('on SIGHUP keeps running on the old config when the new one is invalid, and applies a valid one', async () => {
    const dir = daemonDir();
    const cfg = path.join(dir, 'logward.yaml');
    const good = fs.readFileSync(cfg, 'utf8');
    write(dir, 'app.log', 0, 2);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    fs.writeFileSync(cfg, `${good}bogus_key: 1\n`);
    d.kill('SIGHUP');
    await waitFor(() => /The new configuration is invalid/.test(d.output), 'the refusal');
    assert.match(d.output, /unknown key \\"bogus_key\\"/);
    write(dir, 'app.log', 2, 4);
    await waitFor(() => seen(dir).length === 4, '4 events on the old config');
    // Valid YAML, but nothing to follow: refused the same way, the daemon keeps reading.
    fs.writeFileSync(cfg, good.replace(/sources:\n {2}- [^\n]*\n/, 'sources: []\n'));
    d.kill('SIGHUP');
    await waitFor(() => /nothing to follow/.test(d.output), 'the refusal of a config without sources');
    write(dir, 'app.log', 4, 5);
    await waitFor(() => seen(dir).length === 5, 'the line after the refused reload');
    assert.equal(d.exitCode, null, 'the daemon is still running');
    fs.writeFileSync(cfg, good.replace('enabled: [failed_logins]', 'enabled: [failed_logins, ssh_bruteforce]'));
    d.kill('SIGHUP');
    await waitFor(() => /Configuration reloaded/.test(d.output), 'the reload');
    write(dir, 'app.log', 5, 6);
    await waitFor(() => events(dir).length === 7, 'one line, two rules');
    const { code } = await stopDaemon(d);
    assert.equal(code, 0);
    assert.deepEqual(events(dir).slice(5).map((e) => e.rule).sort(), ['failed_logins', 'ssh_bruteforce']);
    assert.deepEqual(seen(dir).slice(0, 6), range(0, 6));
  });

  test('exits 78 without starting on an invalid config', async () => {
    const dir = daemonDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, `${fs.readFileSync(cfg, 'utf8')}run_typo: 1\n`);
    const r = await runCli(['run', '--config', cfg, '--once']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /unknown key "run_typo"/);
  });
});
