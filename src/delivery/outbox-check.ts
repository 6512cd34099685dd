// What a file of the outbox must hold before it is used, field by field: a pending
// message and a line of sent.jsonl. logward writes these files itself, so a failed check
// means damage (a write cut by a crash or a full disk, a disk error, a hand edit); the
// caller drops the entry with one warning and keeps the damaged file aside. This module
// only judges text and names the aside copy; it never touches a file.

import type { OutboxMessage } from './types.js';

export interface PendingRecord {
  v: 1;
  message: OutboxMessage;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  enqueuedAt: number;
}

/** What a bad field should have been ("a string"), or null when it is fine. */
type Check = (v: unknown) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const string: Check = (v) => (typeof v === 'string' ? null : 'a string');
const nonEmpty: Check = (v) => (typeof v === 'string' && v !== '' ? null : 'a non-empty string');
const number: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'a number');
const count: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'a whole number >= 0');
const object: Check = (v) => (isObject(v) ? null : 'an object');
const optional = (c: Check): Check => (v) => (v === undefined ? null : c(v));
const oneOf = (...values: string[]): Check => (v) => (values.includes(v as string) ? null : values.map((x) => `"${x}"`).join(' or '));

/** The first bad field of obj as "path: expected ...", or null. */
function shape(obj: unknown, fields: Record<string, Check>, at: string): string | null {
  if (!isObject(obj)) return `${at === '' ? 'the file' : at.slice(0, -1)}: expected an object`;
  for (const [key, check] of Object.entries(fields)) {
    const want = check(obj[key]);
    if (want !== null) return `${at}${key}: expected ${want}`;
  }
  return null;
}

const attachments: Check = (v) => {
  if (!Array.isArray(v)) return 'a list of attachments';
  const bad = v.findIndex((a) => shape(a, { filename: string, content: string, contentType: string }, '') !== null);
  return bad < 0 ? null : `a list of attachments with filename, content and contentType (item ${bad + 1} is not)`;
};

function messageProblem(m: unknown): string | null {
  const head = shape(m, { id: nonEmpty, kind: oneOf('mail', 'webhook'), created: number }, 'message.');
  if (head !== null) return head;
  const msg = m as Record<string, unknown>;
  if (msg.kind === 'mail') {
    return shape(msg.mail, { messageId: nonEmpty, subject: string, text: string, date: number, html: optional(string), attachments: optional(attachments) }, 'message.mail.');
  }
  return shape(msg.webhook, { body: object }, 'message.webhook.');
}

/**
 * A pending file's record, or the problem that makes it unusable. A dead letter moved
 * back into pending/ by hand (as the README suggests) has no nextAttemptAt or lastError:
 * it is due at once.
 */
export function parsePending(text: string): PendingRecord | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  const problem = shape(doc, { v: (v) => (v === 1 ? null : 'version 1'), message: object, attempts: count, nextAttemptAt: optional(number), lastError: optional((v) => (v === null ? null : string(v))), enqueuedAt: number }, '')
    ?? messageProblem((doc as Record<string, unknown>).message);
  if (problem !== null) return problem;
  const r = doc as PendingRecord;
  return { v: 1, message: r.message, attempts: r.attempts, nextAttemptAt: r.nextAttemptAt ?? 0, lastError: r.lastError ?? null, enqueuedAt: r.enqueuedAt };
}

/** The id of one line of sent.jsonl, or the problem with it. */
export function parseSentLine(line: string): { id: string } | { problem: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  const problem = shape(doc, { id: nonEmpty, at: number }, '');
  return problem === null ? { id: (doc as { id: string }).id } : { problem };
}
