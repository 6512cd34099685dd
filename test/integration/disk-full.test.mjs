// The state and report file system fills up under a running daemon: a real, small tmpfs
// (mounting needs root, as in CI), filled until write(2) fails with ENOSPC.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { daemonDir, startDaemon, stopDaemon, waitFor, killAll, attackLine } from '../helpers/daemon.mjs';

const isRoot = process.getuid?.() === 0;

/** Fills the file system of dir until ENOSPC; returns the filler file. */
function fill(dir) {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 0x78);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  }
  // The last partial blocks: tmpfs accounts whole pages.
  const small = Buffer.alloc(512, 0x78);
  try {
    for (;;) fs.writeSync(fd, small);
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

function position(stateFile, log) {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8')).files[log]?.offset ?? -1;
  } catch {
    return -1;
  }
}

describe('disk full while writing state and reports', { skip: isRoot ? false : 'needs root to mount a small tmpfs (CI runs as root)' }, () => {
  let dir;
  let mnt;
  let mounted = false;

  before(() => {
    mnt = fs.mkdtempSync('/tmp/logward-full-');
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mnt], { encoding: 'utf8' });
    // As root the mount must work: a failure here is an environment to fix, not a pass.
    assert.equal(r.status, 0, `cannot mount a 1 MiB tmpfs on ${mnt} (${r.stderr.trim()}); this test needs root and mount(8)`);
    mounted = true;
    dir = daemonDir({ extra: `  report_cron: "* * * * *"` });
    // state.dir and reports.dir on the small file system; logs and events stay outside.
    const cfgFile = path.join(dir, 'logward.yaml');
    const cfg = fs.readFileSync(cfgFile, 'utf8')
      .replace(`dir: ${path.join(dir, 'state')}`, `dir: ${path.join(mnt, 'state')}`)
      .replace(`dir: ${path.join(dir, 'reports')}`, `dir: ${path.join(mnt, 'reports')}`);
    fs.writeFileSync(cfgFile, cfg);
  });

  after(() => {
    killAll();
    if (mounted) spawnSync('umount', ['-l', mnt]);
    if (mnt !== undefined) fs.rmSync(mnt, { recursive: true, force: true });
  });

  const quiet = (n, from = 0) => Array.from({ length: n }, (_, i) => `Oct 14 12:00:${String((from + i) % 60).padStart(2, '0')} host1 cron[${from + i}]: job done\n`).join('');
  const logLines = (child, msg) => child.output.split('\n').filter((l) => l.includes(msg)).map((l) => JSON.parse(l));
  const tmpFiles = () => ['state', 'reports'].flatMap((d) => (fs.existsSync(path.join(mnt, d)) ? fs.readdirSync(path.join(mnt, d)) : []).filter((f) => f.endsWith('.tmp')));

  test('logs a clear error, keeps the previous state file whole, and saves again once space returns', async () => {
    const log = path.join(dir, 'logs', 'app.log');
    const stateFile = path.join(mnt, 'state', 'logward-state.json');
    fs.writeFileSync(log, quiet(5));
    const child = startDaemon(dir);
    await waitFor(() => position(stateFile, log) === fs.statSync(log).size, 'the first checkpoint', 30_000);
    const before = fs.readFileSync(stateFile, 'utf8');

    const filler = fill(mnt);
    // An attack while the disk is full (failed_logins fires at 3): the alert still goes out.
    fs.appendFileSync(log, attackLine(1) + attackLine(2) + attackLine(3) + quiet(20, 5));
    await waitFor(() => logLines(child, 'Saving the reading positions failed').length > 0, 'the failed save to be logged');
    const [entry] = logLines(child, 'Saving the reading positions failed');
    assert.equal(entry.file, stateFile);
    assert.match(entry.err, /ENOSPC: no space left on device/);
    assert.equal(entry.level, 'error', 'an operator must act: logged as an error');
    await waitFor(() => logLines(child, 'Writing the incident journal failed').length > 0, 'the failed journal append to be logged');
    assert.ok(child.output.includes('"rule":"failed_logins"'), 'the alert was still sent');

    // The previous state file is intact, its positions do not cover lines whose alert is
    // not on disk, and no temp file is left to use up the space.
    assert.equal(fs.readFileSync(stateFile, 'utf8'), before);
    assert.deepEqual(tmpFiles(), []);
    assert.equal(child.exitCode, null, 'the daemon keeps running');
    // Checkpoints (every 0.1 s) keep failing while the disk is full: logged once, not each time.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(logLines(child, 'Saving the reading positions failed').length, 1);

    fs.rmSync(filler);
    await waitFor(() => position(stateFile, log) === fs.statSync(log).size, 'a checkpoint after space returned');
    JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    await waitFor(() => logLines(child, 'Saving the reading positions works again').length === 1, 'the recovery to be logged');

    const { code } = await stopDaemon(child);
    assert.equal(code, 0, child.output.slice(-2000));
  });

  test('a report that cannot be written at shutdown is logged; the next start writes it', async () => {
    const log = path.join(dir, 'logs', 'app.log');
    const stateFile = path.join(mnt, 'state', 'logward-state.json');
    const child = startDaemon(dir);
    await waitFor(() => /Caught up with the files/.test(child.output), 'the daemon to catch up', 30_000);
    // An alert gives the shutdown report something to say.
    fs.appendFileSync(log, attackLine(10, 30) + attackLine(11, 31) + attackLine(12, 32));
    await waitFor(() => position(stateFile, log) === fs.statSync(log).size, 'the attack to be checkpointed');
    const before = fs.readFileSync(stateFile, 'utf8');
    const filler = fill(mnt);
    const { code } = await stopDaemon(child);
    assert.equal(code, 0, child.output.slice(-2000));
    const [failed] = logLines(child, 'Writing a report failed');
    assert.ok(failed !== undefined, child.output.slice(-2000));
    assert.equal(failed.dir, path.join(mnt, 'reports'));
    assert.match(failed.err, /ENOSPC: no space left on device/);
    assert.equal(fs.readFileSync(stateFile, 'utf8'), before);
    assert.deepEqual(tmpFiles(), []);

    fs.rmSync(filler);
    const again = startDaemon(dir);
    await waitFor(() => /Caught up with the files/.test(again.output), 'the restarted daemon to catch up', 30_000);
    fs.appendFileSync(log, quiet(3, 40));
    await waitFor(() => position(stateFile, log) === fs.statSync(log).size, 'a checkpoint of the restarted daemon');
    const stopped = await stopDaemon(again);
    assert.equal(stopped.code, 0, `exit ${stopped.code} ${stopped.signal}: ${again.output.slice(-2000)}`);
    assert.equal(logLines(again, '"level":"error"').length, 0, again.output.slice(-2000));
    assert.ok(fs.readdirSync(path.join(mnt, 'reports')).some((f) => f.endsWith('.json')), 'a report was written');
  });
});
