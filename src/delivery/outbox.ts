// The persistent outbox: every mail and webhook message is a file in pending/ (written
// and fsynced before enqueue returns) until it is delivered, or dead-lettered in dead/
// when the receiver refuses it for good. Retries back off exponentially, and the attempt
// count and next time live in the pending file, so they continue across restarts.
// Delivered ids are kept in sent.jsonl (the newest ~10,000): enqueuing one again is a
// duplicate. A crash after the server accepted a message but before sent.jsonl records
// it re-sends it once at the next start, with the same Message-ID / X-Logward-Id.
//
//   <dir>/pending/<id>.json   { v, message, attempts, nextAttemptAt, lastError, enqueuedAt }
//   <dir>/dead/<id>.json      { v, message, attempts, error, deadAt, enqueuedAt }
//   <dir>/sent.jsonl          {"id","at"} per delivered message

import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import got from 'got';
import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import { safeFileId, safeJson } from '../util/text.js';
import { hash16 } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Clock } from '../util/clock.js';
import { AppError, describeSystemError } from '../util/errors.js';
import { version } from '../util/version.js';
import {
  classifySmtpError, createTransport, readMailAddressing, readSmtpSettings, scrubSecret, smtpMode, toMailOptions, writeEml,
  type MailAddressing, type SmtpErrorKind, type SmtpSettings, type SmtpTransport,
} from './smtp.js';
import type { EnqueueResult, MessageQueue, OutboxMessage } from './types.js';

export interface OutboxOptions {
  /** The outbox directory, e.g. <state dir>/outbox. */
  dir: string;
  config: Config;
  env: NodeJS.ProcessEnv;
  log: Logger;
  clock: Clock;
}

export interface FlushResult {
  sent: number;
  retried: number;
  dead: number;
}

interface PendingRecord {
  v: 1;
  message: OutboxMessage;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  enqueuedAt: number;
}

interface Entry {
  id: string;
  kind: OutboxMessage['kind'];
  file: string;
  created: number;
  enqueuedAt: number;
  nextAttemptAt: number;
}

type Outcome =
  | { status: 'sent'; via: string }
  | { status: 'dropped'; why: string }
  | { status: 'failed'; kind: SmtpErrorKind; message: string; connection: boolean };

