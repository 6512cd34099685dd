// Sending one message, whatever its kind: a mail through the SMTP server (delivery/smtp.ts)
// or, with no server set, as an .eml file into mail.outbox_dir; a webhook through
// delivery/webhook.ts. Each send ends in an Outcome that the delivery loop acts on. This
// module never retries, never schedules, never touches the outbox folder, and never lets
// the SMTP password into an outcome (redact() removes it from any other text too).

import type { Config } from '../config/types.js';
import { describeSystemError } from '../util/errors.js';
import {
  classifySmtpError, createTransport, scrubSecret, smtpMode, toMailOptions, writeEml,
  type MailAddressing, type SmtpErrorKind, type SmtpSettings, type SmtpTransport,
} from './smtp.js';
import type { OutboxMessage } from './types.js';
import { postWebhook } from './webhook.js';

/** What one attempt to send a message gave. */
export type Outcome =
  | { status: 'sent'; via: string }
  /** Nowhere to send it (webhook.url unset): counted as done, never retried. */
  | { status: 'dropped'; why: string }
  /** connection: no message of this kind can get through now, not just this one. */
  | { status: 'failed'; kind: SmtpErrorKind; message: string; connection: boolean };

/** What the delivery loop needs to send messages. */
export interface Sender {
  send(msg: OutboxMessage): Promise<Outcome>;
  /** The text without the secrets this sender knows of. */
  redact(text: string): string;
  /** Closes open connections; a later send opens them again. */
  close(): void;
}

export class Transports implements Sender {
  private readonly smtp: SmtpSettings | null;
  private readonly addressing: MailAddressing;
  private transport: SmtpTransport | null = null;

  /** With no SMTP server in config.mail, mails become .eml files addressed from/to as there. */
  constructor(private readonly config: Pick<Config, 'mail' | 'webhook'>) {
    this.smtp = config.mail.smtp;
    this.addressing = { from: config.mail.from, to: config.mail.to };
  }

  async send(msg: OutboxMessage): Promise<Outcome> {
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
    return postWebhook(this.config.webhook, msg.id, msg.webhook.body);
  }

  redact(text: string): string {
    return scrubSecret(text, this.smtp ?? {});
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
  }
}
