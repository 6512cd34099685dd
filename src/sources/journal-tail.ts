// The systemd journal as a source. On current Debian and Ubuntu sshd logs only to the
// journal unless rsyslog is installed, so this is where most attacks are written.
// It runs `journalctl -o json` (the journal's own reader: no native binding, works on
// any systemd version logward meets) and turns each entry into an RFC 5424 line, so the
// same detection core reads it and the entry's priority reaches the rules.
// Position: the journal cursor of the last entry handed on, persisted like a file offset;
// a restart resumes with --after-cursor, so no entry is read twice or skipped. Which
// entries are read (units OR identifiers) is journal-match.ts. A journalctl that cannot
// be run or fails is one event and one retry, later each time up to RETRY_MAX_MS.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { JournalFilter } from '../config/types.js';
import { UNIT_FIELDS, journalMatches, journalSourceArgs } from './journal-match.js';

export type { JournalFilter };

export interface JournalBatch {
  lines: string[];
  /** Cursor of the last entry in `lines`: where reading resumes. */
  cursor: string;
  /** Entries that were not valid JSON or had no usable time (counted, skipped). */
  malformed: number;
}

export type JournalEvent =
  | { kind: 'started'; args: readonly string[]; from: 'cursor' | 'beginning' | 'end' }
  | { kind: 'exited'; code: number | null; stderr: string; retryMs: number }
  | { kind: 'failed'; message: string; retryMs: number }
  /** Every unit of the source is a pattern (ssh*) that no unit in the journal matches yet. */
  | { kind: 'no-unit'; patterns: readonly string[]; retryMs: number };

export interface JournalTailOptions {
  /** Saved cursor, or null for a journal seen the first time. */
  cursor: string | null;
  startAt: 'end' | 'beginning';
  /** Keep following (the daemon) or stop at the journal's current end (--once). */
  follow: boolean;
  maxLineBytes: number;
  onBatch(batch: JournalBatch): void;
  onEvent(event: JournalEvent): void;
}

/** Fields asked of journalctl: fewer fields, less JSON to parse. Cursor and time always come. */
const FIELDS = 'MESSAGE,_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,PRIORITY,SYSLOG_FACILITY';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** A journalctl that wrote more than this without a newline is broken: its line is dropped. */
const MAX_PENDING = 1 << 20;

export class JournalTail {
  private child: ChildProcess | null = null;
  private cursor: string | null;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private done: Promise<void> = Promise.resolve();
  /** Entries read, and entries skipped as malformed, since start. */
  entries = 0;
  malformed = 0;

  constructor(
    readonly filter: JournalFilter,
    private readonly opts: JournalTailOptions,
  ) {
    this.cursor = opts.cursor;
  }

  /** Where reading resumes (null: nothing read yet and the journal was empty). */
  position(): string | null {
    return this.cursor;
  }

  start(): void {
    if (this.stopped) return;
    let matches: string[] | null;
    try {
      matches = journalMatches(this.filter, () => this.unitsInJournal());
    } catch (err) {
      this.retry(`cannot run ${this.filter.journalctl}: ${(err as Error).message}`);
      return;
    }
    if (matches === null) {
      this.opts.onEvent({ kind: 'no-unit', patterns: this.filter.units, retryMs: this.opts.follow ? this.retryMs : 0 });
      if (this.opts.follow) this.schedule();
      return;
    }
    // Matches after "--": a term is never taken for an option.
    const terms = matches.length === 0 ? [] : ['--', ...matches];
    let from: 'cursor' | 'beginning' | 'end' = this.cursor !== null ? 'cursor' : this.opts.startAt;
    if (from === 'end') {
      // Pin "the end" to a cursor now, so entries written before the first one read are
      // not lost when logward stops before anything new arrives.
      this.cursor = this.lastCursor(terms);
      from = this.cursor === null ? 'beginning' : 'cursor';
    }
    const args = [...journalSourceArgs(this.filter), '-o', 'json', `--output-fields=${FIELDS}`, '--no-pager', '--quiet'];
    if (this.cursor !== null) args.push(`--after-cursor=${this.cursor}`);
    if (this.opts.follow) args.push('--follow');
    args.push(...terms);
    this.opts.onEvent({ kind: 'started', args, from });
    let child: ChildProcess;
    try {
      child = spawn(this.filter.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.retry(`cannot start ${this.filter.journalctl}: ${(err as Error).message}`);
      return;
    }
    this.child = child;
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = pending + decoder.write(chunk);
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        pending = text.length > MAX_PENDING ? '' : text;
        return;
      }
      pending = text.slice(last + 1);
      this.take(text.slice(0, last));
      this.retryMs = RETRY_MIN_MS;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    this.done = new Promise((resolve) => {
      // A journalctl that cannot be run emits 'error' and then, or not, 'close': the first
      // of the two ends this run, with one event and one retry (two would start two
      // chains of retries, doubling at every failure).
      let ended = false;
      const end = (report: () => void): void => {
        if (ended) return;
        ended = true;
        if (this.child === child) this.child = null;
        report();
        resolve();
      };
      child.on('error', (err) => end(() => this.retry(`cannot run ${this.filter.journalctl}: ${err.message}`)));
      child.on('close', (code) => end(() => {
        if (this.stopped || (!this.opts.follow && code === 0)) return;
        this.opts.onEvent({ kind: 'exited', code, stderr: stderr.trim(), retryMs: this.opts.follow ? this.retryMs : 0 });
        if (this.opts.follow) this.schedule();
      }));
    });
  }

