// Hostile bytes and files, on real files with the real CLI: megabyte lines, binary garbage,
// invalid UTF-8, NUL bytes, a source replaced by a directory, FIFOs, symbolic links out of
// a log directory, permissions lost while running, a file deleted while open. Each is
// counted or logged once per source and condition, never crashes or blocks logward, never
// disturbs the other sources, and leaves a checkpoint from which a restart reads every
// line exactly once.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attackLine, daemonDir, killAll, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { CLI, runCli, tempDir } from '../helpers/cli.mjs';
import { prng } from '../helpers/prng.mjs';

const own = new Set();
after(() => {
  killAll();
  for (const c of own) c.kill('SIGKILL');
});

const logs = (dir, name) => path.join(dir, 'logs', name);
const attacks = (from, to) => range(from, to).map((n) => attackLine(n)).join('');
const write = (dir, name, from, to) => fs.appendFileSync(logs(dir, name), attacks(from, to));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const count = (text, re) => (text.match(new RegExp(re.source, 'g')) ?? []).length;
const sorted = (xs) => [...xs].sort((a, b) => a - b);

/** A daemon directory whose sources are the given files of logs/ (read from their beginning). */
function dirWith(names, extra = '') {
  const dir = daemonDir({ sources: [] });
  const cfg = path.join(dir, 'logward.yaml');
  const lines = names.map((n) => (typeof n === 'string' ? `  - { path: "${logs(dir, n)}", start_at: beginning }` : n(dir)));
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('sources:\n', `sources:\n${lines.join('\n')}\n`) + extra);
  return dir;
}

/** The unprivileged account the permission tests run the daemon as (root reads anything). */
const NOBODY = (() => {
  if (process.getuid?.() !== 0) return { skip: false };
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g'), skip: false };
  } catch {
    return { skip: 'running as root and there is no "nobody" account to drop to' };
  }
})();

/**
 * startDaemon, as the unprivileged account: it owns the test directory (for its state,
 * reports and events), not the logs, which stay root's and world-readable until a test
 * takes that away.
 */
function startAsNobody(dir, args = []) {
  if (process.getuid?.() === 0) fs.chownSync(dir, NOBODY.uid, NOBODY.gid);
  const child = spawn(process.execPath, [CLI, 'run', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl'), ...args], {
    env: { ...process.env, LOGWARD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(process.getuid?.() === 0 ? { uid: NOBODY.uid, gid: NOBODY.gid } : {}),
  });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  own.add(child);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    own.delete(child);
    resolve({ code, signal });
  }));
  return child;
}

/**
 * Runs `logward ARGS` like runCli, optionally as the unprivileged account, and kills it
 * when the test ends: a regression that blocks on a FIFO must fail, not hang the run.
 */
function cli(args, { asNobody = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asNobody && process.getuid?.() === 0 ? { uid: NOBODY.uid, gid: NOBODY.gid } : {}),
    });
    own.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => {
      own.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The reports a daemon wrote (one at each shutdown here), oldest first. */
function reports(dir) {
  const names = fs.readdirSync(path.join(dir, 'reports')).filter((f) => f.endsWith('.json')).sort();
  return names.map((n) => JSON.parse(fs.readFileSync(path.join(dir, 'reports', n), 'utf8')));
}

/** GET on the daemon's HTTP server (http.enabled, port 0): the URL is in its start log. */
async function get(d, p) {
  await waitFor(() => /"url":"http:\/\/[^"]+"/.test(d.output), 'the HTTP server');
  const url = /"url":"(http:\/\/[^"]+)"/.exec(d.output)[1];
  const r = await fetch(new URL(p, url));
  return { status: r.status, body: await r.text() };
}
const HTTP = 'http:\n  enabled: true\n  port: 0\n';

/**
 * Stops the daemon, starts it again and appends lines from..to to the good source: the
 * events are then exactly the ones before plus these (no position lost, nothing twice).
 */
