// `--events FILE`: every matched event as one JSON object per line, with exactly the
// fields {"rule","file","line","time","ip","user","host","program"}. Written to a
// temporary file in batches and renamed into place at the end, so a reader never sees
// half a scan; a failed scan leaves no file behind.

import type { Sink } from './types.js';
import fs from 'node:fs';
import path from 'node:path';
import { isoUtc } from '../core/time.js';
import type { DetectionEvent } from '../core/types.js';
import { AppError, describeSystemError } from '../util/errors.js';
import { DurableAppend } from '../util/durable-append.js';
import { safeJson } from '../util/text.js';

const FLUSH_BYTES = 1 << 20;

export function eventLine(ev: DetectionEvent): string {
  return safeJson({
    rule: ev.rule, file: ev.source, line: ev.line, time: isoUtc(ev.time),
    ip: ev.ip, user: ev.user, host: ev.host, program: ev.program,
  });
}

export class EventsFile implements Sink {
  readonly name = 'events file';
  private parts: string[] = [];
  private size = 0;
  private done = false;

  private constructor(private readonly target: string, private readonly tmp: string, private readonly fd: number) {}

  static create(target: string): EventsFile {
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o750 });
      return new EventsFile(target, tmp, fs.openSync(tmp, 'w', 0o640));
    } catch (err) {
      throw unwritable(target, err);
    }
  }

  event(ev: DetectionEvent): void {
    this.write(ev);
  }

  write(ev: DetectionEvent): void {
    const line = eventLine(ev);
    this.parts.push(line);
    this.size += line.length + 1;
    if (this.size >= FLUSH_BYTES) this.flush();
  }

  /** Idempotent: a second commit keeps the file the first one published. */
  commit(): void {
    if (this.done) return;
    try {
      this.flush();
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.done = true;
      fs.renameSync(this.tmp, this.target);
    } catch (err) {
      this.abort();
      throw unwritable(this.target, err);
    }
  }

  abort(): void {
    if (!this.done) {
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
      this.done = true;
    }
    fs.rmSync(this.tmp, { force: true });
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const data = `${this.parts.join('\n')}\n`;
    this.parts = [];
    this.size = 0;
    try {
      fs.writeSync(this.fd, data);
    } catch (err) {
      this.abort();
      throw unwritable(this.target, err);
    }
  }
}

/**
 * The file at the --events path holds more than the checkpoint covers but is not the one
 * logward wrote: cutting it back would destroy someone else's data.
 */
function foreign(target: string, size: number, checkpoint: EventsCheckpoint): AppError {
  const why = checkpoint.file === null ? 'the last checkpoint (saved by an older logward) does not say which file logward wrote' : 'it is not the file logward wrote (another file is at that path now)';
  return new AppError('OUTPUT_UNWRITABLE', `refusing to cut the events file ${target} back to the ${checkpoint.bytes} bytes of events the last checkpoint covers: it holds ${size} bytes and ${why}; logward cuts back only its own events file. Move ${target} aside or pass another --events file`);
}

function unwritable(target: string, err: unknown): AppError {
  return new AppError('OUTPUT_UNWRITABLE', `cannot write events file ${target} (${describeSystemError(err)}); check the path and free space`, { cause: err });
}

/** Which file the daemon's events went to: device and inode. */
export interface EventsFileIdentity {
  dev: number;
  ino: number;
}

/** What a checkpoint records of the events file: its size then, and which file it was. */
export interface EventsCheckpoint {
  bytes: number;
  /** null: a checkpoint of an older logward, which did not record it. */
  file: EventsFileIdentity | null;
}

/**
 * The daemon's --events file: appended per batch and fsynced before the checkpoint that
 * covers the batch is saved. At start it is cut back to the size the last checkpoint
 * recorded, so events of lines that will be read again are not written twice; only the
 * file that checkpoint names as logward's own is ever cut: any other is refused.
 */
export class EventsAppender implements Sink {
  readonly name = 'events file';
  private parts: string[] = [];
  private readonly out: DurableAppend;
  private bytes: number;
  /** The file written to (what a checkpoint records with the size). */
  readonly identity: EventsFileIdentity;

  constructor(readonly target: string, checkpoint: EventsCheckpoint | null) {
    let fd: number;
    let st: fs.Stats;
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o750 });
      fd = fs.openSync(target, 'a+', 0o640);
      st = fs.fstatSync(fd);
    } catch (err) {
      throw unwritable(target, err);
    }
    this.identity = { dev: st.dev, ino: st.ino };
    this.bytes = st.size;
    if (checkpoint !== null && checkpoint.bytes < st.size) {
      const own = checkpoint.file !== null && checkpoint.file.dev === st.dev && checkpoint.file.ino === st.ino;
      if (!own) {
        fs.closeSync(fd);
        throw foreign(target, st.size, checkpoint);
      }
      try {
        fs.ftruncateSync(fd, checkpoint.bytes);
      } catch (err) {
        fs.closeSync(fd);
        throw unwritable(target, err);
      }
      this.bytes = checkpoint.bytes;
    }
    this.out = new DurableAppend(fd);
  }

  /** Bytes written so far (what a checkpoint records). */
  get size(): number {
    return this.bytes;
  }

  event(ev: DetectionEvent): void {
    this.add(ev);
  }

  add(ev: DetectionEvent): void {
    this.parts.push(eventLine(ev));
  }

  /** Writes what was added (one write per batch of lines; memory stays bounded). */
  write(): void {
    if (this.parts.length === 0) return;
    const data = Buffer.from(`${this.parts.join('\n')}\n`, 'utf8');
    this.parts = [];
    this.out.write(data);
    this.bytes += data.length;
  }

  /** Writes and fsyncs everything added so far (before a checkpoint covers it). */
  sync(): void {
    this.write();
    this.out.sync();
  }

  close(): void {
    this.write();
    this.out.close();
  }
}
