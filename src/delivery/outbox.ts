// The persistent outbox: every mail and webhook message goes through it, so none is lost
// (SMTP down, a crash, a restart) and none is sent twice for one id. It only puts the
// parts together: the folder of messages (queue-store.ts), the retry timing
// (delivery-loop.ts) and the sending (transports.ts). A crash after the server accepted a
// message but before sent.jsonl records it re-sends it once at the next start, with the
// same Message-ID / X-Logward-Id. Nothing here reads a file or opens a connection itself.

import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { AppError } from '../util/errors.js';
import { DeliveryLoop, type FlushResult } from './delivery-loop.js';
import { QueueStore } from './queue-store.js';
import { Transports } from './transports.js';
import type { EnqueueResult, MessageQueue, OutboxMessage } from './types.js';

export type { FlushResult };
export { fileName, SENT_KEEP } from './queue-store.js';
export { redactUrl } from './webhook.js';

export interface OutboxOptions {
  /** The outbox directory, e.g. <state dir>/outbox. */
  dir: string;
  /** Its mail settings (Config.mail.smtp, from, to) are the ones loadConfig read from SMTP_*. */
  config: Pick<Config, 'mail' | 'webhook' | 'delivery'>;
  log: Logger;
  clock: Clock;
}

export class Outbox implements MessageQueue {
  readonly dir: string;
  private readonly store: QueueStore;
  private readonly loop: DeliveryLoop;

  /** Throws AppError CONFIG_INVALID when the SMTP_* environment or mail.ca_file has problems. */
  constructor(opts: OutboxOptions) {
    this.dir = opts.dir;
    const { problems } = opts.config.mail;
    if (problems.length > 0) {
      throw new AppError('CONFIG_INVALID', `invalid mail settings: ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix them and run \`logward validate\` again`, { details: problems });
    }
    const sender = new Transports(opts.config);
    this.store = new QueueStore({ dir: opts.dir, maxPending: opts.config.delivery.maxPending, log: opts.log, clock: opts.clock, redact: (t) => sender.redact(t) });
    this.loop = new DeliveryLoop({ store: this.store, sender, delivery: opts.config.delivery, log: opts.log, clock: opts.clock });
  }

  pendingCount(): number {
    return this.store.size;
  }

  /** Where a message is now, and why it is still pending (for commands that send one now). */
  status(id: string): { state: 'pending' | 'sent' | 'dead' | 'unknown'; lastError: string | null } {
    return this.store.status(id);
  }

  /** Persists the message (fsynced) before returning. Idempotent by id. */
  enqueue(msg: OutboxMessage): EnqueueResult {
    const r = this.store.enqueue(msg);
    if (r === 'queued') this.loop.wake();
    return r;
  }

  /** One pass over the messages that are due, oldest first. Never throws. */
  flush(): Promise<FlushResult> {
    return this.loop.flush();
  }

  /** Delivers in the background: whenever a message is due, and soon after each enqueue. */
  start(): void {
    this.loop.start();
  }

  /** Stops the timer and waits for a delivery in flight. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
