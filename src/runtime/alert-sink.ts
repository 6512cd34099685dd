// The daemon's alerting sink: an incident that opens goes out (alert mail, webhook and
// alert stream through the dispatcher) and into the incident journal; one that closes is
// journaled with its final counts. Duplicate suppression lives here: an incident the
// journal already holds was alerted before a restart and is not alerted again. Origins are
// handed to the enricher in the background: an alert never waits for a lookup.

import type { Incident } from '../core/types.js';
import type { AlertDispatcher } from '../delivery/alerts.js';
import type { IncidentJournal } from '../sinks/incident-journal.js';
import { alertJson, type OriginOf } from '../sinks/report.js';
import type { Sink } from '../sinks/types.js';
import type { Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { isoUtc } from '../core/time.js';
import { oneLine } from '../util/text.js';

export interface AlertSinkOptions {
  readonly journal: IncidentJournal;
  readonly dispatcher: () => AlertDispatcher;
  readonly log: Logger;
  readonly clock: Clock;
  readonly originOf: OriginOf | undefined;
  /** Asks the online provider about addresses (no-op without one); never awaited. */
  readonly enrichLater: (ips: readonly string[]) => void;
}

export class AlertSink implements Sink {
  readonly name = 'alerts';
  /** Incidents alerted since start. */
  fired = 0;

  constructor(private readonly opts: AlertSinkOptions) {}

  opened(i: Incident): void {
    const { journal, log } = this.opts;
    if (journal.hasOpened(i.id)) {
      // Re-read after a crash: this incident was journaled (and alerted) before.
      log.debug({ id: i.id, rule: i.rule }, 'Incident already alerted before a restart; not alerted again.');
      return;
    }
    const alert = alertJson(i, this.opts.originOf);
    this.opts.enrichLater(i.ips);
    const body = JSON.stringify(alert); // once, for the stream and the journal
    // Out first, journal second: a crash in between re-reads the lines, and the outbox
    // drops the second copy by id (at least once, never lost).
    this.opts.dispatcher().alert(i, alert, body);
    this.append('opened', i.id, body);
    this.fired++;
    // The log line carries the alert without its samples (the journal and the stream have them).
    const { samples: _s, ...brief } = alert;
    log.warn({ alert: brief }, alertLine(i, this.opts.originOf));
  }

  closed(i: Incident): void {
    if (this.opts.journal.hasClosed(i.id)) return;
    // The final counts, for the digest; the samples were journaled when it opened.
    const { samples: _samples, ...final } = alertJson(i);
    this.append('closed', i.id, JSON.stringify(final));
  }

  /** Makes the journal durable (before a checkpoint covers the lines of its records). */
  sync(): void {
    try {
      this.opts.journal.sync();
    } catch (err) {
      this.opts.log.error({ file: this.opts.journal.file, err: describeSystemError(err) }, 'Syncing the incident journal failed; alerts of the last lines may be repeated after a crash.');
    }
  }

  /** Appends to the incident journal; a failure is logged and the alert still goes out. */
  private append(type: 'opened' | 'closed', id: string, alertBody: string): void {
    try {
      this.opts.journal.appendJson(type, id, new Date(this.opts.clock.now()).toISOString(), alertBody);
    } catch (err) {
      this.opts.log.error({ file: this.opts.journal.file, err: describeSystemError(err) }, 'Writing the incident journal failed; this alert may be repeated after a crash.');
    }
  }
}

/** "ALERT ssh_bruteforce at 2025-10-14T00:10:00Z (count=12) ip=203.0.113.7 from CN/Beijing (AS…)": one line a person reads. */
export function alertLine(i: Incident, originOf: OriginOf | undefined): string {
  const key = i.key === null ? '' : ` ${i.keyField}=${oneLine(i.key)}`;
  // The origin of the one address the incident is about; several addresses: their number.
  const ip = i.keyField === 'ip' && i.key !== null ? i.key : i.ips.length === 1 ? i.ips[0]! : null;
  const origin = ip === null ? null : originOf?.(ip) ?? null;
  const where = origin !== null ? ` from ${oneLine(origin)}` : i.ips.length > 1 ? ` from ${i.ips.length}${i.truncated ? '+' : ''} addresses` : '';
  return `ALERT ${i.rule} at ${isoUtc(i.first)} (count=${i.count})${key}${where}`;
}
