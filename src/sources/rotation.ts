// Recovering what rotation put out of the followed path's reach: the file itself renamed
// to a sibling (auth.log.1) while logward was stopped, the copy a copytruncate left with
// the lines appended after the last read, and a file rotated away between two reads
// before it was ever opened. Each is found among the path's rotated siblings by identity
// (device, inode, first bytes) and read from a position to its end, then closed.
// It never reads compressed siblings, never follows a sibling leading outside `confine`,
// and never reads the followed path itself: the tail owns that file and its position.

import fs from 'node:fs';
import path from 'node:path';
import { LineSplitter } from '../core/split.js';
import { fingerprintOf, hashHead, sameFile, type Fingerprint } from './fingerprint.js';
import { OPEN_FLAGS, outside } from './safe-open.js';
import type { OpenFile, TailEvent, TailPosition } from './tail-types.js';

/** Rotated files that are compressed: never read by the tailer. */
const COMPRESSED = /\.(?:gz|xz|bz2|zst|lz4|z|zip)$/i;
/** Files read to their end remembered, so a rotated one is never taken for a missed one. */
const REMEMBERED = 8;

export interface RecoveryOptions {
  /** The followed path, whose siblings are searched. */
  path: string;
  confine: string | null;
  maxLineBytes: number;
  /** Reads an open file from its offset to its end, a last line without newline included. */
  drainToEnd: (f: OpenFile) => number;
  onEvent: (e: TailEvent) => void;
}

/** Where to start reading another file; fp null: the file's own identity. */
export interface DrainAt {
  fp: Fingerprint | null;
  offset: number;
  line: number;
  splitter?: LineSplitter;
}

export class RotationRecovery {
  /** Device and inode of the last files read to their end (oldest first). */
  private readonly readToEnd: { dev: number; ino: number }[] = [];

  constructor(private readonly opts: RecoveryOptions) {}

  /**
   * A file was read to its end: it is never read again as a missed one. Its modification
   * time alone does not tell: a file created in the same clock tick as the rotated one
   * was last written (the coarse clock file times use) looks written after it.
   */
  remember(st: fs.Stats): void {
    if (this.readToEnd.some((r) => r.dev === st.dev && r.ino === st.ino)) return;
    this.readToEnd.push({ dev: st.dev, ino: st.ino });
    if (this.readToEnd.length > REMEMBERED) this.readToEnd.shift();
  }

  /**
   * Two rotations between two reads (or while logward was stopped): the file written
   * between the old one and the new one was renamed away before it was ever opened. It is
   * a sibling (auth.log.1) that is neither of the two and was written after the old file's
   * last write; read each such file whole, oldest first, before the new file.
   */
  drainMissed(old: fs.Stats, now: fs.Stats | null): number {
    const same = (st: fs.Stats, other: fs.Stats | null): boolean => other !== null && st.dev === other.dev && st.ino === other.ino;
    const read = (st: fs.Stats): boolean => this.readToEnd.some((r) => r.dev === st.dev && r.ino === st.ino);
    const missed = this.rotatedSiblings().filter(({ st }) => st.size > 0 && st.mtimeMs >= old.mtimeMs && !same(st, old) && !same(st, now) && !read(st));
    let delivered = 0;
    for (const { p } of missed.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs)) {
      const read = this.drainFile(p, { fp: null, offset: 0, line: 0 });
      if (read === null) continue;
      delivered += read.delivered;
      this.opts.onEvent({ kind: 'recovered', file: this.opts.path, from: p, lines: read.of.line });
    }
    return delivered;
  }

  /** A sibling with the checkpoint's identity: the file itself, renamed (auth.log.1). */
  findRotated(saved: TailPosition): string | null {
    const fp = saved.fingerprint;
    return this.findSibling((st) => st.dev === fp.dev && st.ino === fp.ino, (fd, st) => sameFile(fp, fd, st));
  }

  /** A copytruncate copy: another inode, the checkpoint's first bytes, at least `offset` long. */
  findCopy(fp: Fingerprint, offset: number): string | null {
    if (fp.headLen === 0) return null;
    return this.findSibling((st) => (st.dev !== fp.dev || st.ino !== fp.ino) && st.size >= offset, (fd) => hashHead(fd, fp.headLen) === fp.head);
  }

  /**
   * Reads the unread end of a copytruncated file from its copy (auth.log.1: another inode
   * that starts with the same bytes and is at least as long as what was read).
   */
  drainCopy(c: OpenFile): number {
    const copy = this.findCopy(c.fp, c.offset);
    const read = copy === null ? null : this.drainFile(copy, { fp: c.fp, offset: c.offset, line: c.line, splitter: c.splitter });
    if (read === null) return 0;
    this.opts.onEvent({ kind: 'recovered', file: this.opts.path, from: read.of.name, lines: read.of.line - c.line });
    c.line = read.of.line;
    return read.delivered;
  }

  /**
   * Reads another file than the current one (a rotated file, a copy, one missed between
   * two rotations) from a position to its end, and closes it. null when it cannot be
   * opened or is not a regular file.
   */
  drainFile(p: string, at: DrainAt): { of: OpenFile; st: fs.Stats; delivered: number } | null {
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
      const delivered = this.opts.drainToEnd(of);
      const end = fs.fstatSync(fd);
      this.remember(end);
      return { of, st: end, delivered };
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Regular files beside the followed one whose names extend its name (auth.log.1,
   * auth.log-20240301; not compressed ones, and with `confine` only those resolving
   * inside it), by name: where its rotated files are.
   */
  private rotatedSiblings(): { p: string; st: fs.Stats }[] {
    const dir = path.dirname(this.opts.path);
    const base = path.basename(this.opts.path);
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
        if (st.isFile() && outside(p, this.opts.confine) === null) out.push({ p, st });
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
}
