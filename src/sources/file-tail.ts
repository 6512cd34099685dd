// Follows one log file by path through rotation: rename-then-create (logrotate's default;
// the old file is read to its end before switching), copytruncate (size below the offset:
// start again at 0), delete and recreate, a file that appears only later, partial last
// lines (held until their newline) and over-long lines (cut and counted by the splitter).
// It never watches anything itself: the daemon calls poll() when the watcher reports a
// change (and on a slow safety timer), so an idle host costs nothing.

import fs from 'node:fs';
import path from 'node:path';
import { LineSplitter } from '../core/split.js';
import { fingerprintOf, sameFile, type Fingerprint } from './fingerprint.js';

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

export type TailEvent =
  | { kind: 'opened'; file: string; from: 'checkpoint' | 'beginning' | 'end' }
  | { kind: 'rotated'; file: string; drained: number }
  | { kind: 'truncated'; file: string; offset: number }
  | { kind: 'missing'; file: string }
  | { kind: 'recovered'; file: string; from: string; lines: number };

export interface FileTailOptions {
  maxLineBytes: number;
  /** Where to start in a file seen for the first time. */
  startAt: 'beginning' | 'end';
  saved: TailPosition | null;
  onBatch: (batch: TailBatch) => void;
  onEvent?: (e: TailEvent) => void;
}

const READ_SIZE = 64 * 1024;
/** Lines handed over per batch (bounds memory while catching up a backlog). */
const BATCH_LINES = 1024;
/** Rotated files that are compressed: never read by the tailer. */
const COMPRESSED = /\.(?:gz|xz|bz2|zst|lz4|z|zip)$/i;

interface OpenFile {
  fd: number;
  fp: Fingerprint;
  name: string;
  offset: number;
  line: number;
  splitter: LineSplitter;
}

export class FileTail {
  readonly path: string;
  private cur: OpenFile | null = null;
  private readonly buf = Buffer.allocUnsafe(READ_SIZE);
  private warnedMissing = false;
  private started = false;
  cutLines = 0;

  constructor(filePath: string, private readonly opts: FileTailOptions) {
    this.path = filePath;
  }

  /** The checkpoint of the current file, or null before it exists. */
  position(): TailPosition | null {
    const c = this.cur;
    if (c === null) return null;
    return { path: this.path, fingerprint: c.fp, offset: c.offset, line: c.line };
  }

  /** Reads everything available now; returns the number of lines delivered. */
  poll(): number {
    let delivered = 0;
    if (!this.started) return this.start();
    let st: fs.Stats | null;
    try {
      st = fs.statSync(this.path);
    } catch {
      st = null;
    }
    const c = this.cur;
    if (c !== null) {
      const same = st !== null && st.dev === c.fp.dev && st.ino === c.fp.ino;
      if (!same) {
        // Renamed away or deleted: whatever the writer appended before that is still in
        // the old file; read it to its end first, then switch.
        const before = c.line;
        delivered += this.drain(c, true);
        this.opts.onEvent?.({ kind: 'rotated', file: this.path, drained: c.line - before });
        const oldSt = fs.fstatSync(c.fd);
        this.closeCurrent();
        delivered += this.drainMissed(oldSt, st);
      } else {
        const size = fs.fstatSync(c.fd).size;
        if (size < c.offset + c.splitter.pending) {
          this.opts.onEvent?.({ kind: 'truncated', file: this.path, offset: c.offset });
          c.offset = 0;
          c.splitter = new LineSplitter(this.opts.maxLineBytes);
          c.fp = fingerprintOf(c.fd, fs.fstatSync(c.fd));
        }
        return delivered + this.drain(c, false);
      }
    }
    if (st === null) {
      if (!this.warnedMissing) this.opts.onEvent?.({ kind: 'missing', file: this.path });
      this.warnedMissing = true;
      return delivered;
    }
    // A new file at the path (first appearance after start, or after rotation): from 0.
    if (this.open(0, 0, c === null && !this.warnedMissing ? this.opts.startAt : 'beginning')) {
      delivered += this.drain(this.cur!, false);
    }
    return delivered;
  }

  close(): void {
    this.closeCurrent();
  }

  /** First poll: resume from the checkpoint, recovering a file rotated while stopped. */
  private start(): number {
    this.started = true;
    const saved = this.opts.saved;
    let delivered = 0;
    if (saved !== null) {
      const resumed = this.tryResume(this.path, saved);
      if (resumed !== null) return resumed;
      // Rotated while we were stopped: the old file lives on under another name
      // (auth.log.1); read its unread tail before the new file.
      const old = this.findRotated(saved);
      if (old !== null) {
        const fd = fs.openSync(old, 'r');
        const of: OpenFile = { fd, fp: saved.fingerprint, name: old, offset: saved.offset, line: saved.line, splitter: new LineSplitter(this.opts.maxLineBytes) };
        const before = of.line;
        delivered += this.drain(of, true);
        const oldSt = fs.fstatSync(fd);
        fs.closeSync(fd);
        this.opts.onEvent?.({ kind: 'recovered', file: this.path, from: old, lines: of.line - before });
        let cur: fs.Stats | null = null;
        try {
          cur = fs.statSync(this.path);
        } catch {
          // no new file yet
        }
        delivered += this.drainMissed(oldSt, cur);
      }
      if (fs.existsSync(this.path) && this.open(0, 0, 'beginning')) delivered += this.drain(this.cur!, false);
      else this.warnedMissing = !fs.existsSync(this.path) ? false : this.warnedMissing;
      return delivered;
    }
    if (!fs.existsSync(this.path)) {
      this.started = true;
      this.opts.onEvent?.({ kind: 'missing', file: this.path });
      this.warnedMissing = true;
      return 0;
    }
    if (this.open(0, 0, this.opts.startAt)) delivered += this.drain(this.cur!, false);
    return delivered;
  }

