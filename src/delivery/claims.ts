// Who sends an outbox message right now. Before a send, the message's pending file is
// renamed into claimed/ under a name that carries the sender's pid and a token of its
// process: rename(2) succeeds for one process only, so two processes flushing one outbox
// (the daemon and `digest --send`, two commands) never send a message twice. A claim
// whose process is gone (a crash, kill -9) goes back to pending/. This module only moves
// and names files: it never reads a message, sends, or decides about retries.
//
//   <dir>/claimed/<pending file name>.<pid>-<token>

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { processAlive } from '../util/pid.js';

/**
 * Tells this process from an earlier one that had the same pid (a container's daemon is
 * always pid 1): a claim with our pid but another token was left by a process that is gone.
 */
const TOKEN = randomBytes(6).toString('hex');
const CLAIM = /^(.+)\.(\d{1,10})-([0-9a-f]+)$/;

export type TakeResult = 'claimed' | 'busy' | 'gone';

export class Claims {
  constructor(private readonly pendingDir: string, readonly dir: string) {}

  /** This process's claim file of a pending file name. */
  path(file: string): string {
    return path.join(this.dir, `${file}.${process.pid}-${TOKEN}`);
  }

  /**
   * Moves pending/<file> into our claim. 'busy': a live process holds it; 'gone': it was
   * delivered, dead-lettered or removed. A claim left by a process that is gone is taken
   * back first, so a crashed `digest --send` does not hold a message until the next start.
   */
  take(file: string): TakeResult {
    for (let round = 0; round < 2; round++) {
      try {
        fs.renameSync(path.join(this.pendingDir, file), this.path(file));
        return 'claimed';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const others = this.claimsOf(file);
      if (others.length === 0) return 'gone';
      if (others.some((c) => ownerAlive(c))) return 'busy';
      for (const c of others) this.putBack(c);
    }
    return 'busy';
  }

  /** Our claim goes back to pending/ as it is (a send not tried, or its record not updated). */
  giveBack(file: string): void {
    this.putBack(path.basename(this.path(file)));
  }

  /** Our claim is done with (delivered, dead-lettered, or its new record is in pending/). */
  drop(file: string): void {
    fs.rmSync(this.path(file), { force: true });
  }

  /** Whether any process holds a claim on this pending file name. */
  held(file: string): boolean {
    return this.claimsOf(file).length > 0;
  }

  /** At open: every claim of a process that is gone goes back to pending/. Returns how many. */
  recover(): number {
    let n = 0;
    for (const name of this.names()) {
      if (!ownerAlive(name) && this.putBack(name)) n++;
    }
    return n;
  }

  private names(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((n) => CLAIM.test(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private claimsOf(file: string): string[] {
    return this.names().filter((n) => CLAIM.exec(n)![1] === file);
  }

  /**
   * A claim back to pending/; when pending/ has the file again (its newer record was
   * written just before a crash), that one wins and the claim goes. False when another
   * process moved it first.
   */
  private putBack(name: string): boolean {
    const from = path.join(this.dir, name);
    const to = path.join(this.pendingDir, CLAIM.exec(name)![1]!);
    try {
      if (fs.existsSync(to)) fs.rmSync(from);
      else fs.renameSync(from, to);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

function ownerAlive(name: string): boolean {
  const m = CLAIM.exec(name);
  if (m === null) return false;
  const pid = Number(m[2]);
  return pid === process.pid ? m[3] === TOKEN : processAlive(pid);
}

/**
 * Removes the temp files (`.<name>.<pid>.<n>.tmp`, util/atomic-write) of processes that
 * are gone. Another live process may be writing its own right now; ours are written
 * synchronously, so none of ours is in progress while this runs.
 */
export function removeStaleTemps(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const m = /^\..+\.(\d{1,10})\.\d+\.tmp$/.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || !processAlive(pid)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
