// A message a command sends now (digest --send, scan --email): through the same outbox
// as the daemon's, so a failed send is not lost but retried by `logward run`. It flushes
// the whole outbox while the daemon may be flushing it too; every message is claimed
// before it is sent (claims.ts), so none goes out twice.

import path from 'node:path';
import type { Config } from '../config/types.js';
import { createLogger } from '../util/logger.js';
import { AppError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { Outbox } from './outbox.js';
import type { MailContent } from './types.js';

export interface SendNowResult {
  /** One line for the operator. */
  line: string;
  sent: boolean;
}

export async function sendMailNow(config: Pick<Config, 'mail' | 'webhook' | 'delivery'>, stateDir: string, id: string, mail: MailContent, clock: Clock): Promise<SendNowResult> {
  // Only problems reach the terminal: the command prints its own one-line result.
  const log = createLogger({ level: 'warn', fd: 2 });
  const outbox = new Outbox({ dir: path.join(stateDir, 'outbox'), config, log, clock });
  const queued = outbox.enqueue({ kind: 'mail', id, created: clock.now(), mail });
  if (queued === 'duplicate') {
    const st = outbox.status(id);
    if (st.state === 'sent') return { line: `already sent: ${mail.subject}`, sent: true };
  }
  if (queued === 'full') throw new AppError('MAIL_FAILED', `the outbox in ${outbox.dir} is full (delivery.max_pending); deliver or remove pending messages first`);
  await outbox.flush();
  await outbox.stop();
  const st = outbox.status(id);
  if (st.state === 'sent') {
    const smtp = config.mail.smtp;
    const to = smtp !== null ? `to ${smtp.to.join(', ')} via ${smtp.host}` : `as a file in ${config.mail.outboxDir} (no SMTP_HOST set)`;
    return { line: `sent ${to}: ${mail.subject}`, sent: true };
  }
  if (st.state === 'dead') throw new AppError('MAIL_FAILED', `the mail server refused the message; it is in ${path.join(outbox.dir, 'dead')}`);
  throw new AppError('MAIL_FAILED', `not sent yet (${st.lastError ?? 'delivery failed'}); it stays in ${outbox.dir} and \`logward run\` retries it`);
}
