// `logward scan [FILE...]`: the prototype's one-shot analysis, on the same detection core
// as the daemon. Reads every input once (oldest first), writes the report files and an
// optional JSON Lines event stream, and prints the alerts.

import os from 'node:os';
import path from 'node:path';
import { loadConfig, rulesOf } from '../config/load.js';
import { MAX_WINDOW_MS } from '../core/window.js';
import { limitHeapGrowth } from '../runtime/heap.js';
import type { CompiledRuleSet } from '../core/rules.js';
import { composeDigest, digestIncident, digestMail, ruleFamilies } from '../digest/digest.js';
import { printable, safeId, safeJson } from '../util/text.js';
import { sendMailNow } from '../delivery/send-now.js';
import type { MailContent } from '../delivery/types.js';
import { checkTimeZone, wallTime } from '../core/time.js';
import type { Incident, TimeContext } from '../core/types.js';
import { resolveInputs, readLines, type BatchInput } from '../sources/file-batch.js';
import { Pipeline } from '../runtime/pipeline.js';
import { ReportCollector } from '../sinks/collector.js';
import { alertJson, writeReport, type OriginOf, type ReportFormat } from '../sinks/report.js';
import { ATTRIBUTION, Enricher, offlineOrigins } from '../enrich/index.js';
import { createLogger } from '../util/logger.js';
import { EventsFile } from '../sinks/events-jsonl.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { version } from '../util/version.js';
import { intOption, looksLikeRuleName, parseArgs, usage, type OptionSpec } from './args.js';

export const SCAN_OPTIONS: readonly OptionSpec[] = [
  { name: 'config', kind: 'string' },
  { name: 'log', kind: 'list' },
  { name: 'out', kind: 'string' },
  { name: 'format', kind: 'multi', accepts: (w) => w === 'json' || w === 'csv' || w === 'html' || w.includes(',') },
  { name: 'rules', kind: 'multi', accepts: looksLikeRuleName },
  { name: 'window', kind: 'string' },
  { name: 'threshold', kind: 'string' },
  { name: 'events', kind: 'string' },
  { name: 'json', kind: 'boolean' },
  { name: 'year', kind: 'string' },
  { name: 'timezone', kind: 'string' },
  { name: 'quiet', kind: 'boolean' },
  { name: 'email', kind: 'boolean' },
  { name: 'state-dir', kind: 'string' },
];

export const SCAN_HELP = `usage: logward scan [options] [FILE...]

Reads log files once and reports the incidents the rules find.
FILE may be a plain or gzip file, a directory (its files), a wildcard pattern, or - for stdin.
Files are read oldest first (by modification time, then rotation number), whatever the order given.

  --log FILE             a file to scan (repeatable; same as a positional FILE)
  --config FILE          configuration (default: $LOGWARD_CONFIG, /etc/logward/logward.yaml,
                         ./config/logward.yaml, the packaged one: see \`logward validate\`)
  --out DIR              report directory (default: reports.dir)
  --format json csv html report formats, any of them (default: reports.formats)
  --rules NAME...        only these rules (default: every enabled rule)
  --window SECS          window of every selected rule, in seconds
  --threshold N          threshold of every selected rule
  --events FILE          write every matched event as JSON Lines to FILE
  --json                 print a machine-readable summary instead of the human one
  --year YYYY            year of syslog stamps that carry none (default: from file mtime)
  --timezone TZ          zone of stamps without offset (default: input.timezone)
  --quiet                print nothing but errors
  --email                mail the summary afterwards (SMTP_* from .env; without SMTP_HOST as an
                         .eml file in mail.outbox_dir), through the outbox of --state-dir
  --state-dir DIR        where the outbox is kept (default: state.dir)
`;

export interface ScanIO {
  stdout: (s: string) => void;
  clock: Clock;
}

