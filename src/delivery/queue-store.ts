// The outbox folder: every mail and webhook message is a file in pending/ (written and
// fsynced before enqueue returns) until it is delivered, or dead-lettered in dead/ when
// the receiver refuses it for good or delivery.max_pending is reached. The attempt count
// and next time live in the pending file, so retries continue across restarts. Delivered
// ids are kept in sent.jsonl (the newest ~10,000): enqueuing one again is a duplicate.
// This module only keeps files and their index: it never sends, never schedules, and
// never decides when a message is retried.
//
//   <dir>/pending/<id>.json   { v, message, attempts, nextAttemptAt, lastError, enqueuedAt }
//   <dir>/dead/<id>.json      { v, message, attempts, error, deadAt, enqueuedAt }
//   <dir>/sent.jsonl          {"id","at"} per delivered message

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { safeFileId } from '../util/text.js';
import { hash16 } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { EnqueueResult, OutboxMessage } from './types.js';

export interface PendingRecord {
  v: 1;
  message: OutboxMessage;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  enqueuedAt: number;
}

/** What the store keeps in memory of a pending message, to pick the due ones without reading files. */
export interface QueueEntry {
  readonly id: string;
  readonly kind: OutboxMessage['kind'];
  readonly file: string;
  readonly created: number;
  readonly enqueuedAt: number;
  nextAttemptAt: number;
}

export interface QueueStoreOptions {
  /** The outbox directory, e.g. <state dir>/outbox. */
  dir: string;
  /** delivery.max_pending: beyond it a new message is dead-lettered as "full". */
  maxPending: number;
  log: Logger;
  clock: Clock;
  /** Removes secrets from an error text before it is written to dead/. */
  redact: (text: string) => string;
}

/** Delivered ids kept for duplicate detection. */
export const SENT_KEEP = 10_000;

export class QueueStore {
  readonly dir: string;
  readonly deadDir: string;
  private readonly pendingDir: string;
  private readonly sentFile: string;
  private readonly maxPending: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly redact: (text: string) => string;
  private readonly pending = new Map<string, QueueEntry>();
  private readonly sentIds = new Set<string>();
  private sentOrder: string[] = [];

