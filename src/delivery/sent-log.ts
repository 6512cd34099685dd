// The outbox's delivered ids, <dir>/sent.jsonl: one {"id","at"} line appended and fsynced
// per delivered message, the newest SENT_KEEP kept, so enqueuing one of them again is a
// duplicate. Other processes (a command sending now next to the daemon) append to the
// same file; refresh() picks up their lines. A damaged line is dropped with one warning
// naming the file and its lines, and the file is copied aside before the good lines are
// written back: it is never rewritten silently. It knows nothing of pending messages.

import fs from 'node:fs';
import type { Clock } from '../util/clock.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { parseSentLine } from './outbox-check.js';
import { damagedName } from '../util/keep-aside.js';

/** Delivered ids kept for duplicate detection. */
export const SENT_KEEP = 10_000;

export class SentLog {
  private readonly ids = new Set<string>();
  private order: string[] = [];
  /** The file as far as it was read: its inode and the bytes up to the last complete line. */
  private ino = 0;
  private bytes = 0;
  private lineEndMissing = false;

  constructor(readonly file: string, private readonly opts: { log: Logger; clock: Clock }) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Reads the file an earlier run left. Throws AppError OUTPUT_UNWRITABLE when it cannot be read. */
  load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AppError('OUTPUT_UNWRITABLE', `cannot read ${this.file} (${describeSystemError(err)}); check the permissions of the outbox directory`);
    }
    const bad: { line: number; problem: string }[] = [];
    text.split('\n').forEach((line, i) => {
      if (line === '') return;
      const r = parseSentLine(line);
      if ('id' in r) this.add(r.id);
      else bad.push({ line: i + 1, problem: r.problem });
    });
    const torn = text !== '' && !text.endsWith('\n');
    if (bad.length > 0 && !this.keepAside(bad)) {
      // Not copied aside (a full disk): the file stays as it is, and the next record
      // starts on a line of its own.
      this.lineEndMissing = torn;
      this.mark(Buffer.byteLength(text));
      return;
    }
    // A missing last line end would glue the next record to the last one.
    if (bad.length > 0 || torn || this.order.length > SENT_KEEP) this.compact();
    else this.mark(Buffer.byteLength(text));
  }

  /** Takes in the lines other processes appended since the last read. Never throws. */
  refresh(): void {
    try {
      const st = fs.statSync(this.file);
      if (st.ino === this.ino && st.size === this.bytes) return;
      const from = st.ino === this.ino && st.size > this.bytes ? this.bytes : 0;
      const buf = Buffer.alloc(st.size - from);
      const fd = fs.openSync(this.file, 'r');
      let got: number;
      try {
        got = fs.readSync(fd, buf, 0, buf.length, from);
      } finally {
        fs.closeSync(fd);
      }
      // Only complete lines: another process may be appending the next one right now.
      const end = buf.subarray(0, got).lastIndexOf(10) + 1;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (line === '') continue;
        const r = parseSentLine(line);
        if ('id' in r) this.add(r.id);
      }
      this.ino = st.ino;
      this.bytes = from + end;
    } catch {
      // No file yet, or unreadable: what is in memory stays the answer.
    }
  }

  /** Records a delivered id, fsynced. */
  record(id: string): void {
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, `${this.lineEndMissing ? '\n' : ''}${JSON.stringify({ id, at: this.opts.clock.now() })}\n`);
      fs.fsyncSync(fd);
      this.lineEndMissing = false;
    } finally {
      fs.closeSync(fd);
    }
    this.add(id);
    if (this.order.length > 2 * SENT_KEEP) this.compact();
  }

  /** One warning for the file; true once a copy of it is kept, so the good lines may replace it. */
  private keepAside(bad: readonly { line: number; problem: string }[]): boolean {
    const lines = bad.map((b) => b.line);
    const shown = lines.length > 10 ? `${lines.slice(0, 10).join(', ')}, ...` : lines.join(', ');
    const what = `The outbox's list of sent messages ${this.file} had ${bad.length} damaged line${bad.length === 1 ? '' : 's'} (${shown}; line ${bad[0]!.line}: ${bad[0]!.problem}); ${bad.length === 1 ? 'it was' : 'they were'} dropped`;
    const aside = damagedName(this.file, this.opts.clock.now());
    try {
      fs.copyFileSync(this.file, aside, fs.constants.COPYFILE_EXCL);
    } catch (err) {
      this.opts.log.warn({ file: this.file, lines: lines.slice(0, 100), err: describeSystemError(err) }, `${what}; the file could not be copied aside (${describeSystemError(err)}), so it is left as it is.`);
      return false;
    }
    this.opts.log.warn({ file: this.file, lines: lines.slice(0, 100), aside }, `${what} and the file was copied to ${aside}.`);
    return true;
  }

  private add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.order.push(id);
  }

  private compact(): void {
    this.order = this.order.slice(-SENT_KEEP);
    this.ids.clear();
    for (const id of this.order) this.ids.add(id);
    const now = this.opts.clock.now();
    writeFileAtomic(this.file, (w) => {
      for (const id of this.order) w(`${JSON.stringify({ id, at: now })}\n`);
    }, 0o600);
    this.mark(fs.statSync(this.file).size);
  }

  private mark(bytes: number): void {
    this.ino = fs.statSync(this.file).ino;
    this.bytes = bytes;
  }
}