export async function scanCommand(argv: readonly string[], io: ScanIO): Promise<number> {
  const { values: v, positionals } = parseArgs(argv, SCAN_OPTIONS, 'scan');
  const selection = {
    rules: v.rules as string[] | undefined,
    windowSecs: intOption(v.window, 'window', 'scan', 1, MAX_WINDOW_MS / 1000, ` seconds (a window is at most ${MAX_WINDOW_MS / 86_400_000} days)`),
    threshold: intOption(v.threshold, 'threshold', 'scan', 1, 1_000_000),
    command: 'scan',
  };
  const config = loadConfig((v.config as string | undefined) ?? null, { selection });
  process.umask(config.umask); // before any report, events or outbox file is created
  limitHeapGrowth(); // a file of millions of lines promotes garbage as the daemon's backlog does
  const ruleset = rulesOf(config);
  const year = intOption(v.year, 'year', 'scan', 1970, 9999) ?? config.input.year;
  const timeZone = (v.timezone as string | undefined) ?? config.input.timeZone;
  try {
    checkTimeZone(timeZone);
  } catch {
    throw usage(`--timezone: unknown time zone "${timeZone}"; use an IANA name such as UTC or Europe/Berlin`, 'scan');
  }
  const formats = ((v.format as string[] | undefined) ?? config.reports.formats) as ReportFormat[];
  const badFormat = formats.find((f) => f !== 'json' && f !== 'csv' && f !== 'html');
  if (badFormat !== undefined) throw usage(`--format: unknown report format "${badFormat}"; use json, csv, html or several`, 'scan');
  const outDir = (v.out as string | undefined) ?? config.reports.dir;

  const args = [...((v.log as string[] | undefined) ?? []), ...positionals];
  if (args.length === 0) args.push(...config.scan.files);
  if (args.length === 0) throw usage('no input: name log files, or set scan.files in the config', 'scan');
  if (args.filter((a) => a === '-').length > 1) throw usage('stdin (-) can be read only once', 'scan');
  const now = io.clock.now();
  const timeOf = (input: BatchInput): TimeContext => ({ timeZone, year, refMs: input.mtimeMs ?? now });
  const skipped = (msg: string): void => void process.stderr.write(`logward: warning: ${msg}\n`);
  const inputs = oldestFirst(resolveInputs(args, skipped));

  const events = v.events === undefined ? null : EventsFile.create(v.events as string);
  const collector = new ReportCollector(config.reports.maxEvents);
  // A scan stops at the first failing sink: its exit code must say the output is incomplete.
  const pipeline = new Pipeline(ruleset, events === null ? [collector] : [collector, events], (_sink, _what, err) => {
    throw err;
  });
  try {
    for (const input of inputs) {
      const src = pipeline.detector.source({ label: input.label, format: config.input.format, time: timeOf(input) });
      const split = await readLines(input, config.input.maxLineBytes, (line) => src.line(line));
      src.end();
      collector.sources.push({ file: input.label, stats: src.stats, cut: split.cut });
    }
    pipeline.detector.flush();
    events?.commit();
  } catch (err) {
    events?.abort();
    throw err;
  }

  // Origins of the alerted addresses: offline, plus the online provider (bounded by its
  // deadline) when one is configured; detection is done before this starts.
  const enricher = config.enrich.enabled ? await Enricher.open(config, { log: createLogger({ level: 'warn', fd: 2 }), clock: io.clock, env: process.env }) : null;
  let originOf: OriginOf | undefined;
  if (enricher !== null) {
    const ips = new Set<string>();
    for (const i of collector.incidents.values()) for (const ip of i.ips) ips.add(ip);
    if (config.enrich.provider !== 'none') await Promise.all([...ips].map((ip) => enricher.lookup(ip)));
    originOf = offlineOrigins(enricher);
    await enricher.close();
  }
  const meta = { version: version(), command: 'scan', generatedMs: now, timeZone, rules: ruleset.rules.map((r) => r.spec), ...(originOf === undefined ? {} : { originOf, attribution: ATTRIBUTION }) };

  let base: string;
  try {
    base = writeReport(outDir, collector, meta, formats);
  } catch (err) {
    throw new AppError('OUTPUT_UNWRITABLE', `cannot write reports to ${outDir} (${describeSystemError(err)}); check that the directory is writable or pass --out`, { cause: err });
  }

  const incidents = collector.sortedIncidents();
  if (v.json === true) {
    io.stdout(`${safeJson(jsonSummary(base, formats, collector, incidents, originOf))}\n`);
  } else if (v.quiet !== true) {
    io.stdout(humanSummary(base, collector, incidents, timeZone, originOf));
  }
  if (v.email === true) {
    // The prototype mailed its summary after every run, even when nothing was found.
    const mail = scanMail(collector, incidents, ruleset, now, timeZone, path.basename(base), originOf);
    // With --out, .eml files go beside the reports unless mail.outbox_dir says otherwise.
    const mailConfig = config.mail.outboxDir === path.join(config.reports.dir, 'outbox') ? { ...config, mail: { ...config.mail, outboxDir: path.join(outDir, 'outbox') } } : config;
    const r = await sendMailNow(mailConfig, (v['state-dir'] as string | undefined) ?? config.state.dir, mail.messageId.split('@')[0]!, mail, io.clock);
    if (v.quiet !== true) (v.json === true ? process.stderr.write.bind(process.stderr) : io.stdout)(`mail: ${r.line}\n`);
  }
  return 0;
}

/**
 * Orders files oldest first: by modification time (a rotated file was last written before
 * the one that replaced it), and at equal times by rotation number, auth.log.2.gz before
 * auth.log.1 before auth.log. stdin and FIFOs have no time and come last, in the order given.
 */
