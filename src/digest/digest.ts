// The daily digest: sent every day, even when nothing happened, so operators know logward
// is alive and what it read. Like Logwatch it states the exact period and summarises per
// rule family; unlike Logwatch it knows the alert history, so it tells new offenders from
// repeat ones. Built from the incident journal and the coverage counters; pure (no IO).

import type { CompiledRuleSet } from '../core/rules.js';
import { SEVERITIES, type Incident, type Severity } from '../core/types.js';
import { isoUtc } from '../core/time.js';
import { toCsv } from '../sinks/csv.js';
import type { JournalRecord } from '../sinks/incident-journal.js';
import type { MailContent } from '../delivery/types.js';
import type { CoverageSnapshot, SourceCoverage } from './coverage.js';
import { escapeHtml, keyText, oneLine, safeId, zonedStamp } from '../util/text.js';

export interface DigestInput {
  host: string;
  /** Wall-clock ms, [start, end). */
  start: number;
  end: number;
  timeZone: string;
  /** The incident journal, oldest first (history before `start` tells repeat offenders). */
  records: readonly JournalRecord[];
  coverage: CoverageSnapshot | null;
  /** Rule name -> family (the rule file's name: ssh, web, sudo ...). */
  families: ReadonlyMap<string, string>;
  /**
   * The incidents open at digest time (the daemon's detector, or its last checkpoint): an
   * incident journaled only as opened is shown as it stands now, not with its opening count.
   */
  open?: readonly Incident[];
  /** Origin of an address ("US (AS15169 Google LLC)"), when enrichment knows it. */
  origin?: (ip: string) => string | null;
  /** A source that brought no line for this long is flagged as stopped growing. */
  staleMs?: number;
  /** 'scan': the summary `logward scan --email` sends (the period is the logs' time range). */
  kind?: 'daily' | 'scan';
}

/** One incident as the digest shows it: its last journal record (closed, else opened). */
export interface DigestIncident {
  id: string;
  rule: string;
  severity: Severity;
  keyField: string | null;
  key: string | null;
  count: number;
  first: string;
  last: string;
  ips: string[];
  users: string[];
  hosts: string[];
  alertedAt: string;
}

export interface Offender {
  ip: string;
  incidents: number;
  events: number;
  users: string[];
  rules: string[];
  /** First alert for this address before the period, or null: new. */
  seenBefore: string | null;
  origin: string | null;
}

export interface DigestModel {
  kind: 'daily' | 'scan';
  host: string;
  start: number;
  end: number;
  timeZone: string;
  incidents: DigestIncident[];
  families: { family: string; perRule: [string, number][]; offenders: Offender[] }[];
  offenders: Offender[];
  coverage: (SourceCoverage & { label: string; stale: boolean })[];
}

const TOP_OFFENDERS = 10;
const TOP_SHAPES = 5;
const DAY_MS = 86_400_000;

export function buildDigest(input: DigestInput): DigestModel {
  const { start, end } = input;
  const latest = new Map<string, JournalRecord>();
  const firstSeen = new Map<string, string>();
  for (const r of input.records) {
    const at = Date.parse(r.at);
    if (r.type === 'opened' && at < start) {
      for (const ip of strings(r.ips)) if (!firstSeen.has(ip)) firstSeen.set(ip, r.at);
    }
    if (at >= end) continue;
    if (r.type === 'opened' && at >= start) latest.set(r.id, r);
    else if (r.type === 'closed' && latest.has(r.id)) latest.set(r.id, { ...r, at: latest.get(r.id)!.at });
  }
  const open = new Map((input.open ?? []).map((i) => [i.id, i]));
  const current = (r: JournalRecord): DigestIncident => {
    const now = r.type === 'opened' ? open.get(r.id) : undefined;
    return now === undefined ? toIncident(r) : digestIncident(now, r.at);
  };
  const staleMs = input.staleMs ?? DAY_MS;
  const coverage = Object.entries(input.coverage?.sources ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([label, s]) => ({
    ...s, label, stale: s.lastGrowth === null || end - s.lastGrowth > staleMs,
  }));
  return composeDigest({
    kind: input.kind ?? 'daily', host: input.host, start, end, timeZone: input.timeZone, incidents: [...latest.values()].map(current),
    firstSeen, families: input.families, coverage, ...(input.origin === undefined ? {} : { origin: input.origin }),
  });
}

