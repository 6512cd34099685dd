// Follows one log file by path through rotation: rename-then-create (logrotate's default;
// the old file is read to its end before switching), copytruncate (size below the offset:
// start again at 0), delete and recreate, replacement by a byte-identical copy (`cp f tmp
// && mv tmp f`: reading goes on at the same offset in the copy), a file that appears only
// later, partial last lines (held until their newline) and over-long lines (cut and
// counted by the splitter).
// It never watches anything itself: the daemon calls poll() when the watcher reports a
// change (and on a slow safety timer), so an idle host costs nothing.
// Hostile paths never stop it and never block it: something that is not a regular file
// (a directory, a FIFO, whose open would block the whole process) is never opened, a
// file that cannot be opened (permissions) keeps its checkpoint until it can, and with
// `confine` a symbolic link resolving outside that directory is refused. Each such
// condition is reported once (onEvent 'problem') until it clears.
// This module is the read state machine: positions, the read budget, partial last lines
// and when to switch files. Opening a path safely is safe-open.ts; finding and reading
// rotated siblings and copies is rotation.ts.

import fs from 'node:fs';
import { LineSplitter } from '../core/split.js';
import { HEAD_BYTES, fingerprintOf, hashBefore, isCopyAt, sameFile, type Fingerprint } from './fingerprint.js';
import { RotationRecovery } from './rotation.js';
import { probe } from './safe-open.js';
import type { OpenFile, TailBatch, TailEvent, TailPosition, TailProblem } from './tail-types.js';

export type { TailBatch, TailEvent, TailPosition, TailProblem } from './tail-types.js';

export interface FileTailOptions {
  maxLineBytes: number;
  /** Where to start in a file seen for the first time. */
  startAt: 'beginning' | 'end';
  saved: TailPosition | null;
  /**
   * A directory the file (and its rotated siblings) must resolve into: a symbolic link
   * pointing elsewhere is not followed. null follows every link (a configured file path).
   */
  confine?: string | null;
  /**
   * Bytes one poll reads from the current file before it returns with `behind` set, so a
   * big backlog is read in slices and checkpoints, signals and HTTP are served between
   * them. Rotated files are still read to their end in one go. Default: no limit.
   */
  readBudget?: number;
  onBatch: (batch: TailBatch) => void;
  onEvent?: (e: TailEvent) => void;
}

const READ_SIZE = 64 * 1024;
/** Lines handed over per batch (bounds memory while catching up a backlog). */
const BATCH_LINES = 1024;

export class FileTail {
  readonly path: string;
  private cur: OpenFile | null = null;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private started = false;
  /** The problem last reported (null: none, or it cleared). */
  private problem: TailProblem | null = null;
  /**
   * Where the next file opened at the path starts: startAt for the file there at start,
   * 'beginning' for one that appears later, or the end of the lines that were there when
   * a start_at: end file was first seen but could not be opened (nothing written after
   * that is skipped).
   */
  private nextFrom: 'beginning' | 'end' | { dev: number; ino: number; size: number };
  /** The position in the last file read, kept after it was deleted (what the checkpoint holds). */
  private last: TailPosition | null = null;
  private stoppedAtBudget = false;
  private readonly confine: string | null;
  private readonly recovery: RotationRecovery;
  cutLines = 0;

  constructor(filePath: string, private readonly opts: FileTailOptions) {
    this.path = filePath;
    this.nextFrom = opts.startAt;
    this.confine = opts.confine ?? null;
    this.recovery = new RotationRecovery({
      path: filePath,
      confine: this.confine,
      maxLineBytes: opts.maxLineBytes,
      drainToEnd: (f) => this.drain(f, true),
      onEvent: (e) => this.opts.onEvent?.(e),
    });
  }

  /** The checkpoint of the current (or last) file, or null before one was opened. */
  position(): TailPosition | null {
    const c = this.cur;
    if (c === null) return this.last;
    return { path: this.path, fingerprint: c.fp, offset: c.offset, line: c.line, before: hashBefore(c.fd, c.offset) };
  }

  /** Did the last poll stop at the read budget with more to read? Poll again soon. */
  get behind(): boolean {
    return this.stoppedAtBudget;
  }