  /** Resolves when journalctl has exited (at the journal's end without follow). */
  finished(): Promise<void> {
    return this.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.child?.kill('SIGTERM');
    await this.done;
  }

  private take(block: string): void {
    const lines: string[] = [];
    let cursor: string | null = null;
    let bad = 0;
    let start = 0;
    while (start < block.length) {
      let nl = block.indexOf('\n', start);
      if (nl === -1) nl = block.length;
      const json = block.slice(start, nl);
      start = nl + 1;
      if (json.length === 0) continue;
      const entry = toLine(json, this.opts.maxLineBytes);
      if (entry === null) {
        bad++;
        continue;
      }
      cursor = entry.cursor;
      if (entry.line !== null) lines.push(entry.line);
      else bad++;
    }
    this.entries += lines.length;
    this.malformed += bad;
    if (cursor === null) return;
    this.cursor = cursor;
    this.opts.onBatch({ lines, cursor, malformed: bad });
  }

  /** The unit names the journal holds (for unit patterns); throws when journalctl cannot be run. */
  private unitsInJournal(): string[] {
    const names = new Set<string>();
    for (const field of UNIT_FIELDS) {
      const r = spawnSync(this.filter.journalctl, [...journalSourceArgs(this.filter), '--no-pager', '--quiet', '-F', field], { encoding: 'utf8', timeout: 30_000 });
      if (r.error !== undefined) throw r.error;
      if (r.status === 0) for (const name of r.stdout.split('\n')) if (name !== '') names.add(name);
    }
    return [...names];
  }

  private lastCursor(terms: readonly string[]): string | null {
    const r = spawnSync(this.filter.journalctl, [...journalSourceArgs(this.filter), '-o', 'json', '--output-fields=MESSAGE', '--no-pager', '--quiet', '-n', '1', ...terms], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0 || typeof r.stdout !== 'string') return null;
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      const doc = JSON.parse(line) as Record<string, unknown>;
      return typeof doc.__CURSOR === 'string' ? doc.__CURSOR : null;
    } catch {
      return null;
    }
  }

  private retry(message: string): void {
    if (this.stopped) return;
    this.opts.onEvent({ kind: 'failed', message, retryMs: this.opts.follow ? this.retryMs : 0 });
    if (this.opts.follow) this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, wait);
    this.retryTimer.unref();
  }
}

/** A label for messages and the key of the saved cursor: the same filter, the same key. */
export function journalKey(f: JournalFilter): string {
  return `journal:${JSON.stringify({ units: f.units, identifiers: f.identifiers, files: f.files, directory: f.directory })}`;
}

/**
 * One journal entry (journalctl JSON) as an RFC 5424 line, or null when it is not JSON.
 * `line` is null when the entry has a cursor but no usable time.
 */
export function toLine(json: string, maxBytes: number): { cursor: string; line: string | null } | null {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.__CURSOR !== 'string') return null;
  const us = Number(doc.__REALTIME_TIMESTAMP);
  if (!Number.isFinite(us) || us <= 0) return { cursor: doc.__CURSOR, line: null };
  const time = new Date(Math.floor(us / 1000)).toISOString();
  const severity = small(doc.PRIORITY, 7) ?? 6;
  const facility = small(doc.SYSLOG_FACILITY, 23) ?? 3; // daemon
  const host = token(doc._HOSTNAME);
  const app = token(doc.SYSLOG_IDENTIFIER ?? doc._COMM);
  const pid = token(doc.SYSLOG_PID ?? doc._PID);
  let message = text(doc.MESSAGE);
  // One entry is one event: a multi-line message stays one line.
  if (message.includes('\n') || message.includes('\r')) message = message.replace(/\r?\n|\r/g, ' ');
  let line = `<${facility * 8 + severity}>1 ${time} ${host} ${app} ${pid} - - ${message}`;
  if (line.length > maxBytes && Buffer.byteLength(line) > maxBytes) line = Buffer.from(line).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return { cursor: doc.__CURSOR, line };
}

/** journalctl writes binary field values as arrays of bytes. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
  return '';
}

function token(v: unknown): string {
  const s = text(v);
  if (s.length === 0) return '-';
  return s.replace(/\s/g, '_').slice(0, 255);
}

function small(v: unknown, max: number): number | null {
  const n = Number(text(v));
  return Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}
