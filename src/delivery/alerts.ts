// What happens when an incident is alerted, besides the log line: an immediate mail for
// serious ones (rate-limited: at most N an hour, the rest folded into one follow-up), a
// webhook post, and a line in the SIEM stream. Everything goes through the outbox, with
// ids derived from the incident id, so an alert re-read after a crash is a duplicate the
// outbox drops. The rate limiter's state is saved with the daemon's state.

import fs from 'node:fs';
import path from 'node:path';
import { SEVERITIES, type Incident, type Severity } from '../core/types.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { escapeHtml, escapeJsonText, keyText, oneLine, safeId } from '../util/text.js';
import { hash16 } from '../util/hash.js';
import { DurableAppend } from '../util/durable-append.js';
import type { MailContent, MessageQueue, OutboxMessage } from './types.js';

const HOUR_MS = 3_600_000;
const MAX_FOLDED = 200;

export interface RateState {
  /** Wall-clock ms of the alert mails sent in the last hour. */
  sent: number[];
  /** Alerts held back by the limit, for the follow-up mail. */
  folded: FoldedAlert[];
  /** Alerts folded beyond MAX_FOLDED (counted, not listed). */
  foldedMore: number;
}

export interface FoldedAlert {
  id: string;
  rule: string;
  severity: string;
  key: string | null;
  keyField: string | null;
  count: number;
  first: number;
}

export function atLeast(s: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(min);
}

export class AlertDispatcher {
  private rate: RateState;
  private readonly stream: DurableAppend | null = null;

  constructor(
    private readonly config: Pick<Config, 'mail' | 'webhook' | 'delivery'>,
    private readonly host: string,
    private readonly queue: MessageQueue,
    private readonly log: Logger,
    private readonly clock: Clock,
    saved: RateState | null,
  ) {
    this.rate = saved ?? { sent: [], folded: [], foldedMore: 0 };
    const stream = config.delivery.alertStream;
    if (stream !== null) {
      try {
        fs.mkdirSync(path.dirname(stream), { recursive: true, mode: 0o750 });
        this.stream = new DurableAppend(fs.openSync(stream, 'a', 0o640));
      } catch (err) {
        this.log.error({ file: stream, err: (err as Error).message }, 'The alert stream cannot be opened; alerts still go to the log, mail and webhook.');
      }
    }
  }

  /** One newly alerted incident; `body` is JSON.stringify(alert), when the caller has it. */
  alert(i: Incident, alert: Record<string, unknown>, body = JSON.stringify(alert)): void {
    const now = this.clock.now();
    if (this.stream !== null) {
      try {
        // One record per line for any shipper: the separators JSON leaves raw are escaped.
        this.stream.write(escapeJsonText(`${body.slice(0, -1)},"host":${JSON.stringify(this.host)},"alerted_at":"${new Date(now).toISOString()}"}\n`));
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'Appending to the alert stream failed.');
      }
    }
    const hook = this.config.webhook;
    if (hook.url !== null && atLeast(i.severity, hook.minSeverity)) {
      this.enqueue({ kind: 'webhook', id: `webhook-${i.id}`, created: now, webhook: { body: { ...alert, host: this.host, source: 'logward' } } });
    }
    const min = this.config.mail.alertMinSeverity;
    if (min === 'off' || !atLeast(i.severity, min)) return;
    this.expire(now);
    if (this.rate.sent.length < this.config.mail.alertsPerHour) {
      this.rate.sent.push(now);
      const origins = typeof alert.origins === 'object' && alert.origins !== null ? (alert.origins as Record<string, string>) : null;
      this.enqueue({ kind: 'mail', id: `alert-${i.id}`, created: now, mail: alertMail(i, this.host, now, origins) });
      return;
    }
    if (this.rate.folded.length < MAX_FOLDED) {
      this.rate.folded.push({ id: i.id, rule: i.rule, severity: i.severity, key: i.key, keyField: i.keyField, count: i.count, first: i.first });
    } else {
      this.rate.foldedMore++;
    }
  }

  /** Sends the follow-up of folded alerts once the hour allows another mail. */
  tick(): void {
    const now = this.clock.now();
    this.expire(now);
    if (this.rate.folded.length === 0 || this.rate.sent.length >= this.config.mail.alertsPerHour) return;
    const folded = this.rate.folded;
    const more = this.rate.foldedMore;
    const id = hash16(folded.map((f) => f.id).join(','));
    this.rate.sent.push(now);
    this.rate.folded = [];
    this.rate.foldedMore = 0;
    this.enqueue({ kind: 'mail', id: `folded-${id}`, created: now, mail: foldedMail(folded, more, this.host, now, this.config.mail.alertsPerHour, id) });
  }

  state(): RateState {
    return { sent: [...this.rate.sent], folded: [...this.rate.folded], foldedMore: this.rate.foldedMore };
  }

  /** Makes the alert stream durable; the daemon calls it before each checkpoint. */
  sync(): void {
    this.stream?.sync();
  }

  close(): void {
    this.stream?.close();
  }


  private expire(now: number): void {
    this.rate.sent = this.rate.sent.filter((t) => t > now - HOUR_MS && t <= now + HOUR_MS);
  }

  private enqueue(msg: OutboxMessage): void {
    const r = this.queue.enqueue(msg);
    if (r === 'full') this.log.error({ id: msg.id }, 'The outbox is full (delivery.max_pending): this message was dead-lettered; check the mail server or webhook.');
  }
}

