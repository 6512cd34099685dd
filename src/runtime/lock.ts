// One `logward run` per state directory: <state dir>/logward.pid, created exclusively
// (O_EXCL) with the pid and start time of the daemon that owns the directory, and removed
// when it stops. A second daemon on the same directory would journal, alert and mail
// everything twice, so it is refused (exit 75). A pid file whose process is gone (a crash,
// kill -9, a reboot) is taken over with one warning. This module never signals or waits
// for the other process and never reads anything else in the directory.

import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../util/clock.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { processAlive } from '../util/pid.js';

export const LOCK_NAME = 'logward.pid';

export interface StateLock {
  readonly file: string;
  /** Removes the pid file, only while it is still this process's. */
  release(): void;
}

/** Pid files this process holds: a pid file naming our own pid is ours only if listed here. */
const held = new Set<string>();

interface Owner {
  text: string;
  pid: number | null;
  started: string | null;
}

/** Takes the state directory, or throws AppError STATE_LOCKED naming the daemon that has it. */
export function lockStateDir(dir: string, opts: { clock: Clock; log: Logger }): StateLock {
  const abs = path.resolve(dir);
  const file = path.join(abs, LOCK_NAME);
  try {
    fs.mkdirSync(abs, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new AppError('OUTPUT_UNWRITABLE', `cannot create the state directory ${abs} (${describeSystemError(err)}); check state.dir and its permissions, or pass --state-dir`);
  }
  const mine = `${process.pid}\n${new Date(opts.clock.now()).toISOString()}\n`;
  // A few rounds: each lost race against another starting daemon re-reads the file.
  for (let round = 0; round < 5; round++) {
    if (create(file, mine)) {
      held.add(file);
      return { file, release: () => release(file, mine) };
    }
    const owner = readOwner(file);
    if (owner === null) continue; // removed meanwhile: try again
    if (owner.pid !== null && alive(owner.pid, file)) {
      const since = owner.started !== null ? `, started ${owner.started}` : '';
      throw new AppError('STATE_LOCKED', `another logward run (pid ${owner.pid}${since}) is using the state directory ${abs}; stop it first, or give this one its own --state-dir`);
    }
    if (removeStale(file, owner.text)) {
      opts.log.warn({ file, pid: owner.pid, started: owner.started }, owner.pid === null
        ? 'The state directory\'s pid file was unreadable; this run takes the directory over.'
        : `The state directory was held by pid ${owner.pid}, which no longer runs (a crash or kill); this run takes it over.`);
    }
  }
  throw new AppError('STATE_LOCKED', `cannot take the state directory ${abs}: other logward processes keep replacing ${file}; stop them first`);
}

/** Creates the pid file if there is none. Throws AppError OUTPUT_UNWRITABLE for anything but EEXIST. */
function create(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AppError('OUTPUT_UNWRITABLE', `cannot create the pid file ${file} (${describeSystemError(err)}); check the permissions of the state directory or pass --state-dir`);
  }
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw new AppError('OUTPUT_UNWRITABLE', `cannot write the pid file ${file} (${describeSystemError(err)}); check free space and permissions of the state directory`);
  }
  fs.closeSync(fd);
  return true;
}

/** Who the pid file names, or null when it is gone. */
function readOwner(file: string): Owner | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('OUTPUT_UNWRITABLE', `cannot read the pid file ${file} (${describeSystemError(err)}); check the permissions of the state directory`);
  }
  const [first = '', second = ''] = text.split('\n');
  const pid = /^\d{1,10}$/.test(first.trim()) ? Number(first.trim()) : null;
  return { text, pid, started: second.trim() === '' ? null : second.trim() };
}

/**
 * Our own pid in the file is a leftover of an earlier process that had the same pid (a
 * container's daemon is always pid 1), unless this process holds it.
 */
function alive(pid: number, file: string): boolean {
  return pid === process.pid ? held.has(file) : processAlive(pid);
}

/**
 * Removes the stale pid file only if it is still the one judged stale: it is renamed
 * away first (only one process can), then compared. A live daemon's file renamed by a
 * lost race is put back with link(2), which never replaces a newer one.
 */
function removeStale(file: string, seen: string): boolean {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new AppError('OUTPUT_UNWRITABLE', `cannot replace the stale pid file ${file} (${describeSystemError(err)}); check the permissions of the state directory`);
  }
  try {
    if (fs.readFileSync(aside, 'utf8') === seen) return true;
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process created a new one meanwhile: it is the owner now.
    }
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function release(file: string, mine: string): void {
  if (!held.delete(file)) return;
  try {
    if (fs.readFileSync(file, 'utf8') === mine) fs.rmSync(file, { force: true });
  } catch {
    // Gone already, or unreadable: either way it is no longer ours to remove.
  }
}