function oldestFirst(inputs: BatchInput[]): BatchInput[] {
  const rank = (i: BatchInput): number => {
    const m = /\.(\d+)(?:\.[a-z0-9]+)?$/.exec(i.label);
    return m === null ? 0 : Number(m[1]);
  };
  return inputs
    .map((input, index) => ({ input, index, time: input.mtimeMs ?? Infinity, rank: rank(input) }))
    .sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : b.rank - a.rank || a.index - b.index))
    .map((k) => k.input);
}

function jsonSummary(base: string, formats: readonly ReportFormat[], c: ReportCollector, incidents: Incident[], originOf: OriginOf | undefined): Record<string, unknown> {
  const files: string[] = [];
  if (formats.includes('json')) files.push(`${base}.json`);
  if (formats.includes('csv')) files.push(`${base}_alerts.csv`, `${base}_events.csv`);
  if (formats.includes('html')) files.push(`${base}.html`);
  return {
    report: base,
    report_files: files,
    files: c.sources.map((s) => ({ file: s.file, format: s.stats.format, lines: s.stats.lines, not_parsed: s.stats.unparsed, cut: s.cut, events: s.stats.events })),
    lines_read: c.sources.reduce((a, s) => a + s.stats.lines, 0),
    lines_not_parsed: c.sources.reduce((a, s) => a + s.stats.unparsed, 0),
    events: c.eventsTotal,
    alerts: incidents.map((i) => alertJson(i, originOf)),
  };
}

/** Addresses listed under an alert on the console; the report lists them all. */
const SHOWN_IPS = 10;

function humanSummary(base: string, c: ReportCollector, incidents: Incident[], tz: string, originOf: OriginOf | undefined): string {
  const lines = c.sources.reduce((a, s) => a + s.stats.lines, 0);
  const unparsed = c.sources.reduce((a, s) => a + s.stats.unparsed, 0);
  const out: string[] = [`[+] Wrote reports to base: ${base}`];
  out.push(`[+] Read ${lines} line${lines === 1 ? '' : 's'} from ${c.sources.length} file${c.sources.length === 1 ? '' : 's'} (${unparsed} not parsed), ${c.eventsTotal} event${c.eventsTotal === 1 ? '' : 's'}`);
  if (incidents.length === 0) {
    out.push('[+] No alerts detected');
  } else {
    out.push('[!] ALERTS:');
    for (const i of incidents) {
      const key = i.key !== null && i.keyField !== 'ip' ? ` ${i.keyField}=${printable(i.key)}` : '';
      out.push(`  - ${i.rule} at ${wallTime(i.first, tz)} (count=${i.count})${key}`);
      for (const ip of i.ips.slice(0, SHOWN_IPS)) {
        const origin = originOf?.(ip) ?? null;
        out.push(`      ${printable(ip)}${origin === null ? '' : `: ${printable(origin)}`}`);
      }
      if (i.ips.length > SHOWN_IPS) out.push(`      ... and ${i.ips.length - SHOWN_IPS} more${i.truncated ? ' (at least)' : ''} (see the report)`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The scan's summary as a mail: the digest's layout over the scanned logs. */
function scanMail(c: ReportCollector, incidents: readonly Incident[], ruleset: CompiledRuleSet, now: number, timeZone: string, reportName: string, originOf: OriginOf | undefined): MailContent {
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (const s of c.sources) {
    if (s.stats.firstTime !== null) firsts.push(s.stats.firstTime);
    if (s.stats.lastTime !== null) lasts.push(s.stats.lastTime);
  }
  const start = firsts.length === 0 ? now : Math.min(...firsts);
  const end = lasts.length === 0 ? now : Math.max(...lasts) + 1;
  const alertedAt = new Date(start).toISOString();
  const d = composeDigest({
    kind: 'scan', host: os.hostname(), start, end, timeZone, incidents: incidents.map((i) => digestIncident(i, alertedAt)), firstSeen: new Map(),
    families: ruleFamilies(ruleset), ...(originOf === undefined ? {} : { origin: originOf }),
    coverage: c.sources.map((s) => ({
      label: s.file, kind: 'file' as const, lines: s.stats.lines, notParsed: s.stats.unparsed, unmatched: Math.max(0, s.stats.parsed - s.stats.matchedLines),
      events: s.stats.events, lastGrowth: now, shapes: {}, otherShapes: 0, stale: false,
    })).sort((a, b) => a.label.localeCompare(b.label)),
  });
  const mail = digestMail(d);
  return { ...mail, messageId: `scan-${reportName}.${safeId(d.host)}@logward`, date: now, attachments: mail.attachments?.map((a) => ({ ...a, filename: `logward-scan-${reportName}.csv` })) };
}
