// Follows one log file by path through rotation: rename-then-create (logrotate's default;
// the old file is read to its end before switching), copytruncate (size below the offset:
// start again at 0), delete and recreate, a file that appears only later, partial last
// lines (held until their newline) and over-long lines (cut and counted by the splitter).
// It never watches anything itself: the daemon calls poll() when the watcher reports a
// change (and on a slow safety timer), so an idle host costs nothing.
// Hostile paths never stop it and never block it: something that is not a regular file
// (a directory, a FIFO, whose open would block the whole process) is never opened, a
// file that cannot be opened (permissions) keeps its checkpoint until it can, and with
// `confine` a symbolic link resolving outside that directory is refused. Each such
// condition is reported once (onEvent 'problem') until it clears.

import fs from 'node:fs';
import path from 'node:path';
import { LineSplitter } from '../core/split.js';
import { HEAD_BYTES, fingerprintOf, hashHead, sameFile, type Fingerprint } from './fingerprint.js';
import { fileType, inside } from './paths.js';

/** Where reading stands in one file: what a checkpoint records. */
export interface TailPosition {
  path: string;
  fingerprint: Fingerprint;
  /** Bytes of complete lines processed. */
  offset: number;
  /** Lines processed (the next line is line + 1). */
  line: number;
}

export interface TailBatch {
  /** The file the lines come from (the old name while a rotated file is drained). */
  file: string;
  lines: string[];
  /** Line number of lines[0]. */
  firstLine: number;
}

/** Why the followed path cannot be read now; reported once until it clears. */
export type TailProblem =
  | { kind: 'missing' }
  | { kind: 'unreadable'; error: NodeJS.ErrnoException }
  /** A directory, FIFO, socket or device: never opened (a FIFO's open blocks). */
  | { kind: 'not-a-file'; type: string }
  /** A symbolic link resolving outside the confining directory. */
  | { kind: 'outside'; target: string };