/** What a digest is made of, however it was gathered (the journal, or a scan's own incidents). */
export interface DigestParts {
  kind: 'daily' | 'scan';
  host: string;
  start: number;
  end: number;
  timeZone: string;
  incidents: readonly DigestIncident[];
  /** Address -> its first alert before the period (a repeat offender). */
  firstSeen: ReadonlyMap<string, string>;
  families: ReadonlyMap<string, string>;
  origin?: (ip: string) => string | null;
  coverage: DigestModel['coverage'];
}

export function composeDigest(p: DigestParts): DigestModel {
  const incidents = [...p.incidents].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.rule.localeCompare(b.rule)));
  const offenders = offendersOf(incidents, p.firstSeen, p.origin);
  const byFamily = new Map<string, DigestIncident[]>();
  for (const i of incidents) {
    const f = p.families.get(i.rule) ?? 'other';
    let list = byFamily.get(f);
    if (list === undefined) byFamily.set(f, (list = []));
    list.push(i);
  }
  const families = [...byFamily.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([family, list]) => {
    const perRule = new Map<string, number>();
    for (const i of list) perRule.set(i.rule, (perRule.get(i.rule) ?? 0) + 1);
    return { family, perRule: [...perRule.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])), offenders: offendersOf(list, p.firstSeen, p.origin) };
  });
  return { kind: p.kind, host: p.host, start: p.start, end: p.end, timeZone: p.timeZone, incidents, families, offenders, coverage: p.coverage };
}

/** An incident the detector made, as the digest lists it. */
export function digestIncident(i: Incident, alertedAt: string): DigestIncident {
  return {
    id: i.id, rule: i.rule, severity: i.severity, keyField: i.keyField, key: i.key, count: i.count, first: isoUtc(i.first), last: isoUtc(i.last),
    ips: [...i.ips], users: [...i.users], hosts: [...i.hosts], alertedAt,
  };
}

