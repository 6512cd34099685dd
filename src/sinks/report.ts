// Writes a scan's (or a flush's) report: report_YYYYMMDD_HHMMSS.json, and with csv
// report_..._alerts.csv and report_..._events.csv. The files of one report appear
// together and atomically, and never replace an existing report (a second run in the
// same second gets the suffix _2).

import { renderHtmlReport } from './html-report.js';
import fs from 'node:fs';
import path from 'node:path';
import type { RuleSpec } from '../core/rules.js';
import { isoUtc } from '../core/time.js';
import type { Incident } from '../core/types.js';
import { publishFilesExclusive, type Content } from '../util/atomic-write.js';
import { toCsv } from './csv.js';
import { safeJson } from '../util/text.js';
import { topN, type ReportCollector } from './collector.js';

export interface ReportMeta {
  version: string;
  command: string;
  generatedMs: number;
  timeZone: string;
  rules: readonly RuleSpec[];
  /** Where an address comes from ("IN/Mumbai (AS55836 Reliance Jio Infocomm Limited)"), when enrichment is on. */
  originOf?: OriginOf;
  /** The notice the enrichment databases' licences require where their data is shown. */
  attribution?: string;
}

export type OriginOf = (ip: string) => string | null;

export type ReportFormat = 'json' | 'csv' | 'html';

export const ALERT_COLUMNS = ['id', 'rule', 'severity', 'time', 'first', 'last', 'count', 'key_field', 'key', 'ips', 'users', 'hosts', 'sample', 'origins'] as const;
export const EVENT_COLUMNS = ['rule', 'file', 'line', 'time', 'ip', 'user', 'host', 'program', 'text'] as const;

/** Known origins of an incident's addresses, as { ip: "US (AS15169 Google LLC)" }. */
export function originsOf(ips: readonly string[], originOf: OriginOf | undefined): Record<string, string> | null {
  if (originOf === undefined) return null;
  const out: Record<string, string> = {};
  for (const ip of ips) {
    const o = originOf(ip);
    if (o !== null) out[ip] = o;
  }
  return out;
}

export function alertJson(i: Incident, originOf?: OriginOf): Record<string, unknown> {
  const origins = originsOf(i.ips, originOf);
  return {
    id: i.id,
    rule: i.rule,
    severity: i.severity,
    time: isoUtc(i.first),
    first: isoUtc(i.first),
    last: isoUtc(i.last),
    fired_at: isoUtc(i.firedAt),
    count: i.count,
    key_field: i.keyField,
    key: i.key,
    ips: i.ips,
    ...(origins === null ? {} : { origins }),
    users: i.users,
    hosts: i.hosts,
    values_truncated: i.truncated,
    window_secs: i.windowMs / 1000,
    threshold: i.threshold,
    samples: i.samples.map((s) => ({ file: s.source, line: s.line, time: isoUtc(s.time), text: s.text })),
  };
}

/**
 * Writes the report JSON piece by piece: the same text as safeJson(buildReportJson(), 2),
 * without holding the whole document (thousands of alerts) as one string.
 */
export function writeReportJson(c: ReportCollector, meta: ReportMeta, write: (piece: string) => void): void {
  const doc = buildReportJson(c, meta, false);
  const keys = Object.keys(doc);
  write('{\n');
  keys.forEach((k, i) => {
    const v = doc[k];
    const sep = i === keys.length - 1 ? '\n' : ',\n';
    if (Array.isArray(v) && (k === 'alerts' || k === 'events')) {
      const list = k === 'alerts' ? c.sortedIncidents().map((i) => alertJson(i, meta.originOf)) : v;
      if (list.length === 0) {
        write(`  ${safeJson(k)}: []${sep}`);
        return;
      }
      write(`  ${safeJson(k)}: [\n`);
      list.forEach((item, j) => write(`    ${indent(safeJson(item, 2), '    ')}${j === list.length - 1 ? '\n' : ',\n'}`));
      write(`  ]${sep}`);
    } else {
      write(`  ${safeJson(k)}: ${indent(safeJson(v, 2), '  ')}${sep}`);
    }
  });
  write('}\n');
}

function indent(json: string, pad: string): string {
  return json.replace(/\n/g, `\n${pad}`);
}

