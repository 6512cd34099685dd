// Sending one webhook message: a JSON POST to webhook.url, signed with HMAC-SHA256 over
// the exact bytes sent when webhook.secret is set, and the answer turned into an outcome
// (2xx sent; 408, 429 and 5xx retried; other codes permanent; no answer retried). It never
// follows a redirect, never retries on its own (the outbox does), and never puts the URL's
// path, query or credentials, or the secret, into a message. HTTP goes through
// util/http-client.ts.

import { createHmac } from 'node:crypto';
import type { Config } from '../config/types.js';
import { httpPost } from '../util/http-client.js';
import { safeJson } from '../util/text.js';
import { version } from '../util/version.js';
import type { Outcome } from './transports.js';

export async function postWebhook(webhook: Config['webhook'], id: string, body: Record<string, unknown>): Promise<Outcome> {
  const { url, secret, headers, timeoutMs } = webhook;
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
  const res = await httpPost(url, payload, { headers: h, timeoutMs });
  if (res.kind === 'failed') {
    const f = res.failure;
    const what = f.timedOut
      ? `no answer within ${timeoutMs / 1000} s (webhook.timeout_secs)`
      : f.code === 'ECONNREFUSED' ? 'connection refused: is the receiver running?' : f.code === 'ENOTFOUND' ? 'host not found (DNS)' : (f.code ?? 'request failed');
    return { status: 'failed', kind: 'transient', message: `webhook ${where}: ${what}; will retry`, connection: true };
  }
  const code = res.status;
  if (code >= 200 && code < 300) return { status: 'sent', via: where };
  if (code === 408 || code === 429 || code >= 500) {
    return { status: 'failed', kind: 'transient', message: `webhook ${where} answered HTTP ${code}; will retry`, connection: false };
  }
  return { status: 'failed', kind: 'permanent', message: `webhook ${where} answered HTTP ${code}; not retried: check webhook.url and webhook.headers`, connection: false };
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