export function alertSubject(i: Incident, host: string): string {
  return oneLine(`[logward] ${i.severity.toUpperCase()} ${i.rule} ${keyText(i)}: ${i.count} events on ${host}`, 200);
}

export function alertMail(i: Incident, host: string, now: number, origins: Readonly<Record<string, string>> | null = null): MailContent {
  const addresses = i.ips.map((ip) => (origins?.[ip] === undefined ? ip : `${ip} (${origins[ip]})`));
  const lines = [
    `logward alert on ${oneLine(host)}`,
    '',
    `Rule:      ${i.rule} (${i.severity})`,
    `Key:       ${oneLine(keyText(i))}`,
    `Events:    ${i.count} (threshold ${i.threshold} in ${i.windowMs / 1000} s)`,
    `First:     ${new Date(i.first).toISOString()}`,
    `Last:      ${new Date(i.last).toISOString()}`,
    `Addresses: ${oneLine(addresses.join(', ') || '-', 1000)}`,
    `Users:     ${oneLine(i.users.join(', ') || '-', 1000)}`,
    `Hosts:     ${oneLine(i.hosts.join(', ') || '-', 1000)}`,
    `Incident:  ${i.id}`,
    '',
    'Sample lines:',
    ...i.samples.map((s) => `  ${oneLine(s.source)}:${s.line}  ${oneLine(s.text, 1000)}`),
    '',
    'More events of this incident join it without another mail; the daily digest lists it.',
  ];
  const e = escapeHtml;
  const html = [
    '<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family:system-ui,sans-serif;font-size:14px">',
    `<h3>${e(i.severity.toUpperCase())} ${e(i.rule)} on ${e(host)}</h3><table cellpadding="3">`,
    `<tr><td>Key</td><td>${e(keyText(i))}</td></tr>`,
    `<tr><td>Events</td><td>${i.count} (threshold ${i.threshold} in ${i.windowMs / 1000} s)</td></tr>`,
    `<tr><td>First</td><td>${new Date(i.first).toISOString()}</td></tr><tr><td>Last</td><td>${new Date(i.last).toISOString()}</td></tr>`,
    `<tr><td>Addresses</td><td>${e(addresses.join(', '))}</td></tr><tr><td>Users</td><td>${e(i.users.join(', '))}</td></tr>`,
    `<tr><td>Incident</td><td>${e(i.id)}</td></tr></table><p>Sample lines:</p><pre>`,
    ...i.samples.map((s) => `${e(s.source)}:${s.line}  ${e(s.text)}\n`),
    '</pre></body></html>',
  ].join('');
  return { messageId: `alert-${i.id}.${safeId(host)}@logward`, subject: alertSubject(i, host), text: `${lines.join('\n')}\n`, html, date: now };
}

function foldedMail(folded: readonly FoldedAlert[], more: number, host: string, now: number, perHour: number, id: string): MailContent {
  const total = folded.length + more;
  const lines = [
    `${total} more alert${total === 1 ? '' : 's'} on ${oneLine(host)} were held back by the limit of ${perHour} alert mails per hour:`,
    '',
    ...folded.map((f) => `  ${new Date(f.first).toISOString()}  ${f.severity.padEnd(8)} ${f.rule.padEnd(20)} ${oneLine(keyText(f))}  (${f.count} events)`),
    ...(more > 0 ? [`  ... and ${more} more (see the incident journal and the daily digest)`] : []),
  ];
  return {
    messageId: `folded-${id}.${safeId(host)}@logward`,
    subject: oneLine(`[logward] ${total} more alert${total === 1 ? '' : 's'} on ${host} (mail limit reached)`),
    text: `${lines.join('\n')}\n`,
    date: now,
  };
}