export type TailEvent =
  | { kind: 'opened'; file: string; from: 'checkpoint' | 'beginning' | 'end' }
  | { kind: 'rotated'; file: string; drained: number }
  /** The open file was deleted or replaced by something that is not a file; it was read to its end. */
  | { kind: 'gone'; file: string; drained: number }
  | { kind: 'truncated'; file: string; offset: number }
  | { kind: 'problem'; file: string; problem: TailProblem }
  /** A reported problem (other than a missing file) has cleared: the file is read again. */
  | { kind: 'readable'; file: string; after: TailProblem }
  | { kind: 'recovered'; file: string; from: string; lines: number };

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
/** Rotated files that are compressed: never read by the tailer. */
const COMPRESSED = /\.(?:gz|xz|bz2|zst|lz4|z|zip)$/i;
/**
 * Non-blocking open: the path is checked to be a regular file first, but it may become a
 * FIFO between the check and the open, and a blocking open of a FIFO without a writer
 * would freeze the daemon. It changes nothing for reads of a regular file.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

interface OpenFile {
  fd: number;
  fp: Fingerprint;
  name: string;
  offset: number;
  line: number;
  splitter: LineSplitter;
}

type Probe = { ok: true; fd: number; st: fs.Stats } | { ok: false; problem: TailProblem; st: fs.Stats | null };

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
  cutLines = 0;

  constructor(filePath: string, private readonly opts: FileTailOptions) {
    this.path = filePath;
    this.nextFrom = opts.startAt;
  }

  /** The checkpoint of the current (or last) file, or null before one was opened. */
  position(): TailPosition | null {
    const c = this.cur;
    if (c === null) return this.last;
    return { path: this.path, fingerprint: c.fp, offset: c.offset, line: c.line };
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
          delivered += this.drainCopy(c);
          c.offset = 0;
          c.splitter = new LineSplitter(this.opts.maxLineBytes);
          c.fp = fingerprintOf(c.fd, fs.fstatSync(c.fd));
        }
        return delivered + this.drain(c, false);
      }
      // Renamed away, deleted or replaced: whatever the writer appended before that is
      // still in the old file, which the open descriptor keeps alive; read it to its end
      // first, then switch.
      const before = c.line;
      delivered += this.drain(c, true);
      const rotated = st !== null && st.isFile();
      this.opts.onEvent?.({ kind: rotated ? 'rotated' : 'gone', file: this.path, drained: c.line - before });
      const oldSt = fs.fstatSync(c.fd);
      this.last = this.position();
      this.closeCurrent();
      delivered += this.drainMissed(oldSt, st);
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
    const r = this.probe(this.path);
    if (r.ok) {
      if (sameFile(saved.fingerprint, r.fd, r.st)) {
        this.started = true;
        const c: OpenFile = { fd: r.fd, fp: saved.fingerprint, name: this.path, offset: saved.offset, line: saved.line, splitter: new LineSplitter(this.opts.maxLineBytes) };
        let delivered = 0;
        if (r.st.size < c.offset) {
          this.opts.onEvent?.({ kind: 'truncated', file: this.path, offset: c.offset });
          delivered += this.drainCopy(c);
          c.offset = 0;
          c.line = 0;
          c.splitter = new LineSplitter(this.opts.maxLineBytes);
        }
        this.cur = c;
        this.cleared();
        this.opts.onEvent?.({ kind: 'opened', file: this.path, from: 'checkpoint' });
        return delivered + this.drain(this.cur, false);
      }
      fs.closeSync(r.fd);
    } else if (r.problem.kind !== 'missing') {
      this.report(r.problem);
      return 0;
    }
    this.started = true;
    let delivered = 0;
    // Rotated while we were stopped: the old file lives on under another name
    // (auth.log.1); read its unread tail before the new file.
    const old = this.findRotated(saved) ?? this.findCopy(saved.fingerprint, saved.offset);
    const read = old === null ? null : this.drainFile(old, { fp: saved.fingerprint, offset: saved.offset, line: saved.line });
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
      delivered += this.drainMissed(oldSt, now);
    }
    this.nextFrom = 'beginning';
    return delivered + this.openNext();
  }

  /** Opens the file now at the path (reporting once why it cannot) and reads it. */
  private openNext(): number {
    const r = this.probe(this.path);
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
    this.cur = { fd, fp: fingerprintOf(fd, st), name: this.path, offset: start, line: 0, splitter: new LineSplitter(this.opts.maxLineBytes) };
    this.cleared();
    this.opts.onEvent?.({ kind: 'opened', file: this.path, from: from === 'end' ? 'end' : 'beginning' });
    return this.drain(this.cur, false);
  }

  /**
   * Opens p if it is a regular file logward may read. Checked before the open: a FIFO is
   * never opened and a link leaving `confine` never followed; checked again after it, on
   * the descriptor, so a swap between the two checks is caught too.
   */
  private probe(p: string): Probe {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // A dangling link is a missing file, as is a directory of the path that is gone.
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return { ok: false, problem: { kind: 'missing' }, st: null };
      return { ok: false, problem: { kind: 'unreadable', error: e }, st: null };
    }
    if (!st.isFile()) return { ok: false, problem: { kind: 'not-a-file', type: fileType(st) }, st };
    const outside = this.outside(p);
    if (outside !== null) return { ok: false, problem: { kind: 'outside', target: outside }, st };
    let fd: number;
    try {
      fd = fs.openSync(p, OPEN_FLAGS);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { ok: false, problem: { kind: 'missing' }, st: null };
      return { ok: false, problem: { kind: 'unreadable', error: e }, st };
    }
    const fst = fs.fstatSync(fd);
    let problem: TailProblem | null = null;
    if (!fst.isFile()) problem = { kind: 'not-a-file', type: fileType(fst) };
    else if (this.opts.confine != null) {
      try {
        const real = fs.realpathSync(p);
        const rst = fs.statSync(real);
        if (rst.dev !== fst.dev || rst.ino !== fst.ino || !inside(real, this.confineDir())) problem = { kind: 'outside', target: real };
      } catch {
        problem = { kind: 'missing' };
      }
    }
    if (problem !== null) {
      fs.closeSync(fd);
      return { ok: false, problem, st: fst };
    }
    return { ok: true, fd, st: fst };
  }

  /** Where a link at p leads when that is outside `confine`, else null. */
  private outside(p: string): string | null {
    if (this.opts.confine == null) return null;
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      return null; // gone meanwhile: the open reports it
    }
    return inside(real, this.confineDir()) ? null : real;
  }

  private confineDir(): string {
    const dir = this.opts.confine!;
    try {
      return fs.realpathSync(dir);
    } catch {
      return path.resolve(dir);
    }
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
   * Two rotations between two reads (or while logward was stopped): the file written
   * between the old one and the new one was renamed away before it was ever opened. It is
   * a sibling (auth.log.1) that is neither of the two and was written after the old file's
   * last write; read each such file whole, oldest first, before the new file.
   */
  private drainMissed(old: fs.Stats, now: fs.Stats | null): number {
    const same = (st: fs.Stats, other: fs.Stats | null): boolean => other !== null && st.dev === other.dev && st.ino === other.ino;
    const missed = this.rotatedSiblings().filter(({ st }) => st.size > 0 && st.mtimeMs >= old.mtimeMs && !same(st, old) && !same(st, now));
    let delivered = 0;
    for (const { p } of missed.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs)) {
      const read = this.drainFile(p, { fp: null, offset: 0, line: 0 });
      if (read === null) continue;
      delivered += read.delivered;
      this.opts.onEvent?.({ kind: 'recovered', file: this.path, from: p, lines: read.of.line });
    }
    return delivered;
  }

  /**
   * Regular files beside the followed one whose names extend its name (auth.log.1,
   * auth.log-20240301; not compressed ones, and with `confine` only those resolving
   * inside it), by name: where its rotated files are.
   */
  private rotatedSiblings(): { p: string; st: fs.Stats }[] {
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return []; // an unreadable directory has no siblings to recover
    }
    const out: { p: string; st: fs.Stats }[] = [];
    for (const n of names.sort()) {
      if (n === base || !n.startsWith(base) || COMPRESSED.test(n)) continue;
      const p = path.join(dir, n);
      try {
        const st = fs.statSync(p);
        if (st.isFile() && this.outside(p) === null) out.push({ p, st });
      } catch {
        // gone or unreadable: not ours to follow
      }
    }
    return out;
  }

  /** The first rotated sibling whose stats fit and whose first bytes pass `starts`. */
  private findSibling(fits: (st: fs.Stats) => boolean, starts: (fd: number, st: fs.Stats) => boolean): string | null {
    for (const { p, st } of this.rotatedSiblings()) {
      if (!fits(st)) continue;
      try {
        const fd = fs.openSync(p, OPEN_FLAGS);
        try {
          if (starts(fd, st)) return p;
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // unreadable sibling: not ours to follow
      }
    }
    return null;
  }

  /** A sibling with the checkpoint's identity: the file itself, renamed (auth.log.1). */
  private findRotated(saved: TailPosition): string | null {
    const fp = saved.fingerprint;
    return this.findSibling((st) => st.dev === fp.dev && st.ino === fp.ino, (fd, st) => sameFile(fp, fd, st));
  }

  /** A copytruncate copy: another inode, the checkpoint's first bytes, at least `offset` long. */
  private findCopy(fp: Fingerprint, offset: number): string | null {
    if (fp.headLen === 0) return null;
    return this.findSibling((st) => (st.dev !== fp.dev || st.ino !== fp.ino) && st.size >= offset, (fd) => hashHead(fd, fp.headLen) === fp.head);
  }

  /**
   * Reads the unread end of a copytruncated file from its copy (auth.log.1: another inode
   * that starts with the same bytes and is at least as long as what was read).
   */
  private drainCopy(c: OpenFile): number {
    const copy = this.findCopy(c.fp, c.offset);
    const read = copy === null ? null : this.drainFile(copy, { fp: c.fp, offset: c.offset, line: c.line, splitter: c.splitter });
    if (read === null) return 0;
    this.opts.onEvent?.({ kind: 'recovered', file: this.path, from: read.of.name, lines: read.of.line - c.line });
    c.line = read.of.line;
    return read.delivered;
  }

  /**
   * Reads another file than the current one (a rotated file, a copy, one missed between
   * two rotations) from a position to its end, and closes it. fp null: its own identity.
   * null when it cannot be opened or is not a regular file.
   */
  private drainFile(p: string, at: { fp: Fingerprint | null; offset: number; line: number; splitter?: LineSplitter }): { of: OpenFile; st: fs.Stats; delivered: number } | null {
    let fd: number;
    try {
      fd = fs.openSync(p, OPEN_FLAGS);
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return null;
      const of: OpenFile = { fd, fp: at.fp ?? fingerprintOf(fd, st), name: p, offset: at.offset, line: at.line, splitter: at.splitter ?? new LineSplitter(this.opts.maxLineBytes) };
      const delivered = this.drain(of, true);
      return { of, st: fs.fstatSync(fd), delivered };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Reads from the file's offset to its end; final: a last line without newline is a line. */
  private drain(f: OpenFile, final: boolean): number {
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
    const budget = final ? Infinity : this.opts.readBudget ?? Infinity;
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
