// The daemon's reading positions, in one versioned JSON file replaced atomically
// (temp file, fsync, rename): a crash or kill -9 leaves the previous complete version.
// Positions advance only after the lines they cover were processed and their events
// written, so a restart re-reads at most a few lines and never skips one.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { DetectorSnapshot } from '../core/detector.js';
import type { CoverageSnapshot } from '../digest/coverage.js';
import type { RateState } from '../delivery/alerts.js';
import type { EventsFileIdentity } from '../sinks/events-jsonl.js';
import type { TailPosition } from '../sources/file-tail.js';

export const STATE_VERSION = 2;

export interface DaemonState {
  version: number;
  /** By source path. */
  files: Record<string, TailPosition>;
  /** Journal cursors by source key (see journalKey). */
  journal: Record<string, string>;
  /** Bytes of the --events file covered by the positions (to drop a torn tail on restart). */
  eventsBytes: number | null;
  /** Which file those bytes are in: only that file is ever cut back to eventsBytes. */
  eventsFile?: EventsFileIdentity | null;
  /** Open windows and incidents as of the positions (version 2). */
  windows: DetectorSnapshot | null;
  /** What was read since the last digest. */
  coverage?: CoverageSnapshot | null;
  /** The alert-mail rate limiter. */
  rate?: RateState | null;
  /** Wall-clock ms of the last digest sent, or null. */
  lastDigest?: number | null;
}

export interface LoadedState {
  state: DaemonState;
  /** Set when a corrupt or foreign state file was moved aside. */
  movedAside: string | null;
}

export class StateStore {
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, 'logward-state.json');
  }

  load(): LoadedState {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: empty(), movedAside: null };
      throw err;
    }
    try {
      const doc = JSON.parse(text) as Partial<DaemonState>;
      // Version 1 had positions only; its files are read the same way.
      if ((doc.version !== 1 && doc.version !== STATE_VERSION) || typeof doc.files !== 'object' || doc.files === null) throw new Error('unknown version');
      const windows = doc.version === STATE_VERSION && typeof doc.windows === 'object' && doc.windows !== null ? doc.windows : null;
      const journal = typeof doc.journal === 'object' && doc.journal !== null ? doc.journal : {};
      const obj = <T>(v: T | null | undefined): T | null => (typeof v === 'object' && v !== null ? v : null);
      return {
        state: {
          version: STATE_VERSION, files: doc.files, journal, eventsBytes: doc.eventsBytes ?? null, eventsFile: identity(doc.eventsFile), windows,
          coverage: obj(doc.coverage), rate: obj(doc.rate), lastDigest: typeof doc.lastDigest === 'number' ? doc.lastDigest : null,
        },
        movedAside: null,
      };
    } catch {
      // Never refuse to start over a damaged state file: keep it for a post-mortem.
      const aside = `${this.file}.corrupt-${process.pid}`;
      fs.renameSync(this.file, aside);
      return { state: empty(), movedAside: aside };
    }
  }

  save(state: DaemonState): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o750 });
    writeFileAtomic(this.file, `${JSON.stringify(state)}\n`, 0o640);
  }
}

function identity(v: unknown): EventsFileIdentity | null {
  if (typeof v !== 'object' || v === null) return null;
  const { dev, ino } = v as Record<string, unknown>;
  return typeof dev === 'number' && typeof ino === 'number' ? { dev, ino } : null;
}

function empty(): DaemonState {
  return { version: STATE_VERSION, files: {}, journal: {}, eventsBytes: null, windows: null };
}
