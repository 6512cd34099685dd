// The outbox folder: every mail and webhook message is a file in pending/ (written and
// fsynced before enqueue returns) until it is delivered, or dead-lettered in dead/ when
// the receiver refuses it for good or delivery.max_pending is reached. The attempt count
// and next time live in the pending file, so retries continue across restarts. Delivered
// ids are kept in sent.jsonl (sent-log.ts): enqueuing one again is a duplicate. Other
// processes (a command sending now) use the same folder at the same time: a message is
// claimed (claims.ts) before it is sent, so only one of them sends it. A file that fails
// its check (outbox-check.ts) is moved aside into dead/ with one warning.
// This module only keeps files and their index: it never sends, never schedules, and
// never decides when a message is retried.
//
//   <dir>/pending/<id>.json   { v, message, attempts, nextAttemptAt, lastError, enqueuedAt }
//   <dir>/claimed/<id>.json.<pid>-<token>   the same, while that process sends it
//   <dir>/dead/<id>.json      { v, message, attempts, error, deadAt, enqueuedAt }
//   <dir>/dead/<id>.json.damaged-<time>     a pending file that failed its check
//   <dir>/sent.jsonl          {"id","at"} per delivered message

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { safeFileId } from '../util/text.js';
import { hash16 } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import { AppError, describeSystemError } from '../util/errors.js';
import { Claims, removeStaleTemps } from './claims.js';
import { parsePending, type PendingRecord } from './outbox-check.js';
import { damagedName } from '../util/keep-aside.js';
import { SentLog } from './sent-log.js';
import type { EnqueueResult, OutboxMessage } from './types.js';

export type { PendingRecord };
export { SENT_KEEP } from './sent-log.js';

/** What claiming a due message gave: it to send, or why not now. */
export type ClaimResult =
  | { state: 'claimed'; record: PendingRecord }
  /** Another live process is sending it. */
  | { state: 'busy' }
  /** Another process tried it meanwhile; its next time is in the entry again. */
  | { state: 'later' }
  /** Delivered, dead-lettered or damaged: the entry is forgotten. */
  | { state: 'gone' };

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

export class QueueStore {
  readonly dir: string;
  readonly deadDir: string;
  private readonly pendingDir: string;
  private readonly maxPending: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly redact: (text: string) => string;
  private readonly pending = new Map<string, QueueEntry>();
  private readonly sent: SentLog;
  private readonly claims: Claims;