/** Delivered ids kept for duplicate detection. */
export const SENT_KEEP = 10_000;
/** How soon after an enqueue a started outbox delivers. */
const WAKE_MS = 20;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Outbox implements MessageQueue {
  readonly dir: string;
  private readonly pendingDir: string;
  private readonly deadDir: string;
  private readonly sentFile: string;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly smtp: SmtpSettings | null;
  private readonly addressing: MailAddressing;
  private transport: SmtpTransport | null = null;
  private readonly pending = new Map<string, Entry>();
  private readonly sentIds = new Set<string>();
  private sentOrder: string[] = [];
  /** A channel that failed to connect is not tried again before this time. */
  private readonly blockedUntil: Record<OutboxMessage['kind'], number> = { mail: 0, webhook: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private started = false;
  private stopping = false;

  /** Throws AppError CONFIG_INVALID when the SMTP_* environment or mail.ca_file has problems. */
  constructor(opts: OutboxOptions) {
    this.dir = opts.dir;
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock;
    const { settings, problems } = readSmtpSettings(opts.env, opts.config);
    if (problems.length > 0) {
      throw new AppError('CONFIG_INVALID', `invalid mail settings: ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix them and run \`logward validate\` again`, { details: problems });
    }
    this.smtp = settings;
    this.addressing = settings ?? readMailAddressing(opts.env);
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

  pendingCount(): number {
    return this.pending.size;
  }

  /** Where a message is now, and why it is still pending (for commands that send one now). */
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
    if (this.pending.size >= this.config.delivery.maxPending) {
      const error = `outbox full: ${this.pending.size} messages pending (delivery.max_pending); the SMTP server or webhook has not accepted messages for a while`;
      this.writeDead(file, { message: msg, attempts: 0, error, enqueuedAt: now });
      this.log.error({ id: msg.id, kind: msg.kind, dir: this.deadDir }, `${msg.kind} ${msg.id} not queued: ${error}; it was moved to ${this.deadDir}`);
      return 'full';
    }
    const record: PendingRecord = { v: 1, message: msg, attempts: 0, nextAttemptAt: now, lastError: null, enqueuedAt: now };
    this.writePending(file, record);
    this.pending.set(msg.id, { id: msg.id, kind: msg.kind, file, created: msg.created, enqueuedAt: now, nextAttemptAt: now });
    this.log.debug({ id: msg.id, kind: msg.kind }, `${msg.kind} ${msg.id} queued`);
    if (this.started && !this.stopping) this.arm(WAKE_MS);
    return 'queued';
  }

  /** One pass over the messages that are due, oldest first. Never throws. */
  flush(): Promise<FlushResult> {
    const run = this.chain.then(() => this.pass());
    this.chain = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.log.error({ err: scrubSecret(String(err), this.smtp ?? {}) }, 'outbox flush failed');
      return { sent: 0, retried: 0, dead: 0 };
    });
  }

  /** Delivers in the background: whenever a message is due, and soon after each enqueue. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  /** Stops the timer and waits for a delivery in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.disarm();
    try {
      await this.chain;
    } finally {
      this.started = false;
      this.stopping = false;
      this.transport?.close();
      this.transport = null;
    }
  }

  // --- Timer ----------------------------------------------------------------------------

  private schedule(): void {
    if (!this.started || this.stopping) return;
    let next = Infinity;
    for (const e of this.pending.values()) next = Math.min(next, Math.max(e.nextAttemptAt, this.blockedUntil[e.kind]));
    if (next === Infinity) {
      this.disarm();
      return;
    }
    this.arm(Math.max(0, next - this.clock.now()));
  }

  private arm(delayMs: number): void {
    const at = performance.now() + delayMs;
    if (this.timer !== null && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.flush().then(() => this.schedule());
    }, Math.min(delayMs, MAX_TIMER_MS));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  // --- Delivery -------------------------------------------------------------------------

  private async pass(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, retried: 0, dead: 0 };
    const start = this.clock.now();
    const due = [...this.pending.values()]
      .filter((e) => e.nextAttemptAt <= start && this.blockedUntil[e.kind] <= start)
      .sort((a, b) => a.created - b.created || a.enqueuedAt - b.enqueuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const entry of due) {
      if (this.stopping) break;
      if (this.blockedUntil[entry.kind] > this.clock.now()) continue;
      try {
        const record = this.readPending(entry);
        if (record === null) continue;
        record.enqueuedAt = Number(record.enqueuedAt) || entry.enqueuedAt;
        let outcome: Outcome;
        try {
          outcome = await this.deliver(record.message);
        } catch (err) {
          outcome = { status: 'failed', kind: 'transient', message: `unexpected delivery error (${scrubSecret(String(err), this.smtp ?? {})}); will retry`, connection: false };
        }
        if (outcome.status === 'sent' || outcome.status === 'dropped') {
          this.markSent(entry);
          this.blockedUntil[entry.kind] = 0;
          if (outcome.status === 'sent') {
            result.sent++;
            this.log.info({ id: entry.id, kind: entry.kind, attempts: (Number(record.attempts) || 0) + 1, via: outcome.via }, `${entry.kind} ${entry.id} delivered via ${outcome.via}`);
          } else {
            this.log.debug({ id: entry.id, kind: entry.kind }, `${entry.kind} ${entry.id} dropped: ${outcome.why}`);
          }
        } else if (outcome.kind === 'permanent') {
          this.writeDead(entry.file, { message: record.message, attempts: (Number(record.attempts) || 0) + 1, error: outcome.message, enqueuedAt: record.enqueuedAt });
          this.removePending(entry);
          result.dead++;
          this.log.error({ id: entry.id, kind: entry.kind, attempts: (Number(record.attempts) || 0) + 1, dir: this.deadDir }, `${entry.kind} ${entry.id} not delivered: ${outcome.message}; moved to ${this.deadDir}`);
        } else {
          const attempts = (Number(record.attempts) || 0) + 1;
          const delay = Math.min(this.config.delivery.retryMaxMs, this.config.delivery.retryMinMs * 2 ** Math.min(attempts - 1, 40));
          const nextAttemptAt = this.clock.now() + delay;
          entry.nextAttemptAt = nextAttemptAt;
          if (outcome.connection) this.blockedUntil[entry.kind] = nextAttemptAt;
          this.writePending(entry.file, { ...record, attempts, nextAttemptAt, lastError: outcome.message });
          result.retried++;
          const fields = { id: entry.id, kind: entry.kind, attempts, nextAttemptAt: new Date(nextAttemptAt).toISOString() };
          const text = `${entry.kind} ${entry.id} not delivered (attempt ${attempts}): ${outcome.message}; next try in ${Math.round(delay / 100) / 10} s`;
          if (outcome.kind === 'config') this.log.error(fields, text);
          else this.log.warn(fields, text);
        }
      } catch (err) {
        // Bookkeeping failed (disk full, permissions): try again later, never in a loop.
        entry.nextAttemptAt = this.clock.now() + this.config.delivery.retryMinMs;
        this.log.error({ id: entry.id, kind: entry.kind, dir: this.dir }, `outbox bookkeeping for ${entry.kind} ${entry.id} failed (${describeSystemError(err)}); check ${this.dir}`);
      }
    }
    return result;
  }

  private async deliver(msg: OutboxMessage): Promise<Outcome> {
    if (msg.kind === 'mail') {
      if (this.smtp === null) {
        try {
          const file = await writeEml(this.config.mail.outboxDir, msg.mail, this.addressing);
          return { status: 'sent', via: file };
        } catch (err) {
          return { status: 'failed', kind: 'config', message: `cannot write the message to mail.outbox_dir ${this.config.mail.outboxDir} (${describeSystemError(err)})`, connection: true };
        }
      }
      const s = this.smtp;
      this.transport ??= createTransport(s);
      try {
        await this.transport.sendMail(toMailOptions(msg.mail, s));
        return { status: 'sent', via: `${s.host}:${s.port} (${smtpMode(s)})` };
      } catch (err) {
        const c = classifySmtpError(err, s);
        return { status: 'failed', kind: c.kind, message: c.message, connection: c.connection };
      }
    }
    return this.postWebhook(msg.id, msg.webhook.body);
  }

  private async postWebhook(id: string, body: Record<string, unknown>): Promise<Outcome> {
    const { url, secret, headers, timeoutMs } = this.config.webhook;
    if (url === null) return { status: 'dropped', why: 'webhook.url is not set' };
    const where = redactUrl(url);
    // Escaped before signing: the receiver verifies exactly the bytes that are sent.
    const payload = safeJson(body);
    const h: Record<string, string> = {
      'user-agent': `logward/${version()}`,
      ...headers,
      'content-type': 'application/json',
      'x-logward-id': id,
    };
    if (secret !== null) h['x-logward-signature'] = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
    try {
      const res = await got.post(url, {
        body: payload,
        headers: h,
        timeout: { request: timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
      });
      const code = res.statusCode;
      if (code >= 200 && code < 300) return { status: 'sent', via: where };
      if (code === 408 || code === 429 || code >= 500) {
        return { status: 'failed', kind: 'transient', message: `webhook ${where} answered HTTP ${code}; will retry`, connection: false };
      }
      return { status: 'failed', kind: 'permanent', message: `webhook ${where} answered HTTP ${code}; not retried: check webhook.url and webhook.headers`, connection: false };
    } catch (err) {
      const e = err as { code?: string; name?: string };
      const what = e.name === 'TimeoutError' || e.code === 'ETIMEDOUT'
        ? `no answer within ${timeoutMs / 1000} s (webhook.timeout_secs)`
        : e.code === 'ECONNREFUSED' ? 'connection refused: is the receiver running?' : e.code === 'ENOTFOUND' ? 'host not found (DNS)' : (e.code ?? 'request failed');
      return { status: 'failed', kind: 'transient', message: `webhook ${where}: ${what}; will retry`, connection: true };
    }
  }

  // --- Files ----------------------------------------------------------------------------

  private writePending(file: string, record: PendingRecord): void {
    try {
      writeFileAtomic(path.join(this.pendingDir, file), `${JSON.stringify(record)}\n`, 0o600);
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot write outbox message ${path.join(this.pendingDir, file)} (${describeSystemError(err)}); check free space and permissions of ${this.dir}`);
    }
  }

  private writeDead(file: string, r: { message: OutboxMessage; attempts: number; error: string; enqueuedAt: number }): void {
    const rec = { v: 1, message: r.message, attempts: r.attempts, error: scrubSecret(r.error, this.smtp ?? {}), deadAt: this.clock.now(), enqueuedAt: r.enqueuedAt };
    writeFileAtomic(path.join(this.deadDir, file), `${JSON.stringify(rec)}\n`, 0o600);
  }

  private readPending(entry: Entry): PendingRecord | null {
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
    return rec;
  }

  private removePending(entry: Entry): void {
    fs.rmSync(path.join(this.pendingDir, entry.file), { force: true });
    this.pending.delete(entry.id);
  }

  /** Records a delivered id (fsynced), then removes its pending file. */
  private markSent(entry: Entry): void {
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

/** A webhook URL without its path, query or credentials (a Slack URL's path is its secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname === '/' && u.search === '' ? '' : '/…'}`;
  } catch {
    return '(webhook.url)';
  }
}