function toIncident(r: JournalRecord): DigestIncident {
  const sev = SEVERITIES.includes(r.severity as Severity) ? (r.severity as Severity) : 'medium';
  return {
    id: r.id, rule: String(r.rule), severity: sev, keyField: typeof r.key_field === 'string' ? r.key_field : null,
    key: typeof r.key === 'string' ? r.key : null, count: Number(r.count) || 0, first: String(r.first), last: String(r.last),
    ips: strings(r.ips), users: strings(r.users), hosts: strings(r.hosts), alertedAt: r.at,
  };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function offendersOf(incidents: readonly DigestIncident[], firstSeen: ReadonlyMap<string, string>, origin: DigestInput['origin']): Offender[] {
  const m = new Map<string, Offender>();
  for (const i of incidents) {
    for (const ip of i.ips) {
      let o = m.get(ip);
      if (o === undefined) {
        o = { ip, incidents: 0, events: 0, users: [], rules: [], seenBefore: firstSeen.get(ip) ?? null, origin: origin?.(ip) ?? null };
        m.set(ip, o);
      }
      o.incidents++;
      // An incident's count covers all its addresses; per address it is an upper bound.
      o.events += i.ips.length === 1 ? i.count : 0;
      // Users too: a host-wide incident's users cannot be told apart by address.
      if (i.ips.length === 1) for (const u of i.users) if (!o.users.includes(u) && o.users.length < 10) o.users.push(u);
      if (!o.rules.includes(i.rule)) o.rules.push(i.rule);
    }
  }
  return [...m.values()].sort((a, b) => b.incidents - a.incidents || b.events - a.events || a.ip.localeCompare(b.ip)).slice(0, TOP_OFFENDERS);
}

const SEV_ORDER = [...SEVERITIES].reverse();

export function digestSubject(d: DigestModel): string {
  const n = d.incidents.length;
  if (d.kind === 'scan') {
    const files = d.coverage.length;
    return oneLine(`[logward] ${d.host}: scan of ${files} file${files === 1 ? '' : 's'} found ${n === 0 ? 'no alerts' : `${n} alert${n === 1 ? '' : 's'}`}`);
  }
  const hours = Math.round((d.end - d.start) / 3_600_000);
  if (n === 0) return oneLine(`[logward] ${d.host}: no alerts in the last ${hours} h`);
  const worst = SEV_ORDER.find((s) => d.incidents.some((i) => i.severity === s))!;
  return oneLine(`[logward] ${d.host}: ${n} alert${n === 1 ? '' : 's'} in the last ${hours} h (worst: ${worst})`);
}

export function digestText(d: DigestModel): string {
  const out: string[] = [];
  const z = d.timeZone;
  const hours = Math.round((d.end - d.start) / 3_600_000);
  if (d.kind === 'scan') {
    out.push(`logward scan report for ${oneLine(d.host)}`);
    out.push(`Log time range: ${zonedStamp(d.start, z)} to ${zonedStamp(d.end, z)} (${z})`);
  } else {
    out.push(`logward daily digest for ${oneLine(d.host)}`);
    out.push(`Period: ${zonedStamp(d.start, z)} to ${zonedStamp(d.end, z)} (${z}), ${hours} h`);
  }
  out.push('');
  if (d.incidents.length === 0) {
    out.push(d.kind === 'scan' ? 'No alerts in the scanned logs.' : `No alerts in the last ${hours} h.`);
  } else {
    const bySev = SEV_ORDER.map((s) => [s, d.incidents.filter((i) => i.severity === s).length] as const).filter(([, c]) => c > 0);
    const fresh = d.offenders.filter((o) => o.seenBefore === null).length;
    out.push(`${d.incidents.length} alerts (${bySev.map(([s, c]) => `${c} ${s}`).join(', ')}); ${d.offenders.length} offending address${d.offenders.length === 1 ? '' : 'es'} listed, ${fresh} new since before this period.`);
    for (const f of d.families) {
      out.push('', `== ${f.family} ==`, 'Incidents per rule:');
      for (const [rule, c] of f.perRule) out.push(`  ${pad(rule, 24)} ${c}`);
      if (f.offenders.length > 0) {
        out.push('Top offending addresses:');
        for (const o of f.offenders) out.push(`  ${offenderLine(o)}`);
      }
    }
    out.push('', '== Incidents ==');
    out.push(`  ${pad('first', 20)} ${pad('severity', 8)} ${pad('rule', 20)} ${pad('key', 30)} count`);
    for (const i of d.incidents) {
      out.push(`  ${pad(i.first, 20)} ${pad(i.severity, 8)} ${pad(i.rule, 20)} ${pad(oneLine(keyText(i, '(host-wide)')), 30)} ${i.count}`);
    }
  }
  out.push('', '== What was read ==');
  if (d.coverage.length === 0) out.push('  No source was read in this period: check that logward run is running and its sources exist.');
  for (const c of d.coverage) {
    out.push(`  ${oneLine(c.label)} (${c.kind}): ${c.lines} lines, ${c.notParsed} not parsed, ${c.unmatched} matched no rule, ${c.events} events${c.stale ? `; STOPPED GROWING (last line ${c.lastGrowth === null ? 'never' : zonedStamp(c.lastGrowth, z)})` : ''}`);
    for (const [shape, n] of topShapes(c)) out.push(`      ~${n}  ${oneLine(shape)}`);
  }
  out.push('', `The ${d.kind === 'scan' ? "scan's" : "day's"} incidents are attached as CSV. logward ${d.incidents.length === 0 ? 'is running and found nothing to report' : 'keeps every alert in its incident journal'}.`);
  return `${out.join('\n')}\n`;
}

export function digestHtml(d: DigestModel): string {
  const z = d.timeZone;
  const e = escapeHtml;
  const hours = Math.round((d.end - d.start) / 3_600_000);
  const h: string[] = [];
  h.push('<!doctype html><html><head><meta charset="utf-8"><title>', e(digestSubject(d)), '</title></head>');
  h.push('<body style="font-family:system-ui,sans-serif;font-size:14px;color:#222">');
  h.push(`<h2>logward ${d.kind === 'scan' ? 'scan report' : 'daily digest'} for ${e(d.host)}</h2>`);
  h.push(`<p>${d.kind === 'scan' ? 'Log time range' : 'Period'}: <b>${e(zonedStamp(d.start, z))}</b> to <b>${e(zonedStamp(d.end, z))}</b> (${e(z)})${d.kind === 'scan' ? '' : `, ${hours} h`}</p>`);
  if (d.incidents.length === 0) {
    h.push(`<p><b>${d.kind === 'scan' ? 'No alerts in the scanned logs.' : `No alerts in the last ${hours} h.`}</b></p>`);
  } else {
    for (const f of d.families) {
      h.push(`<h3>${e(f.family)}</h3><table border="1" cellpadding="4" cellspacing="0"><tr><th>rule</th><th>incidents</th></tr>`);
      for (const [rule, c] of f.perRule) h.push(`<tr><td>${e(rule)}</td><td>${c}</td></tr>`);
      h.push('</table>');
      if (f.offenders.length > 0) {
        h.push('<p>Top offending addresses:</p><table border="1" cellpadding="4" cellspacing="0"><tr><th>address</th><th>origin</th><th>incidents</th><th>users tried</th><th>history</th></tr>');
        for (const o of f.offenders) {
          h.push(`<tr><td>${e(o.ip)}</td><td>${e(o.origin ?? '')}</td><td>${o.incidents}</td><td>${e(o.users.join(', '))}</td><td>${o.seenBefore === null ? 'new' : `repeat (first ${e(o.seenBefore.slice(0, 10))})`}</td></tr>`);
        }
        h.push('</table>');
      }
    }
    h.push('<h3>Incidents</h3><table border="1" cellpadding="4" cellspacing="0"><tr><th>first</th><th>severity</th><th>rule</th><th>key</th><th>count</th><th>users</th></tr>');
    for (const i of d.incidents) {
      h.push(`<tr><td>${e(i.first)}</td><td>${e(i.severity)}</td><td>${e(i.rule)}</td><td>${e(oneLine(keyText(i, '(host-wide)')))}</td><td>${i.count}</td><td>${e(i.users.join(', '))}</td></tr>`);
    }
    h.push('</table>');
  }
  h.push('<h3>What was read</h3>');
  if (d.coverage.length === 0) h.push('<p>No source was read in this period.</p>');
  else {
    h.push('<table border="1" cellpadding="4" cellspacing="0"><tr><th>source</th><th>lines</th><th>not parsed</th><th>matched no rule</th><th>events</th><th>status</th></tr>');
    for (const c of d.coverage) {
      h.push(`<tr><td>${e(c.label)}</td><td>${c.lines}</td><td>${c.notParsed}</td><td>${c.unmatched}</td><td>${c.events}</td><td>${c.stale ? '<b style="color:#b00">stopped growing</b>' : 'growing'}</td></tr>`);
    }
    h.push('</table>');
    for (const c of d.coverage) {
      const shapes = topShapes(c);
      if (shapes.length === 0) continue;
      h.push(`<p>Most frequent unrecognised messages in ${e(c.label)}:</p><ul>`);
      for (const [shape, n] of shapes) h.push(`<li>~${n} &times; <code>${e(shape)}</code></li>`);
      h.push('</ul>');
    }
  }
  h.push('</body></html>');
  return h.join('');
}

export const DIGEST_CSV_COLUMNS = ['id', 'rule', 'severity', 'first', 'last', 'count', 'key_field', 'key', 'ips', 'users', 'hosts', 'alerted_at'] as const;

export function digestCsv(d: DigestModel): string {
  return toCsv(DIGEST_CSV_COLUMNS, d.incidents.map((i) => ({
    id: i.id, rule: i.rule, severity: i.severity, first: i.first, last: i.last, count: i.count, key_field: i.keyField ?? '',
    key: i.key ?? '', ips: i.ips.join(' '), users: i.users.join(' '), hosts: i.hosts.join(' '), alerted_at: i.alertedAt,
  })));
}

/** The digest as a message; its id is per host and digest day, so a resend is recognisable. */
export function digestMail(d: DigestModel): MailContent {
  const day = zonedStamp(d.end, d.timeZone).slice(0, 10);
  return {
    messageId: `digest-${day}.${safeId(d.host)}@logward`,
    subject: digestSubject(d),
    text: digestText(d),
    html: digestHtml(d),
    attachments: [{ filename: `logward-incidents-${day}.csv`, content: digestCsv(d), contentType: 'text/csv' }],
    date: d.end,
  };
}

function offenderLine(o: Offender): string {
  const hist = o.seenBefore === null ? 'new' : `repeat, first alerted ${o.seenBefore.slice(0, 10)}`;
  const origin = o.origin === null ? '' : ` ${oneLine(o.origin)}`;
  const users = o.users.length === 0 ? '' : ` users: ${o.users.map((u) => oneLine(u)).join(', ')}`;
  return `${pad(oneLine(o.ip), 39)}${origin} ${o.incidents} incident${o.incidents === 1 ? '' : 's'} (${hist})${users}`;
}

function topShapes(c: SourceCoverage): [string, number][] {
  return Object.entries(c.shapes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_SHAPES);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Rule name -> its family, the rule file's name (ssh, web, sudo ...), for the digest's sections. */
export function ruleFamilies(ruleset: CompiledRuleSet): Map<string, string> {
  return new Map(ruleset.rules.map((r) => [r.spec.name, r.spec.origin.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, '')]));
}
