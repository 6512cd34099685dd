// Which file is which, with the real `logward run`: a log replaced by a byte-identical
// copy (`cp auth.log tmp && mv tmp auth.log`) is the same log, read on where it was; a
// kill -9 before the first timed checkpoint writes no event twice; and `--events` never
// cuts back a file logward did not write.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { attackLine, caughtUp, daemonDir, events, killAll, logged, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { runCli } from '../helpers/cli.mjs';

after(killAll);

const lines = (from, to) => range(from, to).map((n) => attackLine(n)).join('');
/** Stands for the logs directory in a source line until the directory exists. */
const LOGS = '/LOGS-DIR';

/** `cp file tmp && mv tmp file`: the same bytes under another inode. */
function replaceByCopy(file) {
  const ino = fs.statSync(file).ino;
  fs.copyFileSync(file, `${file}.tmp`);
  fs.renameSync(`${file}.tmp`, file);
  assert.notEqual(fs.statSync(file).ino, ino);
}

/** A daemon directory following logs/auth.log from its end (the default), with a day of history in it. */
function withHistory() {
  const dir = daemonDir({ sources: [`  - { path: ${LOGS}/auth.log }`] });
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(LOGS, path.join(dir, 'logs')));
  const file = path.join(dir, 'logs', 'auth.log');
  fs.writeFileSync(file, lines(0, 40));
  return { dir, file };
}

describe('logward run and a log replaced by an identical copy', () => {
  test('reads on where it was in a copy put in place while running: no old event again, no spurious brute force', async () => {
    const { dir, file } = withHistory();
    const d = startDaemon(dir);
    await caughtUp(d);
    replaceByCopy(file);
    await logged(d, /A source was replaced by an identical copy/, 'the replacement');
    fs.appendFileSync(file, lines(100, 101));
    await waitFor(() => seen(dir).length >= 1, 'the new event');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), [100]);
    assert.doesNotMatch(d.output, /ALERT/);
  });

  test('reads on from the checkpoint in a copy put in place while stopped', async () => {
    const { dir, file } = withHistory();
    const d1 = startDaemon(dir);
    await caughtUp(d1);
    fs.appendFileSync(file, lines(100, 101));
    await waitFor(() => seen(dir).length >= 1, 'the first new event');
    assert.equal((await stopDaemon(d1)).code, 0, d1.output);
    replaceByCopy(file);
    fs.appendFileSync(file, lines(101, 102));
    const d2 = startDaemon(dir);
    await caughtUp(d2);
    await waitFor(() => seen(dir).length >= 2, 'the second new event');
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.deepEqual(seen(dir), [100, 101]);
    assert.match(d2.output, /A source was replaced by an identical copy/);
    assert.doesNotMatch(d2.output, /ALERT/);
  });

  test('reads a file put in place that differs in its first bytes from its start', async () => {
    const { dir, file } = withHistory();
    const d = startDaemon(dir);
    await caughtUp(d);
    fs.writeFileSync(`${file}.tmp`, lines(200, 202));
    fs.renameSync(`${file}.tmp`, file);
    await waitFor(() => seen(dir).length >= 2, 'the events of the new file');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.deepEqual(seen(dir), [200, 201]);
    assert.doesNotMatch(d.output, /replaced by an identical copy/);
  });
});

describe('logward run killed before its first timed checkpoint', () => {
  test('writes each event once after a kill -9 in the middle of the first backlog', async () => {
    const dir = daemonDir({ sources: [`  - { path: ${LOGS}, start_at: beginning }`] });
    const cfg = path.join(dir, 'logward.yaml');
    // The timed checkpoint never comes while this test runs.
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(LOGS, path.join(dir, 'logs')).replace('checkpoint_secs: 0.1', 'checkpoint_secs: 3600'));
    // Several files of a backlog: the first slice of each is read before reading settles.
    let n = 0;
    for (let f = 0; f < 6; f++) {
      fs.writeFileSync(path.join(dir, 'logs', `app${f}.log`), range(n, n + 8000).map((i) => attackLine(i, i % 60)).join(''));
      n += 8000;
    }
    const d1 = startDaemon(dir);
    const eventsFile = path.join(dir, 'events.jsonl');
    await waitFor(() => fs.existsSync(eventsFile) && fs.statSync(eventsFile).size > 0, 'the first events', 60_000);
    d1.kill('SIGKILL');
    await d1.exited;
    const written = events(dir).length;
    assert.ok(written < n, `killed while reading (${written} of ${n} events written)`);
    const d2 = startDaemon(dir);
    await caughtUp(d2);
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    const got = events(dir).map((e) => `${e.file}:${e.line}`);
    assert.equal(got.length, n, 'one event per attack line');
    assert.equal(new Set(got).size, n, 'no event twice');
  });
});

describe('logward run --events and a file it did not write', () => {
  /** A first life of the daemon: a checkpoint covering its events file. */
  async function checkpointed() {
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), lines(0, 3));
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    return dir;
  }
  const run = (dir, eventsFile) => runCli(['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', eventsFile]);

  test('refuses, exit 73, to cut another file longer than the checkpoint, naming it, and leaves it as it was', async () => {
    const dir = await checkpointed();
    const theirs = path.join(dir, 'theirs.jsonl');
    const content = '{"their":"data"}\n'.repeat(100);
    fs.writeFileSync(theirs, content);
    const r = await run(dir, theirs);
    assert.equal(r.code, 73, r.stderr + r.stdout);
    assert.match(r.stderr, new RegExp(`refusing to cut the events file ${theirs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.stderr, /it holds 1700 bytes and it is not the file logward wrote .*Move .* aside or pass another --events file/);
    assert.equal(fs.readFileSync(theirs, 'utf8'), content);
  });

  test('refuses to cut a file put in place of its own events file, and cuts its own torn tail', async () => {
    const dir = await checkpointed();
    const own = path.join(dir, 'events.jsonl');
    const before = fs.readFileSync(own, 'utf8');
    // Its own file with a torn tail (as a kill -9 leaves it) is cut back and appended to.
    fs.appendFileSync(own, '{"rule":"failed_logins","fi');
    fs.appendFileSync(path.join(dir, 'logs', 'app.log'), lines(3, 4));
    const r1 = await run(dir, own);
    assert.equal(r1.code, 0, r1.stderr + r1.stdout);
    assert.deepEqual(seen(dir), [0, 1, 2, 3]);
    assert.ok(fs.readFileSync(own, 'utf8').startsWith(before));
    // Another file in its place, longer than what the checkpoint covers, is left alone.
    const content = `${fs.readFileSync(own, 'utf8')}{"their":"data"}\n`;
    fs.writeFileSync(`${own}.new`, content);
    fs.renameSync(`${own}.new`, own);
    const r2 = await run(dir, own);
    assert.equal(r2.code, 73, r2.stderr + r2.stdout);
    assert.equal(fs.readFileSync(own, 'utf8'), content);
  });
});
