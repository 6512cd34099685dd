// Reading the followed files: which files are followed (from the file set), when each is
// read (at start, on a watcher's change event, in a short trail after one, on the periodic
// re-check, and slice by slice through a backlog), and what a tail reports about them (in
// the log, once per condition). Lines go to `onBatch`; it never parses or detects, and it
// never saves state: the daemon does both.

import type { DetectorSource } from '../core/detector.js';
import { FileTail, type TailBatch, type TailEvent, type TailPosition, type TailProblem } from '../sources/file-tail.js';
import type { FileSet, Skip, SourceSpec } from '../sources/file-set.js';
import { fileType } from '../sources/paths.js';
import { watchDirs, type DirWatcher } from '../sources/watch.js';
import type { Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** Delay of the follow-up read after a change event (see trail). */
const TRAIL_MS = 15;
/** chokidar drops a file's change events for this long after one it emitted (plus slack). */
const WATCH_THROTTLE_MS = 60;
/**
 * Bytes read from one file per turn of the event loop (about 0.1 s of detection here): a
 * backlog of gigabytes is read in slices, so checkpoints, /metrics and SIGTERM are served
 * while it is caught up.
 */
const READ_BUDGET = 1024 * 1024;

export interface FollowedFile {
  readonly tail: FileTail;
  readonly src: DetectorSource;
  readonly spec: SourceSpec;
}

export interface ReaderOptions {
  readonly log: Logger;
  readonly clock: Clock;
  readonly pollMs: number;
  readonly maxLineBytes: number;
  /** The saved position of a file, or null. */
  readonly saved: (file: string) => TailPosition | null;
  readonly source: (file: string, spec: SourceSpec) => DetectorSource;
  readonly onBatch: (f: FollowedFile, b: TailBatch) => void;
  /** Every file was read to its end for the first time since start. */
  readonly onCaughtUp: () => void;
}

export class FileReader {
  readonly followed = new Map<string, FollowedFile>();
  private readonly trailing = new Map<FollowedFile, NodeJS.Timeout>();
  private readonly lastChange = new Map<FollowedFile, number>();
  /** Files read up to the budget with more to read: read on at the next turn. */
  private readonly catching = new Set<FollowedFile>();
  private caughtUpWaiters: (() => void)[] = [];
  private caughtUpOnce = false;
  /** Files whose last word from their tail was a problem (cleared when they open), with what it was. */
  private readonly problems = new Map<string, string>();
  /** The last read error of each failing source (logged once until a read succeeds). */
  private readonly failing = new Map<FollowedFile, string>();
  private watcher: DirWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private files: FileSet;

  constructor(private readonly opts: ReaderOptions, files: FileSet) {
    this.files = files;
  }

  /** Follows what every source names now and reads it (a backlog: its first slice). */
  open(): void {
    for (const spec of this.files.specs) {
      const found = this.files.list(spec, (dir, err) => this.opts.log.warn({ dir, err: describeSystemError(err) }, 'A source directory cannot be read; it is checked again later.'));
      for (const file of found) this.follow(file, spec);
    }
    for (const f of this.followed.values()) this.pollOne(f);
  }

  /** Watches for changes and re-checks every poll_secs. */
  watch(): void {
    this.settle();
    this.watcher = watchDirs(
      this.files.watchDirs(),
      (file) => this.onChange(file),
      (err) => this.opts.log.warn({ err: err.message }, 'A file watcher failed; the periodic re-check still reads every source.'),
      () => {
        if (!this.stopping) this.pollAll();
      },
    );
    this.timer = setInterval(() => this.pollAll(), this.opts.pollMs);
  }

  /** Stops watching and trailing; what was written until now is read once more. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.settle();
    if (this.timer !== null) clearInterval(this.timer);
    for (const t of this.trailing.values()) clearTimeout(t);
    this.trailing.clear();
    await this.watcher?.close();
  }

  /** Releases every open file. */
  close(): void {
    for (const f of this.followed.values()) f.tail.close();
  }

  /** SIGHUP: new sources; the new tails start from the positions saved just before. */
  replace(files: FileSet): void {
    this.close();
    this.followed.clear();
    this.lastChange.clear();
    this.failing.clear();
    this.files = files;
    this.open();
    this.pollAll();
  }

  /** Resolves when every file has been read to its end (--once), or reading stops. */
  caughtUp(): Promise<void> {
    if (this.catching.size === 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  specs(): readonly SourceSpec[] {
    return this.files.specs;
  }

  /** Lines read from followed files since start. */
  lines(): number {
    let n = 0;
    for (const f of this.followed.values()) n += f.src.stats.lines;
    return n;
  }

  pollAll(): void {
    // New files of followed directories are found here too if a watch event was missed.
    for (const spec of this.files.specs) {
      if (spec.kind === 'file' || this.stopping) continue;
      for (const file of this.files.list(spec, undefined, (file) => this.followed.has(file))) this.follow(file, spec, 'beginning');
    }
    for (const f of this.followed.values()) this.pollOne(f);
  }

  private follow(file: string, spec: SourceSpec, startAt = spec.startAt): FollowedFile {
    const existing = this.followed.get(file);
    if (existing !== undefined) return existing;
    const tail = new FileTail(file, {
      maxLineBytes: this.opts.maxLineBytes,
      readBudget: READ_BUDGET,
      startAt,
      saved: this.opts.saved(file),
      // A configured file is followed wherever its link leads (as /var/log setups use).
      confine: spec.kind === 'file' || spec.followSymlinks ? null : spec.path,
      onBatch: (b) => this.opts.onBatch(f, b),
      onEvent: (e) => this.onTailEvent(e),
    });
    const f: FollowedFile = { tail, src: this.opts.source(file, spec), spec };
    this.followed.set(file, f);
    return f;
  }

  private onChange(file: string): void {
    if (this.stopping) return;
    const f = this.followed.get(this.files.configuredPath(file)) ?? this.followed.get(file);
    if (f !== undefined) {
      this.pollOne(f);
      this.lastChange.set(f, this.opts.clock.now());
      this.trail(f);
      return;
    }
    const spec = this.files.sourceOf(file);
    // A new file in a followed directory is read from its beginning.
    if (spec !== null) this.pollOne(this.follow(file, spec, 'beginning'));
  }

  private pollOne(f: FollowedFile): number {
    try {
      const n = f.tail.poll();
      this.failing.delete(f);
      if (f.tail.behind && !this.stopping) this.catchUp(f);
      return n;
    } catch (err) {
      // Once per source and error, not at every re-check while it lasts.
      const what = describeSystemError(err);
      if (this.failing.get(f) !== what) this.opts.log.error({ file: f.tail.path, err: what }, 'Reading a source failed; it is tried again at the next change or re-check.');
      this.failing.set(f, what);
      return 0;
    }
  }

  /**
   * Reads again shortly after a change, and keeps doing so while lines keep coming: the
   * watcher drops change events within 50 ms of the previous one, so a write in that
   * gap would otherwise wait for the next write or the slow re-check. Stops once a read
   * finds nothing and that throttle window has passed (no polling of an idle file).
   */
  private trail(f: FollowedFile): void {
    if (this.trailing.has(f)) return;
    const t = setTimeout(() => {
      this.trailing.delete(f);
      if (this.stopping || this.followed.get(f.tail.path) !== f) return;
      const read = this.pollOne(f);
      if (read > 0 || this.opts.clock.now() - (this.lastChange.get(f) ?? 0) < WATCH_THROTTLE_MS) this.trail(f);
      else this.lastChange.delete(f);
    }, TRAIL_MS);
    this.trailing.set(f, t);
  }

  /** Reads the next slice of a file that stopped at the read budget, after what is queued. */
  private catchUp(f: FollowedFile): void {
    if (this.catching.has(f)) return;
    this.catching.add(f);
    setImmediate(() => {
      this.catching.delete(f);
      if (!this.stopping && this.followed.get(f.tail.path) === f) this.pollOne(f);
      this.settle();
    });
  }

  private settle(): void {
    if (this.catching.size > 0 && !this.stopping) return;
    for (const w of this.caughtUpWaiters.splice(0)) w();
    if (this.caughtUpOnce || this.stopping) return;
    this.caughtUpOnce = true;
    this.opts.onCaughtUp();
  }

  /**
   * Why no followed file can be read, when that is so: every file reported a problem other
   * than "does not exist yet" (which is a normal wait for a log that appears later).
   */
  noneReadable(): string[] | null {
    if (this.followed.size === 0) return null;
    const why: string[] = [];
    for (const file of this.followed.keys()) {
      const p = this.problems.get(file);
      if (p === undefined || p === 'missing') return null;
      why.push(`${file} (${p})`);
    }
    return why;
  }

  private onTailEvent(e: TailEvent): void {
    const log = this.opts.log;
    if (e.kind === 'problem') this.problems.set(e.file, e.problem.kind === 'unreadable' ? describeSystemError(e.problem.error) : e.problem.kind);
    else if (e.kind === 'opened' || e.kind === 'readable') this.problems.delete(e.file);
    switch (e.kind) {
      case 'problem': logProblem(log, e.file, e.problem); break;
      case 'readable': log.info({ file: e.file, after: e.after.kind }, 'A source can be read again; reading continues.'); break;
      case 'rotated': log.info({ file: e.file, drainedLines: e.drained }, 'A source was rotated; the old file was read to its end.'); break;
      case 'gone': log.warn({ file: e.file, drainedLines: e.drained }, 'A source was deleted or replaced; what was written to it was read to its end.'); break;
      case 'truncated': log.warn({ file: e.file, offset: e.offset }, 'A source was truncated (copytruncate); reading starts again at its beginning.'); break;
      case 'replaced': log.info({ file: e.file, offset: e.offset }, 'A source was replaced by an identical copy (another inode, the same bytes); reading goes on at its saved position.'); break;
      case 'recovered': log.info({ file: e.file, from: e.from, lines: e.lines }, 'A source was rotated before logward read it to its end; the unread end was read from the rotated file first.'); break;
      case 'opened': log.debug({ file: e.file, from: e.from }, 'Following a source.'); break;
    }
  }
}

/** Once per source and condition (the tail reports a condition again only after it cleared). */
function logProblem(log: Logger, file: string, p: TailProblem): void {
  switch (p.kind) {
    case 'missing': log.warn({ file }, 'A source does not exist (yet); it is picked up when it appears.'); break;
    case 'unreadable': log.error({ file, err: describeSystemError(p.error) }, 'A source cannot be opened; its lines are not read until it can. Give logward read access (e.g. the adm group); reading then continues where it stopped.'); break;
    case 'not-a-file': log.warn({ file, type: p.type }, 'A source is not a regular file; it is not read (a FIFO would block reading) until a file takes its place.'); break;
    case 'outside': log.warn({ file, target: p.target }, 'A source is now a symbolic link leading outside its source directory; it is not followed. Set follow_symlinks: true on the source to follow it.'); break;
  }
}

/**
 * The warning for a file a directory or pattern source holds but does not follow (a link
 * leading outside it, a FIFO), logged once per file and reason.
 */
export function warnSkippedOnce(log: Logger): (file: string, why: Skip) => void {
  const seen = new Set<string>();
  return (file, why) => {
    const reason = why.kind === 'outside' ? `outside ${why.target}` : 'special';
    const key = `${file}\0${reason}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (why.kind === 'outside') log.warn({ file, target: why.target }, 'A symbolic link in a source directory points outside it; it is not followed. Set follow_symlinks: true on the source to follow such links.');
    else log.warn({ file, type: fileType(why.stats) }, 'A source directory holds something that is not a regular file; it is not read (reading a FIFO would block).');
  };
}
