// The daemon's scheduled outputs: writing the report of what was collected since the last
// flush, and queueing the daily digest built from the incident journal and the coverage
// counters. Each logs what it did and turns its own failure into a log line: a full disk
// or an unreadable journal never stops the daemon. Neither decides when it runs.

import type { Config } from '../config/types.js';
import type { CompiledRuleSet } from '../core/rules.js';
import type { Incident } from '../core/types.js';
import { isoUtc } from '../core/time.js';
import type { Outbox } from '../delivery/outbox.js';
import type { Coverage } from '../digest/coverage.js';
import { buildDigest, digestMail, ruleFamilies } from '../digest/digest.js';
import { ATTRIBUTION } from '../enrich/index.js';
import type { ReportCollector } from '../sinks/collector.js';
import { readJournal, type JournalRecord } from '../sinks/incident-journal.js';
import { writeReport, type OriginOf } from '../sinks/report.js';
import { describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { version } from '../util/version.js';

export interface FlushContext {
  readonly config: Config;
  readonly ruleset: CompiledRuleSet;
  readonly originOf: OriginOf | undefined;
  readonly now: number;
  /** Wall-clock ms of the previous flush, for the log line. */
  readonly since: number;
  readonly why: string;
  readonly log: Logger;
}

/** Writes the collected report; nothing when nothing was collected. */
export function flushReport(c: ReportCollector, ctx: FlushContext): void {
  if (c.eventsTotal === 0 && c.incidents.size === 0) return;
  const { config, log } = ctx;
  try {
    const meta = {
      version: version(), command: 'run', generatedMs: ctx.now, timeZone: config.input.timeZone, rules: ctx.ruleset.rules.map((r) => r.spec),
      ...(ctx.originOf === undefined ? {} : { originOf: ctx.originOf, attribution: ATTRIBUTION }),
    };
    const base = writeReport(config.reports.dir, c, meta, config.reports.formats);
    log.info({ report: base, why: ctx.why, incidents: c.incidents.size, events: c.eventsTotal, since: isoUtc(ctx.since) }, 'Report written.');
  } catch (err) {
    log.error({ dir: config.reports.dir, err: describeSystemError(err) }, 'Writing a report failed.');
  }
}

export interface DigestContext {
  readonly host: string;
  readonly start: number;
  readonly end: number;
  readonly timeZone: string;
  readonly journalFile: string;
  readonly coverage: Coverage;
  readonly ruleset: CompiledRuleSet;
  readonly originOf: OriginOf | undefined;
  readonly outbox: Outbox;
  readonly log: Logger;
  /** The incidents open now: the journal holds only the count they opened with. */
  readonly open: readonly Incident[];
}

/** Builds the digest of [start, end) and queues it in the outbox; resets the coverage counters. */
export function queueDigest(ctx: DigestContext): void {
  let records: JournalRecord[];
  try {
    records = readJournal(ctx.journalFile);
  } catch (err) {
    ctx.log.error({ file: ctx.journalFile, err: describeSystemError(err) }, 'The incident journal cannot be read; the digest lists no incidents.');
    records = [];
  }
  const digest = buildDigest({
    host: ctx.host, start: ctx.start, end: ctx.end, timeZone: ctx.timeZone, records,
    coverage: ctx.coverage.snapshot(), families: ruleFamilies(ctx.ruleset), open: ctx.open, ...(ctx.originOf === undefined ? {} : { origin: ctx.originOf }),
  });
  const mail = digestMail(digest);
  const r = ctx.outbox.enqueue({ kind: 'mail', id: mail.messageId.split('@')[0]!, created: ctx.end, mail });
  ctx.log.info({ id: mail.messageId, incidents: digest.incidents.length, queued: r, since: isoUtc(ctx.start) }, 'Daily digest queued.');
  ctx.coverage.reset(ctx.end);
}