  private tryResume(p: string, saved: TailPosition): number | null {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch {
      return null;
    }
    const st = fs.fstatSync(fd);
    if (!sameFile(saved.fingerprint, fd, st)) {
      fs.closeSync(fd);
      return null;
    }
    let offset = saved.offset;
    let line = saved.line;
    if (st.size < offset) {
      this.opts.onEvent?.({ kind: 'truncated', file: p, offset });
      offset = 0;
      line = 0;
    }
    this.cur = { fd, fp: saved.fingerprint, name: p, offset, line, splitter: new LineSplitter(this.opts.maxLineBytes) };
    this.opts.onEvent?.({ kind: 'opened', file: p, from: 'checkpoint' });
    return this.drain(this.cur, false);
  }

  /**
   * Two rotations between two reads (or while logward was stopped): the file written
   * between the old one and the new one was renamed away before it was ever opened. It is
   * a sibling (auth.log.1) that is neither of the two and was written after the old file's
   * last write; read each such file whole, oldest first, before the new file.
   */
  private drainMissed(old: fs.Stats, now: fs.Stats | null): number {
    const { dir, base, names } = this.siblings();
    const missed: { p: string; st: fs.Stats }[] = [];
    for (const n of names) {
      if (n === base || !n.startsWith(base) || COMPRESSED.test(n)) continue;
      const p = path.join(dir, n);
      try {
        const st = fs.statSync(p);
        if (!st.isFile() || st.size === 0 || st.mtimeMs < old.mtimeMs) continue;
        if ((st.dev === old.dev && st.ino === old.ino) || (now !== null && st.dev === now.dev && st.ino === now.ino)) continue;
        missed.push({ p, st });
      } catch {
        // gone or unreadable: not ours to follow
      }
    }
    let delivered = 0;
    for (const { p, st } of missed.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs)) {
      let fd: number;
      try {
        fd = fs.openSync(p, 'r');
      } catch {
        continue;
      }
      const of: OpenFile = { fd, fp: fingerprintOf(fd, st), name: p, offset: 0, line: 0, splitter: new LineSplitter(this.opts.maxLineBytes) };
      try {
        delivered += this.drain(of, true);
      } finally {
        fs.closeSync(fd);
      }
      this.opts.onEvent?.({ kind: 'recovered', file: this.path, from: p, lines: of.line });
    }
    return delivered;
  }

  /** The names in the followed file's directory (none when it cannot be read). */
  private siblings(): { dir: string; base: string; names: string[] } {
    const dir = path.dirname(this.path);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      // an unreadable directory has no siblings to recover
    }
    return { dir, base: path.basename(this.path), names };
  }

  /** A sibling (auth.log.1, auth.log-20240301, not .gz) with the checkpoint's identity. */
  private findRotated(saved: TailPosition): string | null {
    const { dir, base, names } = this.siblings();
    for (const n of names.sort()) {
      if (n === base || !n.startsWith(base) || n.endsWith('.gz')) continue;
      const p = path.join(dir, n);
      try {
        const st = fs.statSync(p);
        if (!st.isFile() || st.ino !== saved.fingerprint.ino || st.dev !== saved.fingerprint.dev) continue;
        const fd = fs.openSync(p, 'r');
        try {
          if (sameFile(saved.fingerprint, fd, st)) return p;
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // unreadable sibling: not ours to follow
      }
    }
    return null;
  }

  private open(offset: number, line: number, from: 'beginning' | 'end' | 'checkpoint'): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return false;
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      return false;
    }
    this.warnedMissing = false;
    const fp = fingerprintOf(fd, st);
    let start = offset;
    if (from === 'end') start = lastLineEnd(fd, st.size);
    this.cur = { fd, fp, name: this.path, offset: start, line, splitter: new LineSplitter(this.opts.maxLineBytes) };
    this.opts.onEvent?.({ kind: 'opened', file: this.path, from });
    return true;
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
    for (;;) {
      const n = fs.readSync(f.fd, this.buf, 0, READ_SIZE, pos);
      if (n === 0) break;
      pos += n;
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

/** Offset just after the last newline before size (start_at: end skips history, not a partial line). */
function lastLineEnd(fd: number, size: number): number {
  if (size === 0) return 0;
  const len = Math.min(size, READ_SIZE);
  const buf = Buffer.allocUnsafe(len);
  const n = fs.readSync(fd, buf, 0, len, size - len);
  const nl = buf.subarray(0, n).lastIndexOf(10);
  return nl === -1 ? (size > len ? size : 0) : size - len + nl + 1;
}
