// The incident journal: every incident the daemon opened (alerted) and closed, one JSON
// line each, appended as the alert fires and fsynced with its batch of lines, before the
// reading position that covers it can be saved. It is the durable
// record of what was alerted: after kill -9 the daemon re-reads the lines after its last
// checkpoint, the same events give the same incident id, and an id found here is not
// alerted again. Later deliveries (mail, webhooks, digest) read from it.
// Read back, each record is checked field by field (journal-record.ts): a damaged one is
// dropped and named, and the journal as read is kept as `.damaged-<time>` before it is
// rewritten without it. A last line cut by a crash is dropped without a copy.
// Bounded: at start a journal over MAX_RECORDS keeps its newest KEEP_RECORDS lines.
// At start it can also hand back its newest incidents (for the dashboard after a restart),
// each as the opened record updated by its closed one.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { Problems } from '../util/check.js';
import { systemClock, type Clock } from '../util/clock.js';
import { DurableAppend } from '../util/durable-append.js';
import { SEVERITIES, type Incident, type Severity } from '../core/types.js';
import { keepAside } from '../util/keep-aside.js';
import { escapeJsonText, safeJson } from '../util/text.js';
import { checkRecord, type JournalRecord } from './journal-record.js';

export type { JournalRecord } from './journal-record.js';

export const JOURNAL_NAME = 'incidents.jsonl';
const MAX_RECORDS = 200_000;
const KEEP_RECORDS = 100_000;

/** One incident as the journal holds it: its opened record and, once it closed, its closed one. */
export interface JournaledIncident {
  opened: JournalRecord;
  closed: JournalRecord | null;
}

export class IncidentJournal {
  readonly file: string;
  private readonly out: DurableAppend;
  private readonly opened = new Set<string>();
  private readonly closed = new Set<string>();
  /** Lines dropped at load: records that failed their check, and a last line cut by a crash. */
  readonly damaged: number;
  /** What was wrong with them, as `line N.field: why`. */
  readonly problems: Problems;
  /** Where the journal as read was kept when a complete record was dropped, or why it could not be. */
  readonly keptAt: string | null = null;
  readonly keepError: string | null = null;
  /** The `recent` newest incidents found at load, oldest first. */
  readonly recent: readonly JournaledIncident[];

  /**
   * `recent`: how many of the newest incidents (by their opening) to keep from the load;
   * `clock`: the wall clock that names a damaged journal's copy.
   */
  constructor(dir: string, { recent = 0, clock = systemClock }: { recent?: number; clock?: Clock } = {}) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    this.file = path.join(dir, JOURNAL_NAME);
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A line without its newline was cut by a crash: it is dropped (its incident is
    // alerted again, which is the safe side) and the file continues from a line start.
    const end = text.lastIndexOf('\n') + 1;
    let lines = text.slice(0, end).split('\n');
    lines.pop();
    const problems = new Problems();
    const good: string[] = [];
    const records: JournalRecord[] = [];
    lines.forEach((line, i) => {
      const doc = parse(line);
      if (doc === NOT_JSON) problems.add(`line ${i + 1}`, 'not JSON');
      const rec = doc === NOT_JSON ? null : checkRecord(doc, `line ${i + 1}`, problems);
      if (rec === null) return;
      good.push(line);
      records.push(rec);
    });
    const bad = problems.count;
    if (end < text.length) problems.add(`line ${lines.length + 1}`, 'cut short (no newline: a write cut by a crash)');
    if (bad > 0) {
      // Records that were complete and still failed: the file as read is evidence.
      const kept = keepAside(this.file, text, clock.now());
      this.keptAt = kept.kept;
      this.keepError = kept.error;
    }
    let from = 0;
    if (good.length > MAX_RECORDS) {
      from = good.length - KEEP_RECORDS;
      writeFileAtomic(this.file, `${good.slice(from).join('\n')}\n`, 0o640);
    } else if (problems.count > 0) {
      writeFileAtomic(this.file, good.length === 0 ? '' : `${good.join('\n')}\n`, 0o640);
    }
    // The newest incidents in a ring, in opening order, found by id for their closed record.
    const ring: JournaledIncident[] = [];
    const byId = new Map<string, JournaledIncident>();
    let next = 0;
    for (let i = from; i < records.length; i++) {
      const rec = records[i]!;
      (rec.type === 'opened' ? this.opened : this.closed).add(rec.id);
      if (recent <= 0) continue;
      const known = byId.get(rec.id);
      if (known !== undefined) {
        if (rec.type === 'opened') known.opened = rec;
        else known.closed = rec;
      } else if (rec.type === 'opened') {
        const inc = { opened: rec, closed: null };
        if (ring.length === recent) byId.delete(ring[next]!.opened.id);
        ring[next] = inc;
        byId.set(rec.id, inc);
        next = (next + 1) % recent;
      }
    }
    this.recent = ring.length < recent ? ring : [...ring.slice(next), ...ring.slice(0, next)];
    this.damaged = problems.count;
    this.problems = problems;
    this.out = new DurableAppend(fs.openSync(this.file, 'a', 0o640));
  }

