// When and how the daemon's state reaches its state file. A save first makes the outputs
// durable (events file, alert stream, incident journal: `beforeSave`), then writes the
// state the daemon collects, so a checkpoint never covers a line whose event or alert is
// not on disk. A failing save is logged once per cause and once when it works again; it
// never stops the daemon (the previous checkpoint stays). It does not know what the state
// holds, and never decides what is read.

import fs from 'node:fs';
import type { Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { DaemonState, StateStore } from './state.js';

export interface CheckpointerOptions {
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** The state as of now (called only when something changed or no file exists yet). */
  collect: () => DaemonState;
  /** Makes the outputs the positions cover durable; called before every save. */
  beforeSave: () => void;
}

export class Checkpointer {
  private dirty = false;
  /** Wall-clock ms of the last successful (or unneeded) save, for /healthz. */
  private lastOk: number;
  /** Why the last save failed (null: it worked); logged once per cause. */
  private failing: string | null = null;

  constructor(private readonly opts: CheckpointerOptions) {
    this.lastOk = opts.clock.now();
  }

  get file(): string {
    return this.opts.store.file;
  }

  /** Why the last save failed, or null. */
  get failure(): string | null {
    return this.failing;
  }

  /** Something the state covers changed: the next save writes. */
  markDirty(): void {
    this.dirty = true;
  }

  /** No save has worked for longer than `ms`. */
  staleFor(ms: number): boolean {
    return this.opts.clock.now() - this.lastOk > ms;
  }

  save(): void {
    this.opts.beforeSave();
    if (!this.dirty && fs.existsSync(this.opts.store.file)) {
      this.lastOk = this.opts.clock.now();
      return;
    }
    try {
      this.opts.store.save(this.opts.collect());
      this.dirty = false;
      this.lastOk = this.opts.clock.now();
      if (this.failing !== null) this.opts.log.info({ file: this.opts.store.file }, 'Saving the reading positions works again.');
      this.failing = null;
    } catch (err) {
      // Once per cause, not at every checkpoint while the disk stays full.
      const what = describeSystemError(err);
      if (this.failing !== what) this.opts.log.error({ file: this.opts.store.file, err: what }, 'Saving the reading positions failed; the previous ones stay and saving is retried at every checkpoint (logged again only when it works or fails differently).');
      this.failing = what;
    }
  }
}