export function buildReportJson(c: ReportCollector, meta: ReportMeta, withAlerts = true): Record<string, unknown> {
  const files = c.sources.map((s) => ({
    file: s.file,
    format: s.stats.format,
    lines: s.stats.lines,
    parsed: s.stats.parsed,
    not_parsed: s.stats.unparsed,
    blank: s.stats.blank,
    cut: s.cut,
    events: s.stats.events,
    first: s.stats.firstTime === null ? null : isoUtc(s.stats.firstTime),
    last: s.stats.lastTime === null ? null : isoUtc(s.stats.lastTime),
  }));
  const firsts = c.sources.map((s) => s.stats.firstTime).filter((t): t is number => t !== null);
  const lasts = c.sources.map((s) => s.stats.lastTime).filter((t): t is number => t !== null);
  const byRule: Record<string, unknown> = {};
  for (const [rule, s] of c.summaries()) {
    byRule[rule] = {
      events: s.events,
      unique_ips: s.ips.size,
      unique_users: s.users.size,
      first: s.first === null ? null : isoUtc(s.first),
      last: s.last === null ? null : isoUtc(s.last),
      top_ips: topN(s.ips, 10).map(([ip, count]) => ({ ip, count })),
      top_users: topN(s.users, 10).map(([user, count]) => ({ user, count })),
    };
  }
  return {
    meta: {
      logward: meta.version,
      command: meta.command,
      generated: isoUtc(meta.generatedMs),
      timezone: meta.timeZone,
      ...(meta.attribution === undefined ? {} : { attribution: meta.attribution }),
      files,
      lines_read: sum(c.sources.map((s) => s.stats.lines)),
      lines_not_parsed: sum(c.sources.map((s) => s.stats.unparsed)),
      lines_cut: sum(c.sources.map((s) => s.cut)),
      time_range: {
        first: firsts.length === 0 ? null : isoUtc(Math.min(...firsts)),
        last: lasts.length === 0 ? null : isoUtc(Math.max(...lasts)),
      },
      rules: meta.rules.map((r) => ({
        name: r.name,
        matchers: r.matchers,
        key: r.key,
        window_secs: r.windowMs / 1000,
        threshold: r.threshold,
        cooldown_secs: r.cooldownMs / 1000,
        severity: r.severity,
      })),
    },
    alerts: withAlerts ? c.sortedIncidents().map((i) => alertJson(i, meta.originOf)) : [],
    events_summary: { total: c.eventsTotal, in_report: c.events.length, by_rule: byRule },
    events: c.events.map(eventJson),
  };
}

function eventJson(e: ReportCollector['events'][number]): Record<string, unknown> {
  return { rule: e.rule, file: e.source, line: e.line, time: isoUtc(e.time), ip: e.ip, user: e.user, host: e.host, program: e.program };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** report_YYYYMMDD_HHMMSS in the host's local time, as the prototype named them. */
export function reportBaseName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `report_${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Writes the report files; returns the base path (without extension) actually used. */
export function writeReport(dir: string, c: ReportCollector, meta: ReportMeta, formats: readonly ReportFormat[]): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  const base = path.join(dir, reportBaseName(meta.generatedMs));
  const files: { name: (suffix: string) => string; data: Content }[] = [];
  if (formats.includes('json')) {
    files.push({ name: (s) => `${base}${s}.json`, data: (write) => writeReportJson(c, meta, write) });
  }
  if (formats.includes('csv')) {
    const alerts = c.sortedIncidents().map((i) => ({
      id: i.id, rule: i.rule, severity: i.severity, time: isoUtc(i.first), first: isoUtc(i.first), last: isoUtc(i.last),
      count: i.count, key_field: i.keyField ?? '', key: i.key ?? '', ips: i.ips.join(' '), users: i.users.join(' '),
      hosts: i.hosts.join(' '), sample: i.samples[0]?.text ?? '',
      origins: Object.entries(originsOf(i.ips, meta.originOf) ?? {}).map(([ip, o]) => `${ip} ${o}`).join('; '),
    }));
    const events = c.events.map((e) => ({
      rule: e.rule, file: e.source, line: e.line, time: isoUtc(e.time), ip: e.ip, user: e.user, host: e.host, program: e.program, text: e.text,
    }));
    files.push({ name: (s) => `${base}${s}_alerts.csv`, data: toCsv(ALERT_COLUMNS, alerts) });
    files.push({ name: (s) => `${base}${s}_events.csv`, data: toCsv(EVENT_COLUMNS, events) });
  }
  if (formats.includes('html')) files.push({ name: (s) => `${base}${s}.html`, data: renderHtmlReport(c, meta) });
  const suffix = publishFilesExclusive(files);
  return `${base}${suffix}`;
}