  /** The one warning about lines dropped at load, or null. */
  damageReport(): { fields: Record<string, unknown>; message: string } | null {
    if (this.damaged === 0) return null;
    const kept = this.keptAt !== null ? `; the journal as read was kept as ${this.keptAt}` : this.keepError !== null ? `; the journal as read could not be kept aside (${this.keepError})` : '';
    return {
      fields: { file: this.file, lines: this.damaged, problems: this.problems.first, keptAt: this.keptAt },
      message: `The incident journal had damaged lines (${this.problems.summary()}); they were dropped${kept}.`,
    };
  }

  /** Whether an incident with this id was already alerted (by this or an earlier run). */
  hasOpened(id: string): boolean {
    return this.opened.has(id);
  }

  hasClosed(id: string): boolean {
    return this.closed.has(id);
  }

  /** Appends one record; sync() makes it durable (once per batch of lines, not per record). */
  append(rec: JournalRecord): void {
    this.write(`${safeJson(rec)}\n`, rec.type, rec.id);
  }

  private write(line: string, type: JournalRecord['type'], id: string): void {
    this.out.write(line);
    const set = type === 'opened' ? this.opened : this.closed;
    set.add(id);
    // Bounded for a daemon that runs for years: the oldest ids go first (a Set keeps
    // insertion order); an incident that old is never re-read after a crash.
    if (set.size > MAX_RECORDS) for (const id of set) { set.delete(id); if (set.size <= KEEP_RECORDS) break; }
  }

  /**
   * append() for an alert already serialized (`{"id":...}`): the record is that object
   * with type and at first, without serializing it again.
   */
  appendJson(type: JournalRecord['type'], id: string, at: string, alertBody: string): void {
    this.write(escapeJsonText(`{"type":"${type}","at":"${at}",${alertBody.slice(1)}\n`), type, id);
  }

  /** Makes every appended record durable: called before the reading position advances. */
  sync(): void {
    this.out.sync();
  }

  close(): void {
    this.out.close();
  }
}

/** Every record of a journal file that passes its check, oldest first (for the digest); a missing file has none. */
export function readJournal(file: string): JournalRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: JournalRecord[] = [];
  // A damaged record (or a line cut by a crash) is left out; the daemon drops it at its next start.
  const ignored = new Problems(0);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const doc = parse(line);
    const rec = doc === NOT_JSON ? null : checkRecord(doc, '', ignored);
    if (rec !== null) out.push(rec);
  }
  return out;
}

/**
 * A journaled incident as the detector made it: the opened record (with its samples) and
 * the closed one's final counts. Fields a damaged or older record lacks are left empty.
 */
export function journaledIncident({ opened, closed }: JournaledIncident): Incident {
  const r = closed === null ? opened : { ...opened, ...closed };
  const time = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : NaN);
  const first = time(r.first);
  const last = time(r.last);
  const samples = Array.isArray(opened.samples) ? (opened.samples as Record<string, unknown>[]) : [];
  return {
    id: r.id, rule: String(r.rule), severity: SEVERITIES.includes(r.severity as Severity) ? (r.severity as Severity) : 'medium',
    key: typeof r.key === 'string' ? r.key : null, keyField: typeof r.key_field === 'string' ? r.key_field : null,
    first, last: Number.isNaN(last) ? first : last, firedAt: Number.isNaN(time(r.fired_at)) ? first : time(r.fired_at),
    count: Number(r.count) || 0, ips: strings(r.ips), users: strings(r.users), hosts: strings(r.hosts), truncated: r.values_truncated === true,
    samples: samples.map((x) => ({ source: String(x.file), line: Number(x.line) || 0, time: time(x.time), text: String(x.text) })),
    windowMs: (Number(r.window_secs) || 0) * 1000, threshold: Number(r.threshold) || 0,
  };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const NOT_JSON = Symbol('not JSON');

function parse(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return NOT_JSON;
  }
}