async function restartKeepsCheckpoint(dir, d, good, from, to, start = startDaemon) {
  const stopped = await stopDaemon(d);
  assert.equal(stopped.code, 0, d.output);
  const before = seen(dir);
  const d2 = start(dir);
  await waitFor(() => /Caught up with the files/.test(d2.output), 'the restart');
  write(dir, good, from, to);
  await waitFor(() => seen(dir).length >= before.length + (to - from), 'the lines after the restart');
  await sleep(300);
  assert.equal((await stopDaemon(d2)).code, 0, d2.output);
  assert.deepEqual(seen(dir), [...before, ...range(from, to)], 'a restart must neither re-read nor skip a line');
  return d2;
}

/** Bytes of a seeded PRNG without newlines, cut into `lines` lines of `width` bytes. */
function garbage(seed, lines, width) {
  const next = prng(seed);
  const out = [];
  for (let i = 0; i < lines; i++) {
    const b = Buffer.alloc(width);
    for (let j = 0; j < width; j++) {
      let v = Math.floor(next() * 256);
      if (v === 10) v = 11;
      b[j] = v;
    }
    out.push(b, Buffer.from('\n'));
  }
  return Buffer.concat(out);
}

/** A log of hostile lines between good ones; `notParsed` lines cannot be read as log lines. */
function hostileLog() {
  const parts = [
    garbage(8, 20, 200), // starts with garbage: format detection must survive it
    Buffer.from(attackLine(0)),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x20, 0x6f, 0x6b, 0x0a]), // invalid UTF-8
    Buffer.from(attackLine(1)),
    Buffer.concat([Buffer.alloc(512, 0), Buffer.from('\n')]), // NUL padding, as after a crash
    Buffer.from(`Oct 14 12:00:02 host1 kernel: a\0b\0c ${'\0'.repeat(20)} d\n`), // NULs inside a parsed line
    Buffer.from(attackLine(2)),
    garbage(9, 5, 300),
    Buffer.from(attackLine(3)),
  ];
  return { bytes: Buffer.concat(parts), attacks: [0, 1, 2, 3], notParsed: 20 + 1 + 1 + 5 };
}

