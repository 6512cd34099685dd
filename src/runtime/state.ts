// The daemon's reading positions, in one versioned JSON file replaced atomically
// (temp file, fsync, rename): a crash or kill -9 leaves the previous complete version.
// Positions advance only after the lines they cover were processed and their events
// written, so a restart re-reads at most a few lines and never skips one.
// A file read back is checked field by field (state-check.ts): a damaged entry is
// dropped, the rest is used, and the file as read is kept as `.damaged-<time>` before the
// next save replaces it. A damaged state file never stops the daemon.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { Problems } from '../util/check.js';
import { keepAside } from '../util/keep-aside.js';
import { checkState, emptyState, type CheckedState, type DaemonState } from './state-check.js';

export { STATE_VERSION, type DaemonState } from './state-check.js';

export interface LoadedState extends CheckedState {
  /** Where the file as read was kept, when something of it was dropped. */
  keptAt: string | null;
  /** Why it could not be kept (the daemon starts anyway). */
  keepError: string | null;
}

export class StateStore {
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, 'logward-state.json');
  }

  /** Reads and checks the state file; a damaged one is kept aside. `now` is the wall-clock ms. */
  load(now: number): LoadedState {
    const read = this.readRaw(now);
    if (read === null) return { state: emptyState(), problems: new Problems(), fresh: false, keptAt: null, keepError: null };
    const { bytes, checked } = read;
    if (checked.problems.count === 0) return { ...checked, keptAt: null, keepError: null };
    // Kept before anything replaces it: the next save writes the checked state over it.
    const kept = keepAside(this.file, bytes, now);
    return { ...checked, keptAt: kept.kept, keepError: kept.error };
  }

  /** The checked state without keeping anything aside (for a reader such as `logward digest`); null without a file. */
  read(now: number): CheckedState | null {
    return this.readRaw(now)?.checked ?? null;
  }

  save(state: DaemonState): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o750 });
    writeFileAtomic(this.file, `${JSON.stringify(state)}\n`, 0o640);
  }

  private readRaw(now: number): { bytes: Buffer; checked: CheckedState } | null {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch {
      // The parser's message quotes the text around the fault, which may be a log line.
      const problems = new Problems();
      problems.add('the file', `not JSON (${bytes.length} bytes)`);
      return { bytes, checked: { state: emptyState(), problems, fresh: true } };
    }
    return { bytes, checked: checkState(doc, now) };
  }
}

/** The one warning about a damaged state file (what was dropped, where the file as read went), or null. */
export function damageReport(file: string, loaded: LoadedState): { fields: Record<string, unknown>; message: string } | null {
  const p = loaded.problems;
  if (p.count === 0) return null;
  const kept = loaded.keptAt !== null ? `the file as read was kept as ${loaded.keptAt}` : `the file as read could not be kept aside (${loaded.keepError ?? 'unknown error'})`;
  const message = loaded.fresh
    ? `The state file is damaged (${p.summary()}); nothing of it can be used: reading starts afresh (each source from its start_at), and ${kept}.`
    : `The state file had damaged entries (${p.summary()}); they were dropped and the rest is used; ${kept}.`;
  return { fields: { file, keptAt: loaded.keptAt, problems: p.first, dropped: p.count }, message };
}
