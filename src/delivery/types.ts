// What leaves logward: mail and webhook messages, all of them through one persistent
// outbox so none is lost (SMTP down, a crash, a restart) and none is sent twice for one
// id. Composition (what a digest or an alert mail says) lives elsewhere; this is the
// contract between the two.

export interface MailAttachment {
  filename: string;
  content: string;
  contentType: string;
}

export interface MailContent {
  /**
   * Stable Message-ID without angle brackets, e.g. "digest-2026-11-29.web1@logward":
   * the same digest day or incident always gives the same id, so a receiver can drop a
   * duplicate created by a crash between sending and bookkeeping.
   */
  messageId: string;
  /** One line; composition already removed control characters. */
  subject: string;
  text: string;
  html?: string;
  attachments?: MailAttachment[];
  /** Epoch ms for the Date header. */
  date: number;
}

export interface WebhookContent {
  /** The JSON document POSTed (an alert, or a digest summary). */
  body: Record<string, unknown>;
}

export type OutboxMessage =
  | { kind: 'mail'; id: string; created: number; mail: MailContent }
  | { kind: 'webhook'; id: string; created: number; webhook: WebhookContent };

/** What enqueue did with a message. */
export type EnqueueResult = 'queued' | 'duplicate' | 'full';

/** Where composed messages go: the outbox (or, in tests, anything that keeps them). */
export interface MessageQueue {
  enqueue(msg: OutboxMessage): EnqueueResult;
}
