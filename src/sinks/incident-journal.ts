// The incident journal: every incident the daemon opened (alerted) and closed, one JSON
// line each, appended as the alert fires and fsynced with its batch of lines, before the
// reading position that covers it can be saved. It is the durable
// record of what was alerted: after kill -9 the daemon re-reads the lines after its last
// checkpoint, the same events give the same incident id, and an id found here is not
// alerted again. Later deliveries (mail, webhooks, digest) read from it.
// Bounded: at start a journal over MAX_RECORDS keeps its newest KEEP_RECORDS lines.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DurableAppend } from '../util/durable-append.js';
import { escapeJsonText, safeJson } from '../util/text.js';

export const JOURNAL_NAME = 'incidents.jsonl';
const MAX_RECORDS = 200_000;
const KEEP_RECORDS = 100_000;

export interface JournalRecord {
  type: 'opened' | 'closed';
  /** Wall-clock time the record was written (ISO 8601). */
  at: string;
  id: string;
  [field: string]: unknown;
}

export class IncidentJournal {
  readonly file: string;
  private readonly out: DurableAppend;
  private readonly opened = new Set<string>();
  private readonly closed = new Set<string>();
  /** Lines that were not valid records (a write cut by a crash), skipped at load. */
  readonly damaged: number;

  constructor(dir: string) {
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
    let damaged = end < text.length ? 1 : 0;
    const good: string[] = [];
    for (const line of lines) {
      try {
        const rec = JSON.parse(line) as JournalRecord;
        if (typeof rec.id !== 'string' || (rec.type !== 'opened' && rec.type !== 'closed')) throw new Error('not a record');
        good.push(line);
      } catch {
        damaged++;
      }
    }
    if (good.length > MAX_RECORDS) {
      lines = good.slice(-KEEP_RECORDS);
      writeFileAtomic(this.file, `${lines.join('\n')}\n`, 0o640);
    } else {
      lines = good;
      if (end < text.length || damaged > 0) writeFileAtomic(this.file, lines.length === 0 ? '' : `${lines.join('\n')}\n`, 0o640);
    }
    for (const line of lines) {
      const rec = JSON.parse(line) as JournalRecord;
      (rec.type === 'opened' ? this.opened : this.closed).add(rec.id);
    }
    this.damaged = damaged;
    this.out = new DurableAppend(fs.openSync(this.file, 'a', 0o640));
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

/** Every record of a journal file, oldest first (for the digest); a missing file has none. */
export function readJournal(file: string): JournalRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const rec = JSON.parse(line) as JournalRecord;
      if (typeof rec.id === 'string' && typeof rec.at === 'string') out.push(rec);
    } catch {
      // a line cut by a crash: the journal drops it at the daemon's next start
    }
  }
  return out;
}