  /** Creates the folders and reads what an earlier run left. Throws AppError OUTPUT_UNWRITABLE. */
  constructor(opts: QueueStoreOptions) {
    this.dir = opts.dir;
    this.maxPending = opts.maxPending;
    this.log = opts.log;
    this.clock = opts.clock;
    this.redact = opts.redact;
    this.pendingDir = path.join(this.dir, 'pending');
    this.deadDir = path.join(this.dir, 'dead');
    this.sentFile = path.join(this.dir, 'sent.jsonl');
    try {
      for (const d of [this.dir, this.pendingDir, this.deadDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot create the outbox directory ${this.dir} (${describeSystemError(err)}); check state.dir and its permissions`);
    }
    this.loadSent();
    this.loadPending();
  }

  get size(): number {
    return this.pending.size;
  }

  /** The pending messages, live (an entry removed meanwhile is skipped by read()). */
  entries(): IterableIterator<QueueEntry> {
    return this.pending.values();
  }

  /** Where a message is now, and why it is still pending. */
  status(id: string): { state: 'pending' | 'sent' | 'dead' | 'unknown'; lastError: string | null } {
    if (this.sentIds.has(id)) return { state: 'sent', lastError: null };
    const entry = this.pending.get(id);
    if (entry !== undefined) {
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(this.pendingDir, entry.file), 'utf8')) as PendingRecord;
        return { state: 'pending', lastError: rec.lastError };
      } catch {
        return { state: 'pending', lastError: null };
      }
    }
    if (fs.existsSync(path.join(this.deadDir, fileName(id)))) return { state: 'dead', lastError: null };
    return { state: 'unknown', lastError: null };
  }

  /** Persists the message (fsynced) before returning. Idempotent by id. */
  enqueue(msg: OutboxMessage): EnqueueResult {
    if (typeof msg?.id !== 'string' || msg.id === '' || (msg.kind !== 'mail' && msg.kind !== 'webhook')) {
      throw new TypeError('outbox message needs a non-empty id and kind "mail" or "webhook"');
    }
    const file = fileName(msg.id);
    if (this.sentIds.has(msg.id) || this.pending.has(msg.id) || fs.existsSync(path.join(this.deadDir, file))) return 'duplicate';
    const now = this.clock.now();
    if (this.pending.size >= this.maxPending) {
      const error = `outbox full: ${this.pending.size} messages pending (delivery.max_pending); the SMTP server or webhook has not accepted messages for a while`;
      this.writeDead(file, { message: msg, attempts: 0, error, enqueuedAt: now });
      this.log.error({ id: msg.id, kind: msg.kind, dir: this.deadDir }, `${msg.kind} ${msg.id} not queued: ${error}; it was moved to ${this.deadDir}`);
      return 'full';
    }
    const record: PendingRecord = { v: 1, message: msg, attempts: 0, nextAttemptAt: now, lastError: null, enqueuedAt: now };
    this.writePending(file, record);
    this.pending.set(msg.id, { id: msg.id, kind: msg.kind, file, created: msg.created, enqueuedAt: now, nextAttemptAt: now });
    this.log.debug({ id: msg.id, kind: msg.kind }, `${msg.kind} ${msg.id} queued`);
    return 'queued';
  }

  /**
   * The pending file of an entry, or null when it is gone or unreadable (an unreadable one
   * is moved to dead/ as it is); either way the entry is forgotten.
   */
  read(entry: QueueEntry): PendingRecord | null {
    const p = path.join(this.pendingDir, entry.file);
    let rec: PendingRecord;
    try {
      rec = JSON.parse(fs.readFileSync(p, 'utf8')) as PendingRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.pending.delete(entry.id);
        return null;
      }
      this.quarantine(entry.file, err);
      this.pending.delete(entry.id);
      return null;
    }
    rec.enqueuedAt = Number(rec.enqueuedAt) || entry.enqueuedAt;
    return rec;
  }

  /** Records a delivered id (fsynced), then removes its pending file. */
  markSent(entry: QueueEntry): void {
    const fd = fs.openSync(this.sentFile, 'a', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify({ id: entry.id, at: this.clock.now() })}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.sentIds.add(entry.id);
    this.sentOrder.push(entry.id);
    this.removePending(entry);
    if (this.sentOrder.length > 2 * SENT_KEEP) this.compactSent();
  }

  /** Moves a message the receiver refuses for good to dead/, with the reason. */
  deadLetter(entry: QueueEntry, r: { message: OutboxMessage; attempts: number; error: string; enqueuedAt: number }): void {
    this.writeDead(entry.file, r);
    this.removePending(entry);
  }

  /** Records a failed attempt in the pending file; the entry is due again at nextAttemptAt. */
  retryLater(entry: QueueEntry, record: PendingRecord, attempts: number, nextAttemptAt: number, lastError: string): void {
    entry.nextAttemptAt = nextAttemptAt;
    this.writePending(entry.file, { ...record, attempts, nextAttemptAt, lastError });
  }

  /** Delays an entry in memory only (its file could not be updated). */
  postpone(entry: QueueEntry, nextAttemptAt: number): void {
    entry.nextAttemptAt = nextAttemptAt;
  }

  private writePending(file: string, record: PendingRecord): void {
    try {
      writeFileAtomic(path.join(this.pendingDir, file), `${JSON.stringify(record)}\n`, 0o600);
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot write outbox message ${path.join(this.pendingDir, file)} (${describeSystemError(err)}); check free space and permissions of ${this.dir}`);
    }
  }

  private writeDead(file: string, r: { message: OutboxMessage; attempts: number; error: string; enqueuedAt: number }): void {
    const rec = { v: 1, message: r.message, attempts: r.attempts, error: this.redact(r.error), deadAt: this.clock.now(), enqueuedAt: r.enqueuedAt };
    writeFileAtomic(path.join(this.deadDir, file), `${JSON.stringify(rec)}\n`, 0o600);
  }

  private removePending(entry: QueueEntry): void {
    fs.rmSync(path.join(this.pendingDir, entry.file), { force: true });
    this.pending.delete(entry.id);
  }

  private compactSent(): void {
    this.sentOrder = this.sentOrder.slice(-SENT_KEEP);
    this.sentIds.clear();
    for (const id of this.sentOrder) this.sentIds.add(id);
    const now = this.clock.now();
    writeFileAtomic(this.sentFile, (w) => {
      for (const id of this.sentOrder) w(`${JSON.stringify({ id, at: now })}\n`);
    }, 0o600);
  }

  private loadSent(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.sentFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AppError('OUTPUT_UNWRITABLE', `cannot read ${this.sentFile} (${describeSystemError(err)}); check the permissions of ${this.dir}`);
    }
    const lines = text.split('\n');
    let torn = false;
    for (const line of lines) {
      if (line === '') continue;
      try {
        const id = (JSON.parse(line) as { id?: unknown }).id;
        if (typeof id === 'string' && !this.sentIds.has(id)) {
          this.sentIds.add(id);
          this.sentOrder.push(id);
        }
      } catch {
        torn = true;
      }
    }
    if (torn || (text !== '' && !text.endsWith('\n')) || this.sentOrder.length > SENT_KEEP) this.compactSent();
  }