  /** Creates the folders and reads what an earlier run left. Throws AppError OUTPUT_UNWRITABLE. */
  constructor(opts: QueueStoreOptions) {
    this.dir = opts.dir;
    this.maxPending = opts.maxPending;
    this.log = opts.log;
    this.clock = opts.clock;
    this.redact = opts.redact;
    this.pendingDir = path.join(this.dir, 'pending');
    this.deadDir = path.join(this.dir, 'dead');
    this.sent = new SentLog(path.join(this.dir, 'sent.jsonl'), { log: this.log, clock: this.clock });
    this.claims = new Claims(this.pendingDir, path.join(this.dir, 'claimed'));
    try {
      for (const d of [this.dir, this.pendingDir, this.claims.dir, this.deadDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot create the outbox directory ${this.dir} (${describeSystemError(err)}); check state.dir and its permissions`);
    }
    this.sent.load();
    for (const d of [this.pendingDir, this.deadDir]) removeStaleTemps(d);
    const recovered = this.claims.recover();
    if (recovered > 0) this.log.info({ messages: recovered, dir: this.claims.dir }, `outbox: ${recovered} message${recovered === 1 ? '' : 's'} claimed by a process that is gone went back to pending`);
    this.loadPending();
  }

  get size(): number {
    return this.pending.size;
  }

  /** The pending messages, live (an entry removed meanwhile is skipped by read()). */
  entries(): IterableIterator<QueueEntry> {
    return this.pending.values();
  }

  /** Where a message is now (on disk: another process may have sent it), and why it is still pending. */
  status(id: string): { state: 'pending' | 'sent' | 'dead' | 'unknown'; lastError: string | null } {
    this.sent.refresh();
    if (this.sent.has(id)) return { state: 'sent', lastError: null };
    const file = this.pending.get(id)?.file ?? fileName(id);
    try {
      const rec = parsePending(fs.readFileSync(path.join(this.pendingDir, file), 'utf8'));
      return { state: 'pending', lastError: typeof rec === 'string' ? null : rec.lastError };
    } catch {
      // Not in pending/: claimed by a sender, dead, or unknown.
    }
    if (this.claims.held(file)) return { state: 'pending', lastError: null };
    if (fs.existsSync(path.join(this.deadDir, fileName(id)))) return { state: 'dead', lastError: null };
    return { state: 'unknown', lastError: null };
  }

  /** Persists the message (fsynced) before returning. Idempotent by id, also against other processes' files. */
  enqueue(msg: OutboxMessage): EnqueueResult {
    if (typeof msg?.id !== 'string' || msg.id === '' || (msg.kind !== 'mail' && msg.kind !== 'webhook')) {
      throw new TypeError('outbox message needs a non-empty id and kind "mail" or "webhook"');
    }
    const file = fileName(msg.id);
    this.sent.refresh();
    if (this.sent.has(msg.id) || this.pending.has(msg.id) || fs.existsSync(path.join(this.pendingDir, file)) || this.claims.held(file) || fs.existsSync(path.join(this.deadDir, file))) return 'duplicate';
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
   * Takes a due message for this process to send: only the process whose claim succeeded
   * sends it. The claimed file is read and checked again; a damaged one is moved aside.
   */
  claim(entry: QueueEntry): ClaimResult {
    const taken = this.claims.take(entry.file);
    if (taken === 'busy') return { state: 'busy' };
    if (taken === 'gone') {
      this.pending.delete(entry.id);
      return { state: 'gone' };
    }
    const claimed = this.claims.path(entry.file);
    let rec: PendingRecord | string;
    try {
      rec = parsePending(fs.readFileSync(claimed, 'utf8'));
    } catch (err) {
      rec = describeSystemError(err);
    }
    if (typeof rec === 'string') {
      this.quarantine(claimed, entry.file, rec);
      this.pending.delete(entry.id);
      return { state: 'gone' };
    }
    this.sent.refresh();
    if (this.sent.has(entry.id)) {
      // Delivered by another process, whose pending file outlived a crash.
      this.claims.drop(entry.file);
      this.pending.delete(entry.id);
      return { state: 'gone' };
    }
    if (rec.nextAttemptAt > this.clock.now()) {
      this.claims.giveBack(entry.file);
      entry.nextAttemptAt = rec.nextAttemptAt;
      return { state: 'later' };
    }
    return { state: 'claimed', record: rec };
  }

  /**
   * Records a claimed message as delivered (fsynced), then lets go of it. Even when the
   * record fails it is not sent again: the receiver has it.
   */
  markSent(entry: QueueEntry): void {
    try {
      this.sent.record(entry.id);
    } finally {
      this.claims.drop(entry.file);
      this.pending.delete(entry.id);
    }
  }

  /** Moves a claimed message the receiver refuses for good to dead/, with the reason. */
  deadLetter(entry: QueueEntry, r: { message: OutboxMessage; attempts: number; error: string; enqueuedAt: number }): void {
    this.release(() => this.writeDead(entry.file, r), entry);
    this.claims.drop(entry.file);
    this.pending.delete(entry.id);
  }

  /** Records a failed attempt and puts the claimed message back into pending/, due again at nextAttemptAt. */
  retryLater(entry: QueueEntry, record: PendingRecord, attempts: number, nextAttemptAt: number, lastError: string): void {
    entry.nextAttemptAt = nextAttemptAt;
    this.release(() => this.writePending(entry.file, { ...record, attempts, nextAttemptAt, lastError }), entry);
    this.claims.drop(entry.file);
  }

  /** Delays an entry in memory only (its file could not be updated). */
  postpone(entry: QueueEntry, nextAttemptAt: number): void {
    entry.nextAttemptAt = nextAttemptAt;
  }

  /** Runs a write; when it fails, the claim goes back to pending/ as it was, and the error on. */
  private release(write: () => void, entry: QueueEntry): void {
    try {
      write();
    } catch (err) {
      this.claims.giveBack(entry.file);
      throw err;
    }
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

  private loadPending(): void {
    for (const name of fs.readdirSync(this.pendingDir)) {
      if (!name.endsWith('.json')) continue;
      const p = path.join(this.pendingDir, name);
      let rec: PendingRecord | string;
      try {
        rec = parsePending(fs.readFileSync(p, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // claimed by another process meanwhile
        rec = describeSystemError(err);
      }
      if (typeof rec === 'string') {
        this.quarantine(p, name, rec);
        continue;
      }
      const id = rec.message.id;
      if (this.sent.has(id)) {
        // Delivered and recorded, but the pending file outlived a crash.
        fs.rmSync(p, { force: true });
        continue;
      }
      this.pending.set(id, { id, kind: rec.message.kind, file: name, created: rec.message.created, enqueuedAt: rec.enqueuedAt, nextAttemptAt: rec.nextAttemptAt });
    }
    if (this.pending.size > 0) this.log.info({ pending: this.pending.size, dir: this.pendingDir }, `outbox: ${this.pending.size} message${this.pending.size === 1 ? '' : 's'} waiting from before`);
  }

  /** Keeps a message file that failed its check in dead/ as it is, with one warning; it is never loaded again. */
  private quarantine(from: string, name: string, problem: string): void {
    const to = damagedName(path.join(this.deadDir, name), this.clock.now());
    try {
      fs.renameSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another process moved it, and said so
      this.log.warn({ file: from, err: describeSystemError(err) }, `outbox message ${from} is damaged (${problem}); it is skipped, but could not be moved aside (${describeSystemError(err)}).`);
      return;
    }
    this.log.warn({ file: from, aside: to }, `outbox message ${from} is damaged (${problem}); it was dropped and kept as ${to}.`);
  }
}

/** The pending/dead file name of an id: readable, and unique by a hash of the whole id. */
export function fileName(id: string): string {
  return `${safeFileId(id).slice(0, 80)}-${hash16(id)}.json`;
}