  /** Reads what is available now, up to the read budget; returns the number of lines delivered. */
  poll(): number {
    this.stoppedAtBudget = false;
    if (!this.started) return this.start();
    let delivered = 0;
    const c = this.cur;
    if (c !== null) {
      let st: fs.Stats | null;
      try {
        st = fs.statSync(this.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // The path cannot be looked at (its directory lost its permissions), but the open
        // descriptor still reads the file; a rotation shows once the path can be seen.
        if (code !== 'ENOENT' && code !== 'ENOTDIR') return this.drain(c, false);
        st = null;
      }
      if (st !== null && st.dev === c.fp.dev && st.ino === c.fp.ino) {
        const fst = fs.fstatSync(c.fd);
        // copytruncate: the file shrank, or was emptied and written past the old offset
        // before this poll (its first bytes are no longer the ones it started with).
        if (fst.size < c.offset + c.splitter.pending || !sameFile(c.fp, c.fd, fst)) {
          this.opts.onEvent?.({ kind: 'truncated', file: this.path, offset: c.offset });
          // What the writer appended after our last read survives only in the copy.
          delivered += this.recovery.drainCopy(c);
          c.offset = 0;
          c.splitter = new LineSplitter(this.opts.maxLineBytes);
          c.fp = fingerprintOf(c.fd, fs.fstatSync(c.fd));
        }
        return delivered + this.drain(c, false);
      }
      // Renamed away, deleted or replaced: whatever the writer appended before that is
      // still in the old file, which the open descriptor keeps alive; read it to its end
      // first, then switch. A byte-identical copy put in its place is the same log: its
      // complete lines are read, its partial last line is read on from the copy.
      const before = c.line;
      const rotated = st !== null && st.isFile();
      if (rotated) {
        delivered += this.drain(c, false, Infinity);
        const copied = this.continueInCopy(c);
        if (copied !== null) return delivered + copied;
      }
      delivered += this.drain(c, true);
      this.opts.onEvent?.({ kind: rotated ? 'rotated' : 'gone', file: this.path, drained: c.line - before });
      const oldSt = fs.fstatSync(c.fd);
      this.recovery.remember(oldSt);
      this.last = this.position();
      this.closeCurrent();
      delivered += this.recovery.drainMissed(oldSt, st);
      this.nextFrom = 'beginning';
    }
    return delivered + this.openNext();
  }

  close(): void {
    this.closeCurrent();
  }

  /**
   * First poll: resume from the checkpoint, recovering a file rotated while stopped. While
   * the path exists but cannot be opened (permissions, replaced by a directory) the start
   * is tried again at every poll, so the checkpoint is used once it can be.
   */
  private start(): number {
    const saved = this.opts.saved;
    if (saved === null) {
      this.started = true;
      return this.openNext();
    }
    this.last = saved;
    const r = probe(this.path, this.confine);
    if (r.ok) {
      if (sameFile(saved.fingerprint, r.fd, r.st)) {
        this.started = true;
        const c: OpenFile = { fd: r.fd, fp: saved.fingerprint, name: this.path, offset: saved.offset, line: saved.line, splitter: new LineSplitter(this.opts.maxLineBytes) };
        let delivered = 0;
        if (r.st.size < c.offset) {
          this.opts.onEvent?.({ kind: 'truncated', file: this.path, offset: c.offset });
          delivered += this.recovery.drainCopy(c);
          c.offset = 0;
          c.line = 0;
          c.splitter = new LineSplitter(this.opts.maxLineBytes);
        }
        this.cur = c;
        this.cleared();
        this.opts.onEvent?.({ kind: 'opened', file: this.path, from: 'checkpoint' });
        return delivered + this.drain(this.cur, false);
      }
    } else if (r.problem.kind !== 'missing') {
      this.report(r.problem);
      return 0;
    }
    this.started = true;
    let delivered = 0;
    // Rotated while we were stopped: the old file lives on under another name
    // (auth.log.1); read its unread tail before the new file.
    const rotated = this.recovery.findRotated(saved);
    if (r.ok) {
      // Replaced by a byte-identical copy while stopped (the old file has no name left):
      // the same log, read on from the checkpoint.
      if (rotated === null && isCopyAt(saved.fingerprint, saved.offset, saved.before, r.fd, r.st)) {
        this.opts.onEvent?.({ kind: 'replaced', file: this.path, offset: saved.offset });
        return this.follow(r.fd, fingerprintOf(r.fd, r.st), saved.offset, saved.line, 'checkpoint');
      }
      fs.closeSync(r.fd);
    }
    const old = rotated ?? this.recovery.findCopy(saved.fingerprint, saved.offset);
    const read = old === null ? null : this.recovery.drainFile(old, { fp: saved.fingerprint, offset: saved.offset, line: saved.line });
    if (read !== null) {
      const { of, st: oldSt } = read;
      delivered += read.delivered;
      this.last = { path: this.path, fingerprint: of.fp, offset: of.offset, line: of.line };
      this.opts.onEvent?.({ kind: 'recovered', file: this.path, from: of.name, lines: of.line - saved.line });
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(this.path);
      } catch {
        // no new file yet
      }
      delivered += this.recovery.drainMissed(oldSt, now);
    }
    this.nextFrom = 'beginning';
    return delivered + this.openNext();
  }

  /** Opens the file now at the path (reporting once why it cannot) and reads it. */
  private openNext(): number {
    const r = probe(this.path, this.confine);
    if (!r.ok) {
      this.report(r.problem);
      if (this.nextFrom === 'end') {
        // A file that appears after start is new: all of it is read. One that is there
        // but cannot be opened yet starts where its lines ended when it was first seen.
        this.nextFrom = r.problem.kind === 'unreadable' && r.st !== null ? { dev: r.st.dev, ino: r.st.ino, size: r.st.size } : 'beginning';
      }
      return 0;
    }
    const { fd, st } = r;
    const from = this.nextFrom;
    let start = 0;
    if (from === 'end') start = lastLineEnd(fd, st.size);
    else if (from !== 'beginning' && from.dev === st.dev && from.ino === st.ino) start = lastLineEnd(fd, Math.min(from.size, st.size));
    this.nextFrom = 'beginning';
    return this.follow(fd, fingerprintOf(fd, st), start, 0, from === 'end' ? 'end' : 'beginning');
  }