  private loadPending(): void {
    for (const d of [this.pendingDir, this.deadDir]) {
      for (const name of fs.readdirSync(d)) if (name.startsWith('.') && name.endsWith('.tmp')) fs.rmSync(path.join(d, name), { force: true });
    }
    for (const name of fs.readdirSync(this.pendingDir)) {
      if (!name.endsWith('.json')) continue;
      const p = path.join(this.pendingDir, name);
      let rec: PendingRecord;
      try {
        rec = JSON.parse(fs.readFileSync(p, 'utf8')) as PendingRecord;
        if (typeof rec.message?.id !== 'string' || (rec.message.kind !== 'mail' && rec.message.kind !== 'webhook')) throw new Error('not an outbox message');
      } catch (err) {
        this.quarantine(name, err);
        continue;
      }
      const id = rec.message.id;
      if (this.sentIds.has(id)) {
        // Delivered and recorded, but the pending file outlived a crash.
        fs.rmSync(p, { force: true });
        continue;
      }
      this.pending.set(id, {
        id, kind: rec.message.kind, file: name, created: Number(rec.message.created) || 0,
        enqueuedAt: Number(rec.enqueuedAt) || 0, nextAttemptAt: Number(rec.nextAttemptAt) || 0,
      });
    }
    if (this.pending.size > 0) this.log.info({ pending: this.pending.size, dir: this.pendingDir }, `outbox: ${this.pending.size} message${this.pending.size === 1 ? '' : 's'} waiting from before`);
  }

  /** Moves an unreadable pending file to dead/ as it is. */
  private quarantine(name: string, err: unknown): void {
    const from = path.join(this.pendingDir, name);
    const to = path.join(this.deadDir, `${name}.unreadable`);
    try {
      fs.renameSync(from, to);
    } catch {
      fs.rmSync(from, { force: true });
    }
    this.log.error({ file: to }, `outbox file ${from} is unreadable (${err instanceof Error ? err.message : String(err)}); moved to ${to}`);
  }
}

/** The pending/dead file name of an id: readable, and unique by a hash of the whole id. */
export function fileName(id: string): string {
  return `${safeFileId(id).slice(0, 80)}-${hash16(id)}.json`;
}
