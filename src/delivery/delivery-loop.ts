// When and how often the outbox tries: one pass at a time over the messages that are due,
// oldest first; a failure is retried with exponential backoff (delivery.retry_min_secs
// doubling up to retry_max_secs); a channel that cannot connect is not tried again before
// its next time; a timer wakes for the next due message and soon after each enqueue.
// A message is sent only once this process has claimed it (another process may flush the
// same outbox). This module decides nothing about how a message is sent (the Sender does)
// or stored (the QueueStore does), and a pass never throws: bookkeeping failures are
// retried later.

import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import type { QueueStore } from './queue-store.js';
import type { Outcome, Sender } from './transports.js';
import type { OutboxMessage } from './types.js';

export interface FlushResult {
  sent: number;
  retried: number;
  dead: number;
}

export interface DeliveryLoopOptions {
  store: QueueStore;
  sender: Sender;
  delivery: Pick<Config['delivery'], 'retryMinMs' | 'retryMaxMs'>;
  log: Logger;
  clock: Clock;
}

/** How soon after an enqueue a started loop delivers. */
const WAKE_MS = 20;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DeliveryLoop {
  private readonly store: QueueStore;
  private readonly sender: Sender;
  private readonly delivery: DeliveryLoopOptions['delivery'];
  private readonly log: Logger;
  private readonly clock: Clock;
  /** A channel that failed to connect is not tried again before this time. */
  private readonly blockedUntil: Record<OutboxMessage['kind'], number> = { mail: 0, webhook: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private started = false;
  private stopping = false;

  constructor(opts: DeliveryLoopOptions) {
    this.store = opts.store;
    this.sender = opts.sender;
    this.delivery = opts.delivery;
    this.log = opts.log;
    this.clock = opts.clock;
  }

  /** One pass over the messages that are due, oldest first. Never throws. */
  flush(): Promise<FlushResult> {
    const run = this.chain.then(() => this.pass());
    this.chain = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.log.error({ err: this.sender.redact(String(err)) }, 'outbox flush failed');
      return { sent: 0, retried: 0, dead: 0 };
    });
  }

  /** Delivers in the background: whenever a message is due, and soon after each enqueue. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  /** A message was queued: deliver it soon if the loop runs. */
  wake(): void {
    if (this.started && !this.stopping) this.arm(WAKE_MS);
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
      this.sender.close();
    }
  }

  // --- Timer ----------------------------------------------------------------------------

  private schedule(): void {
    if (!this.started || this.stopping) return;
    let next = Infinity;
    for (const e of this.store.entries()) next = Math.min(next, Math.max(e.nextAttemptAt, this.blockedUntil[e.kind]));
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
    const due = [...this.store.entries()]
      .filter((e) => e.nextAttemptAt <= start && this.blockedUntil[e.kind] <= start)
      .sort((a, b) => a.created - b.created || a.enqueuedAt - b.enqueuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const entry of due) {
      if (this.stopping) break;
      if (this.blockedUntil[entry.kind] > this.clock.now()) continue;
      try {
        // Another process (a command sending now) may flush the same outbox: only the
        // claimant sends.
        const claim = this.store.claim(entry);
        if (claim.state === 'busy') this.store.postpone(entry, this.clock.now() + this.delivery.retryMinMs);
        if (claim.state !== 'claimed') continue;
        const record = claim.record;
        let outcome: Outcome;
        try {
          outcome = await this.sender.send(record.message);
        } catch (err) {
          outcome = { status: 'failed', kind: 'transient', message: `unexpected delivery error (${this.sender.redact(String(err))}); will retry`, connection: false };
        }
        const attempts = (Number(record.attempts) || 0) + 1;
        if (outcome.status === 'sent' || outcome.status === 'dropped') {
          this.store.markSent(entry);
          this.blockedUntil[entry.kind] = 0;
          if (outcome.status === 'sent') {
            result.sent++;
            this.log.info({ id: entry.id, kind: entry.kind, attempts, via: outcome.via }, `${entry.kind} ${entry.id} delivered via ${outcome.via}`);
          } else {
            this.log.debug({ id: entry.id, kind: entry.kind }, `${entry.kind} ${entry.id} dropped: ${outcome.why}`);
          }
        } else if (outcome.kind === 'permanent') {
          this.store.deadLetter(entry, { message: record.message, attempts, error: outcome.message, enqueuedAt: record.enqueuedAt });
          result.dead++;
          this.log.error({ id: entry.id, kind: entry.kind, attempts, dir: this.store.deadDir }, `${entry.kind} ${entry.id} not delivered: ${outcome.message}; moved to ${this.store.deadDir}`);
        } else {
          const delay = Math.min(this.delivery.retryMaxMs, this.delivery.retryMinMs * 2 ** Math.min(attempts - 1, 40));
          const nextAttemptAt = this.clock.now() + delay;
          if (outcome.connection) this.blockedUntil[entry.kind] = nextAttemptAt;
          this.store.retryLater(entry, record, attempts, nextAttemptAt, outcome.message);
          result.retried++;
          const fields = { id: entry.id, kind: entry.kind, attempts, nextAttemptAt: new Date(nextAttemptAt).toISOString() };
          const text = `${entry.kind} ${entry.id} not delivered (attempt ${attempts}): ${outcome.message}; next try in ${Math.round(delay / 100) / 10} s`;
          if (outcome.kind === 'config') this.log.error(fields, text);
          else this.log.warn(fields, text);
        }
      } catch (err) {
        // Bookkeeping failed (disk full, permissions): try again later, never in a loop.
        this.store.postpone(entry, this.clock.now() + this.delivery.retryMinMs);
        this.log.error({ id: entry.id, kind: entry.kind, dir: this.store.dir }, `outbox bookkeeping for ${entry.kind} ${entry.id} failed (${describeSystemError(err)}); check ${this.store.dir}`);
      }
    }
    return result;
  }
}