describe('hostile bytes: logward scan', () => {
  test('cuts a 5 MB line, counts it, and detects the lines after it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.log');
    fs.writeFileSync(file, attacks(0, 2));
    fs.appendFileSync(file, 'x'.repeat(5 * 1024 * 1024));
    fs.appendFileSync(file, `\n${attacks(2, 5)}`);
    const r = await runCli(['scan', file, '--rules', 'failed_logins', '--events', path.join(dir, 'ev.jsonl'), '--out', path.join(dir, 'out'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.lines_read, 6);
    assert.equal(s.files[0].cut, 1);
    assert.equal(fs.readFileSync(path.join(dir, 'ev.jsonl'), 'utf8').trim().split('\n').length, 5);
  });

  test('counts garbage, invalid UTF-8 and NUL lines as not parsed and still detects the good lines', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'hostile.log');
    const h = hostileLog();
    fs.writeFileSync(file, h.bytes);
    const ev = path.join(dir, 'ev.jsonl');
    const r = await runCli(['scan', file, '--rules', 'failed_logins', '--events', ev, '--out', path.join(dir, 'out'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.files[0].not_parsed, h.notParsed);
    const ips = fs.readFileSync(ev, 'utf8').trim().split('\n').map((l) => JSON.parse(l).ip);
    assert.deepEqual(ips, h.attacks.map((n) => `10.0.0.${n}`));
  });

  test('reads a FIFO named on the command line, all of it, as its writer writes it', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const src = path.join(dir, 'src.log');
    fs.writeFileSync(src, attacks(0, 300));
    // The writer blocks until logward opens the FIFO for the real read.
    const writer = spawn('sh', ['-c', `cat "${src}" > "${fifo}"`], { stdio: 'ignore' });
    own.add(writer);
    const ev = path.join(dir, 'ev.jsonl');
    writer.on('exit', () => own.delete(writer));
    const r = await cli(['scan', fifo, '--rules', 'failed_logins', '--events', ev, '--out', path.join(dir, 'out'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).lines_read, 300);
    assert.equal(fs.readFileSync(ev, 'utf8').trim().split('\n').length, 300);
  });

  test('reads only the regular files of a directory: no FIFO, subdirectory, dangling link or link out of it', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const logsDir = path.join(dir, 'logs');
    fs.mkdirSync(logsDir);
    fs.writeFileSync(path.join(logsDir, 'a.log'), attacks(0, 2));
    fs.mkdirSync(path.join(logsDir, 'sub'));
    execFileSync('mkfifo', [path.join(logsDir, 'pipe.log')]);
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(logsDir, 'dangling.log'));
    const secret = path.join(dir, 'secret.log');
    fs.writeFileSync(secret, attacks(50, 52));
    fs.symlinkSync(secret, path.join(logsDir, 'out.log'));
    fs.symlinkSync('a.log', path.join(logsDir, 'in.log')); // stays inside: read
    const ev = path.join(dir, 'ev.jsonl');
    const r = await cli(['scan', logsDir, '--rules', 'failed_logins', '--events', ev, '--out', path.join(dir, 'out'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).files.map((f) => path.basename(f.file)), ['a.log', 'in.log']);
    assert.match(r.stderr, /out\.log: a symbolic link to .*secret\.log, outside .*; skipped/);
    assert.match(r.stderr, /pipe\.log: not a regular file \(a FIFO\); skipped/);
    // The same link named on the command line is the operator's choice: it is read.
    const named = await runCli(['scan', path.join(logsDir, 'out.log'), '--rules', 'failed_logins', '--out', path.join(dir, 'out2'), '--json']);
    assert.equal(named.code, 0, named.stderr);
    assert.equal(JSON.parse(named.stdout).lines_read, 2);
  });

  test('refuses a file it may not read with exit 74, naming it', { skip: NOBODY.skip }, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'closed.log');
    fs.writeFileSync(file, attacks(0, 2));
    fs.chmodSync(file, 0o000);
    fs.chmodSync(dir, 0o755);
    const r = await cli(['scan', file, '--out', path.join(os.tmpdir(), 'never')], { asNobody: true });
    assert.equal(r.code, 74, r.stderr);
    assert.match(r.stderr, /closed\.log: EACCES: permission denied/);
  });
});