  /**
   * `cp auth.log tmp && mv tmp auth.log`: the open file was unlinked and the path holds a
   * byte-identical copy of it under another inode (the same first bytes, at least the bytes
   * read, the same bytes before the offset). Reading goes on in it at the same offset,
   * instead of reading every old line again as a new file's. null: the path holds another
   * file, or the old one was rotated.
   */
  private continueInCopy(c: OpenFile): number | null {
    // The old file still has a name (auth.log.1): it was rotated, not replaced.
    if (fs.fstatSync(c.fd).nlink > 0) return null;
    const r = probe(this.path, this.confine);
    if (!r.ok) return null;
    if (!isCopyAt(c.fp, c.offset, hashBefore(c.fd, c.offset), r.fd, r.st)) {
      fs.closeSync(r.fd);
      return null;
    }
    this.closeCurrent();
    this.opts.onEvent?.({ kind: 'replaced', file: this.path, offset: c.offset });
    return this.follow(r.fd, fingerprintOf(r.fd, r.st), c.offset, c.line, 'checkpoint');
  }

  /** Reads on from a position in a file just opened at the path, which becomes the current one. */
  private follow(fd: number, fp: Fingerprint, offset: number, line: number, from: 'checkpoint' | 'beginning' | 'end'): number {
    this.cur = { fd, fp, name: this.path, offset, line, splitter: new LineSplitter(this.opts.maxLineBytes) };
    this.cleared();
    this.opts.onEvent?.({ kind: 'opened', file: this.path, from });
    return this.drain(this.cur, false);
  }

  /** Reports a problem unless it is the one reported last. */
  private report(problem: TailProblem): void {
    if (this.problem !== null && problemKey(this.problem) === problemKey(problem)) return;
    this.problem = problem;
    this.opts.onEvent?.({ kind: 'problem', file: this.path, problem });
  }

  private cleared(): void {
    const was = this.problem;
    this.problem = null;
    if (was !== null && was.kind !== 'missing') this.opts.onEvent?.({ kind: 'readable', file: this.path, after: was });
  }

  /**
   * Reads from the file's offset to its end, or until `budget` bytes were read; final: a
   * last line without newline is a line.
   */
  private drain(f: OpenFile, final: boolean, budget = final ? Infinity : this.opts.readBudget ?? Infinity): number {
    let pos = f.offset + f.splitter.pending;
    let batch: string[] = [];
    let firstLine = f.line + 1;
    let delivered = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      const lines = batch;
      batch = [];
      // Position first: the receiver may checkpoint inside onBatch.
      this.opts.onBatch({ file: f.name, lines, firstLine });
      delivered += lines.length;
      firstLine = f.line + 1;
    };
    const base = f.offset - f.splitter.consumed;
    const onLine = (l: string): void => {
      batch.push(l);
      f.line++;
    };
    let read = 0;
    for (;;) {
      if (read >= budget) {
        this.stoppedAtBudget = true;
        break;
      }
      const n = fs.readSync(f.fd, this.buf, 0, READ_SIZE, pos);
      if (n === 0) break;
      pos += n;
      read += n;
      if (f.fp.headLen < HEAD_BYTES && pos > f.fp.headLen) f.fp = fingerprintOf(f.fd, fs.fstatSync(f.fd));
      const cutBefore = f.splitter.stats.cut;
      f.splitter.push(this.buf.subarray(0, n), onLine);
      this.cutLines += f.splitter.stats.cut - cutBefore;
      // The splitter counts consumed bytes once a read's lines are out; the position (what
      // a checkpoint records) moves only past complete lines.
      f.offset = base + f.splitter.consumed;
      if (batch.length >= BATCH_LINES) flush();
    }
    if (final) {
      f.splitter.end(onLine);
      f.offset = base + f.splitter.consumed;
    }
    flush();
    return delivered;
  }

  private closeCurrent(): void {
    if (this.cur !== null) {
      try {
        fs.closeSync(this.cur.fd);
      } catch {
        // already closed
      }
      this.cur = null;
    }
  }
}

function problemKey(p: TailProblem): string {
  switch (p.kind) {
    case 'missing': return 'missing';
    case 'unreadable': return `unreadable ${p.error.code ?? p.error.message}`;
    case 'not-a-file': return `not-a-file ${p.type}`;
    case 'outside': return `outside ${p.target}`;
  }
}

/** Offset just after the last newline before size (start_at: end skips history, not a partial line). */
function lastLineEnd(fd: number, size: number): number {
  if (size === 0) return 0;
  const len = Math.min(size, READ_SIZE);
  const buf = Buffer.allocUnsafe(len);
  const n = fs.readSync(fd, buf, 0, len, size - len);
  const nl = buf.subarray(0, n).lastIndexOf(10);
  return nl === -1 ? (size > len ? size : 0) : size - len + nl + 1;
}