describe('hostile bytes: logward run', () => {
  test('cuts a 5 MB line written without a newline, counts it, and detects the lines after it', async () => {
    const dir = dirWith(['app.log'], HTTP);
    write(dir, 'app.log', 0, 2);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    const peak = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${d.pid}/status`, 'utf8'))[1]) * 1024;
    await sleep(300);
    const peakBefore = peak();
    // 5 MB in pieces with no newline: read while it grows, held only up to max_line_bytes.
    const file = logs(dir, 'app.log');
    for (let i = 0; i < 10; i++) {
      fs.appendFileSync(file, 'x'.repeat(512 * 1024));
      await sleep(30);
    }
    await sleep(500);
    fs.appendFileSync(file, `\n${attacks(2, 5)}`);
    await waitFor(() => seen(dir).length === 5, '5 events');
    const metrics = (await get(d, '/metrics')).body;
    assert.match(metrics, /logward_source_lines_total\{[^}]*\} 6\b/);
    // The daemon's peak memory did not grow by the line (5 MB as bytes, 10 MB as a
    // string): it was never held whole. Measured: under 1 MB of growth.
    assert.ok(peak() - peakBefore < 5 * 1024 * 1024, `peak memory grew from ${peakBefore} to ${peak()} bytes`);
    await restartKeepsCheckpoint(dir, d, 'app.log', 5, 7);
    // Counted once: at the first run's shutdown, and not again after the restart.
    const cut = reports(dir).map((r) => Number(/"lines_cut":(\d+)/.exec(JSON.stringify(r))[1]));
    assert.deepEqual(cut, [1, 0]);
    assert.deepEqual(seen(dir), range(0, 7));
  });

  test('counts garbage, invalid UTF-8 and NUL lines as not parsed and still detects the good lines', async () => {
    const dir = dirWith(['app.log', 'other.log'], HTTP);
    const h = hostileLog();
    write(dir, 'other.log', 100, 101);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 1, 'the other source');
    // Appended while running, in pieces that cut lines and characters in two.
    const file = logs(dir, 'app.log');
    for (let i = 0; i < h.bytes.length; i += 997) {
      fs.appendFileSync(file, h.bytes.subarray(i, i + 997));
      if (i % 3 === 0) await sleep(20);
    }
    await waitFor(() => seen(dir).length === 1 + h.attacks.length, 'the good lines');
    write(dir, 'other.log', 101, 102);
    await waitFor(() => seen(dir).length === 2 + h.attacks.length, 'the other source again');
    const metrics = (await get(d, '/metrics')).body;
    const notParsed = new RegExp(`logward_source_not_parsed_total\\{source="${file.replace(/[.\\/]/g, '\\$&')}"[^}]*\\} (\\d+)`).exec(metrics);
    assert.equal(Number(notParsed?.[1]), h.notParsed, metrics);
    assert.equal((await get(d, '/healthz')).status, 200);
    assert.deepEqual(sorted(seen(dir)), [...h.attacks, 100, 101]);
    await restartKeepsCheckpoint(dir, d, 'app.log', 10, 12);
  });

  test('stops reading a source replaced by a directory, says so once, and reads the file that takes its place', async () => {
    const dir = dirWith(['app.log', 'other.log']);
    write(dir, 'app.log', 0, 3);
    write(dir, 'other.log', 100, 101);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 4, '4 events');
    d.kill('SIGSTOP'); // the last lines are still unread when the file goes
    try {
      write(dir, 'app.log', 3, 5);
      fs.rmSync(logs(dir, 'app.log'));
      fs.mkdirSync(logs(dir, 'app.log'));
    } finally {
      d.kill('SIGCONT');
    }
    await waitFor(() => seen(dir).length === 6, 'the lines written before the replacement');
    await sleep(1000); // five re-checks
    write(dir, 'other.log', 101, 103);
    await waitFor(() => seen(dir).length === 8, 'the other source');
    assert.equal(count(d.output, /A source is not a regular file/), 1, d.output);
    assert.match(d.output, /"type":"directory"/);
    assert.equal(count(d.output, /A source was deleted or replaced/), 1);
    fs.rmdirSync(logs(dir, 'app.log'));
    write(dir, 'app.log', 5, 8);
    await waitFor(() => seen(dir).length === 11, 'the new file');
    assert.match(d.output, /A source can be read again/);
    assert.deepEqual(sorted(seen(dir)), [...range(0, 8), 100, 101, 102]);
    await restartKeepsCheckpoint(dir, d, 'app.log', 8, 10);
  });

  test('never opens a FIFO source (it would block), warns once, and keeps reading the others', { timeout: 60_000 }, async () => {
    const dir = dirWith(['pipe.log', 'other.log', (dd) => `  - { path: "${path.join(dd, 'more')}", start_at: beginning }`], HTTP);
    execFileSync('mkfifo', [logs(dir, 'pipe.log')]);
    fs.mkdirSync(path.join(dir, 'more'));
    execFileSync('mkfifo', [path.join(dir, 'more', 'fifo.log')]);
    fs.writeFileSync(path.join(dir, 'more', 'm.log'), attacks(200, 201));
    write(dir, 'other.log', 100, 102);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, 'the regular files');
    await sleep(1000); // five re-checks
    write(dir, 'other.log', 102, 103);
    await waitFor(() => seen(dir).length === 4, 'the other source');
    assert.equal(count(d.output, /A source is not a regular file/), 1, d.output);
    assert.match(d.output, /"type":"FIFO \(named pipe\)"/);
    assert.equal(count(d.output, /A source directory holds something that is not a regular file/), 1);
    const health = await get(d, '/healthz');
    assert.equal(health.status, 200, health.body);
    await restartKeepsCheckpoint(dir, d, 'other.log', 103, 105);
  });
});

describe('symbolic links: logward run', () => {
  test('follows a configured path that is a link, wherever it leads, and watches where it leads', async () => {
    const dir = dirWith(['app.log']);
    const cfg = path.join(dir, 'logward.yaml');
    // The re-check is 10 minutes away: only the watcher of the link's target can deliver.
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('poll_secs: 0.2', 'poll_secs: 600'));
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'real.log'), attacks(0, 2));
    fs.symlinkSync(path.join(elsewhere, 'real.log'), logs(dir, 'app.log'));
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    await sleep(500); // the watches are in place
    fs.appendFileSync(path.join(elsewhere, 'real.log'), attacks(2, 4));
    await waitFor(() => seen(dir).length === 4, '4 events', 5000);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), range(0, 4));
  });

  test('in a directory source follows links that stay inside it, not those leading out, unless follow_symlinks', async () => {
    const dir = dirWith([(dd) => `  - { path: "${path.join(dd, 'logs')}", start_at: beginning }`]);
    const secret = path.join(dir, 'secret');
    fs.mkdirSync(secret);
    fs.writeFileSync(path.join(secret, 'shadow'), attacks(900, 902));
    write(dir, 'a.log', 0, 2);
    fs.mkdirSync(logs(dir, 'current'));
    fs.writeFileSync(logs(dir, 'current/b'), attacks(2, 3));
    fs.symlinkSync('current/b', logs(dir, 'b.log')); // inside: followed
    fs.symlinkSync(path.join(secret, 'shadow'), logs(dir, 'evil.log')); // outside: not followed
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    // A followed file swapped for a link that leads out is not followed either.
    fs.renameSync(logs(dir, 'a.log'), logs(dir, 'a.log.1'));
    fs.symlinkSync(path.join(secret, 'shadow'), logs(dir, 'a.log'));
    await sleep(1000); // five re-checks
    write(dir, 'b.log', 3, 4);
    await waitFor(() => seen(dir).length === 4, 'the linked file');
    assert.deepEqual(sorted(seen(dir)), range(0, 4));
    assert.equal(count(d.output, /points outside it; it is not followed/), 1, d.output);
    assert.equal(count(d.output, /now a symbolic link leading outside its source directory/), 1, d.output);
    fs.rmSync(logs(dir, 'a.log'));
    write(dir, 'a.log', 4, 5);
    await waitFor(() => seen(dir).length === 5, 'the file back in place');
    const d2 = await restartKeepsCheckpoint(dir, d, 'b.log', 5, 6);
    assert.doesNotMatch(seen(dir).join(), /900|901/);
    assert.equal(count(d2.output, /points outside it; it is not followed/), 1);

    // The same link is followed once the source allows it.
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('start_at: beginning }', 'start_at: beginning, follow_symlinks: true }'));
    const d3 = startDaemon(dir);
    await waitFor(() => seen(dir).length === 8, 'the linked-to file');
    assert.equal((await stopDaemon(d3)).code, 0, d3.output);
    assert.deepEqual(sorted(seen(dir).slice(-2)), [900, 901]);
  });

  test('validates follow_symlinks: a boolean, on path sources only', async () => {
    const dir = dirWith([]);
    const cfg = path.join(dir, 'logward.yaml');
    const base = fs.readFileSync(cfg, 'utf8');
    fs.writeFileSync(cfg, base.replace('sources:\n', `sources:\n  - { path: "${logs(dir, 'x.log')}", follow_symlinks: yes please }\n  - { journal: {}, follow_symlinks: true }\n`));
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /sources\[0\]\.follow_symlinks/);
    assert.match(r.stdout + r.stderr, /sources\[1\]\.follow_symlinks: follow_symlinks applies to path sources/);
  });
});

describe('files that go away: logward run', () => {
  test('reads the lines written to a file deleted while open, reports it gone once, and picks it up when it is created again', async () => {
    const dir = dirWith(['app.log', 'other.log']);
    const file = logs(dir, 'app.log');
    const fd = fs.openSync(file, 'a'); // the writer keeps its descriptor, as a logging daemon does
    try {
      fs.writeSync(fd, attacks(0, 3));
      write(dir, 'other.log', 100, 101);
      const d = startDaemon(dir);
      await waitFor(() => seen(dir).length === 4, '4 events');
      d.kill('SIGSTOP');
      try {
        fs.writeSync(fd, attacks(3, 5));
        fs.unlinkSync(file);
        fs.writeSync(fd, attacks(5, 6)); // after the unlink, still into the open file
      } finally {
        d.kill('SIGCONT');
      }
      await waitFor(() => seen(dir).length === 7, 'the lines written before and after the unlink');
      await sleep(1000); // five re-checks
      write(dir, 'other.log', 101, 102);
      await waitFor(() => seen(dir).length === 8, 'the other source');
      assert.equal(count(d.output, /A source was deleted or replaced/), 1, d.output);
      assert.equal(count(d.output, /does not exist \(yet\)/), 1, d.output);
      write(dir, 'app.log', 6, 9);
      await waitFor(() => seen(dir).length === 11, 'the file created again');
      assert.deepEqual(sorted(seen(dir)), [...range(0, 9), 100, 101]);
      await restartKeepsCheckpoint(dir, d, 'app.log', 9, 11);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('permissions lost while running: logward run as an unprivileged user', { skip: NOBODY.skip }, () => {
  test('keeps the checkpoint of a file it can no longer open, says so once, and continues there when it can', async () => {
    const dir = dirWith(['app.log', 'other.log']);
    const file = logs(dir, 'app.log');
    write(dir, 'app.log', 0, 3);
    write(dir, 'other.log', 100, 101);
    const d = startAsNobody(dir);
    await waitFor(() => seen(dir).length === 4, '4 events');
    fs.chmodSync(file, 0o000);
    // The descriptor opened while it was allowed still reads: that is how Unix works.
    write(dir, 'app.log', 3, 5);
    await waitFor(() => seen(dir).length === 6, 'the lines through the open descriptor');
    // A reload reopens every file: now the open is refused.
    d.kill('SIGHUP');
    await waitFor(() => /Configuration reloaded/.test(d.output), 'the reload');
    write(dir, 'app.log', 5, 7);
    await sleep(1000); // five re-checks
    write(dir, 'other.log', 101, 102);
    await waitFor(() => seen(dir).length === 7, 'the other source');
    assert.equal(seen(dir).includes(5), false, 'read a file it may not open');
    assert.equal(count(d.output, /A source cannot be opened/), 1, d.output);
    assert.match(d.output, /EACCES: permission denied/);
    fs.chmodSync(file, 0o644);
    await waitFor(() => seen(dir).length === 9, 'the lines written while it could not be opened');
    assert.match(d.output, /A source can be read again/);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(sorted(seen(dir)), [...range(0, 7), 100, 101]);

    // Lost while logward was stopped: the checkpoint waits for the file, not the start.
    fs.chmodSync(file, 0o000);
    write(dir, 'app.log', 7, 9);
    const d2 = startAsNobody(dir);
    await waitFor(() => /A source cannot be opened/.test(d2.output), 'the refusal');
    write(dir, 'other.log', 102, 103);
    await waitFor(() => seen(dir).length === 10, 'the other source');
    await sleep(600);
    fs.chmodSync(file, 0o644);
    await waitFor(() => seen(dir).length === 12, 'the lines after the checkpoint');
    assert.equal(count(d2.output, /A source cannot be opened/), 1, d2.output);
    await restartKeepsCheckpoint(dir, d2, 'app.log', 9, 11, startAsNobody);
    assert.deepEqual(sorted(seen(dir)), [...range(0, 11), 100, 101, 102]);
  });

  test('keeps reading an open file whose directory it may no longer look into, and reads nothing twice after', async () => {
    const dir = dirWith(['app.log', 'other.log']);
    write(dir, 'app.log', 0, 2);
    write(dir, 'other.log', 100, 101);
    const d = startAsNobody(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    await sleep(500); // the watches are in place
    fs.chmodSync(path.join(dir, 'logs'), 0o700); // root's, so closed to nobody
    try {
      write(dir, 'app.log', 2, 4);
      write(dir, 'other.log', 101, 102);
      await waitFor(() => seen(dir).length === 6, 'the lines through the open descriptors');
      await sleep(600);
    } finally {
      fs.chmodSync(path.join(dir, 'logs'), 0o755);
    }
    write(dir, 'app.log', 4, 5);
    await waitFor(() => seen(dir).length === 7, 'the next line');
    await sleep(400);
    assert.deepEqual(sorted(seen(dir)), [...range(0, 5), 100, 101]);
    assert.doesNotMatch(d.output, /rotated|deleted or replaced|cannot be opened|Reading a source failed/, d.output);
    assert.ok(count(d.output, /A file watcher failed/) <= 1, d.output);
    await restartKeepsCheckpoint(dir, d, 'app.log', 5, 7, startAsNobody);
  });

  test('reads a start_at: end file it could not open at start from where its lines ended then', async () => {
    const dir = dirWith(['other.log', (dd) => `  - { path: "${logs(dd, 'app.log')}", start_at: end }`]);
    const file = logs(dir, 'app.log');
    fs.writeFileSync(file, attacks(0, 3), { mode: 0o600 }); // history: skipped by start_at: end
    write(dir, 'other.log', 100, 101);
    const d = startAsNobody(dir);
    await waitFor(() => /A source cannot be opened/.test(d.output), 'the refusal');
    write(dir, 'app.log', 3, 5); // written after logward started: not to be lost
    await sleep(600);
    fs.chmodSync(file, 0o644);
    await waitFor(() => seen(dir).length === 3, 'the lines written after the start');
    await sleep(400);
    assert.deepEqual(sorted(seen(dir)), [3, 4, 100]);
    assert.equal(count(d.output, /A source cannot be opened/), 1, d.output);
    await restartKeepsCheckpoint(dir, d, 'app.log', 5, 7, startAsNobody);
  });

  test('reads a file rotated into one it may not open once it may, from its beginning', async () => {
    const dir = dirWith(['app.log', 'other.log']);
    const file = logs(dir, 'app.log');
    write(dir, 'app.log', 0, 2);
    write(dir, 'other.log', 100, 101);
    const d = startAsNobody(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    // logrotate's `create 0640 root adm` for a user outside adm.
    write(dir, 'app.log', 2, 3);
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, attacks(3, 5), { mode: 0o600 });
    await waitFor(() => seen(dir).length === 4, 'the end of the rotated file');
    await sleep(1000);
    write(dir, 'other.log', 101, 102);
    await waitFor(() => seen(dir).length === 5, 'the other source');
    assert.equal(count(d.output, /A source cannot be opened/), 1, d.output);
    fs.chmodSync(file, 0o644);
    await waitFor(() => seen(dir).length === 7, 'the new file');
    assert.deepEqual(sorted(seen(dir)), [...range(0, 5), 100, 101]);
    await restartKeepsCheckpoint(dir, d, 'app.log', 5, 7, startAsNobody);
  });
});
