// The state file's document and its field-by-field check when read back: file positions,
// journal cursors, the events-file size, the open windows (core/snapshot-check), coverage,
// the alert-mail rate and the last digest. A bad entry (one file position, one key's window, one
// incident, one coverage source) is dropped and reported on its own; everything good is
// kept. A document that is not a state file at all (another type, an unknown version)
// gives an empty state. It never reads or writes a file and never logs: StateStore keeps
// the damaged file aside and the daemon reports the problems once.

import { checkDetectorSnapshot } from '../core/snapshot-check.js';
import type { DetectorSnapshot } from '../core/detector.js';
import type { CoverageSnapshot, SourceCoverage } from '../digest/coverage.js';
import type { FoldedAlert, RateState } from '../delivery/alerts.js';
import { HEAD_BYTES, type Fingerprint } from '../sources/fingerprint.js';
import type { TailPosition } from '../sources/tail-types.js';
import type { EventsFileIdentity } from '../sinks/events-jsonl.js';
import { Problems, entry, field, isRecord, item, notCount, notList, notRecord, notString, notStringOrNull, notTime } from '../util/check.js';

export const STATE_VERSION = 2;

export interface DaemonState {
  version: number;
  /** By source path. */
  files: Record<string, TailPosition>;
  /** Journal cursors by source key (see journalKey). */
  journal: Record<string, string>;
  /** Bytes of the --events file covered by the positions (to drop a torn tail on restart). */
  eventsBytes: number | null;
  /** Which file those bytes are in: only that file is ever cut back to eventsBytes. */
  eventsFile?: EventsFileIdentity | null;
  /** Open windows and incidents as of the positions (version 2). */
  windows: DetectorSnapshot | null;
  /** What was read since the last digest. */
  coverage?: CoverageSnapshot | null;
  /** The alert-mail rate limiter. */
  rate?: RateState | null;
  /** Wall-clock ms of the last digest sent, or null. */
  lastDigest?: number | null;
}

export function emptyState(): DaemonState {
  return { version: STATE_VERSION, files: {}, journal: {}, eventsBytes: null, windows: null };
}

/** How far ahead of the wall clock a time may be (the year inference of syslog stamps allows a day). */
export const FUTURE_SLACK_MS = 86_400_000;
/** A journal cursor is about 150 characters; a longer one would not fit journalctl's argument. */
const MAX_CURSOR_CHARS = 4096;

export interface CheckedState {
  state: DaemonState;
  problems: Problems;
  /** Nothing of the document could be used (not a state file, unknown version). */
  fresh: boolean;
}

/** Checks a parsed state document; `now` is the wall-clock ms. */
export function checkState(doc: unknown, now: number): CheckedState {
  const p = new Problems();
  const latest = now + FUTURE_SLACK_MS;
  if (!isRecord(doc)) {
    p.add('the file', 'not a JSON object');
    return { state: emptyState(), problems: p, fresh: true };
  }
  // Version 1 had positions only; its files are read the same way.
  if (doc.version !== 1 && doc.version !== STATE_VERSION) {
    p.add('version', doc.version === undefined ? 'missing' : `not a version this logward reads (1 or ${STATE_VERSION})`);
    return { state: emptyState(), problems: p, fresh: true };
  }
  // Parts a state file may lack (older versions, a run that never sent a digest) default to empty.
  const given = (k: string): boolean => doc[k] !== undefined && doc[k] !== null;
  const state: DaemonState = {
    version: STATE_VERSION,
    files: checkMap(doc.files, 'files', p, checkPosition),
    journal: doc.journal === undefined ? {} : checkMap(doc.journal, 'journal', p, (v, at) => (report(p, at, notString(v, MAX_CURSOR_CHARS)) ? null : (v as string))),
    eventsBytes: given('eventsBytes') && !report(p, 'eventsBytes', notCount(doc.eventsBytes)) ? (doc.eventsBytes as number) : null,
    eventsFile: given('eventsFile') ? checkEventsFile(doc.eventsFile, p) : null,
    windows: doc.version === STATE_VERSION && given('windows') ? checkDetectorSnapshot(doc.windows, 'windows', latest, p) : null,
    coverage: given('coverage') ? checkCoverage(doc.coverage, latest, p) : null,
    rate: given('rate') ? checkRate(doc.rate, latest, p) : null,
    lastDigest: given('lastDigest') && !report(p, 'lastDigest', notTime(doc.lastDigest, latest)) ? (doc.lastDigest as number) : null,
  };
  return { state, problems: p, fresh: false };
}

/** Adds the problem, if there is one; true when there was. */
function report(p: Problems, at: string, why: string | null): boolean {
  if (why === null) return false;
  p.add(at, why);
  return true;
}

/** A map of entries, each checked on its own; a bad entry is left out. */
function checkMap<T>(v: unknown, at: string, p: Problems, check: (v: unknown, at: string, p: Problems) => T | null): Record<string, T> {
  const out: Record<string, T> = {};
  if (report(p, at, notRecord(v))) return out;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    const ok = check(e, entry(at, k), p);
    if (ok !== null) out[k] = ok;
  }
  return out;
}

function checkPosition(v: unknown, at: string, p: Problems): TailPosition | null {
  if (report(p, at, notRecord(v))) return null;
  const t = v as Record<string, unknown>;
  if (report(p, field(at, 'path'), notString(t.path))) return null;
  const fpAt = field(at, 'fingerprint');
  if (report(p, fpAt, notRecord(t.fingerprint))) return null;
  const fp = t.fingerprint as Record<string, unknown>;
  // Inode numbers may exceed 2^53 on some file systems: any integer is taken.
  const whole = (x: unknown): string | null => (x === undefined ? 'missing' : typeof x === 'number' && Number.isInteger(x) && x >= 0 ? null : 'not a non-negative integer');
  if (report(p, field(fpAt, 'dev'), whole(fp.dev))) return null;
  if (report(p, field(fpAt, 'ino'), whole(fp.ino))) return null;
  if (report(p, field(fpAt, 'head'), notString(fp.head, 64))) return null;
  // A longer head would be read (and allocated) whole at every start.
  const badLen = notCount(fp.headLen) ?? ((fp.headLen as number) > HEAD_BYTES ? `more than ${HEAD_BYTES}` : null);
  if (report(p, field(fpAt, 'headLen'), badLen)) return null;
  if (report(p, field(at, 'offset'), notCount(t.offset))) return null;
  if (report(p, field(at, 'line'), notCount(t.line))) return null;
  const fingerprint: Fingerprint = { dev: fp.dev as number, ino: fp.ino as number, head: fp.head as string, headLen: fp.headLen as number };
  // The hash of the bytes before offset (identical copies); optional: older positions lack it.
  if (t.before !== undefined && report(p, field(at, 'before'), notString(t.before, 64))) return null;
  const pos: TailPosition = { path: t.path as string, fingerprint, offset: t.offset as number, line: t.line as number };
  if (typeof t.before === 'string') pos.before = t.before;
  return pos;
}

/** The identity of the --events file the checkpoint covers: a device and inode, or null. */
function checkEventsFile(v: unknown, p: Problems): EventsFileIdentity | null {
  if (v === null) return null;
  if (report(p, 'eventsFile', notRecord(v))) return null;
  const f = v as Record<string, unknown>;
  const whole = (x: unknown): string | null => (x === undefined ? 'missing' : typeof x === 'number' && Number.isInteger(x) && x >= 0 ? null : 'not a non-negative integer');
  if (report(p, 'eventsFile.dev', whole(f.dev)) || report(p, 'eventsFile.ino', whole(f.ino))) return null;
  return { dev: f.dev as number, ino: f.ino as number };
}

function checkCoverage(v: unknown, latest: number, p: Problems): CoverageSnapshot | null {
  if (report(p, 'coverage', notRecord(v))) return null;
  const c = v as Record<string, unknown>;
  if (report(p, 'coverage.since', notTime(c.since, latest))) return null;
  const sources = checkMap(c.sources, 'coverage.sources', p, (s, at) => checkSource(s, at, latest, p));
  return { since: c.since as number, sources };
}

const COUNTS = ['lines', 'notParsed', 'unmatched', 'events', 'otherShapes'] as const;

function checkSource(v: unknown, at: string, latest: number, p: Problems): SourceCoverage | null {
  if (report(p, at, notRecord(v))) return null;
  const s = v as Record<string, unknown>;
  if (report(p, field(at, 'kind'), s.kind === 'file' || s.kind === 'journal' ? null : s.kind === undefined ? 'missing' : 'not file or journal')) return null;
  for (const k of COUNTS) if (report(p, field(at, k), notCount(s[k]))) return null;
  // A last growth in the future would hide a source gone silent from the digest.
  if (s.lastGrowth !== null && report(p, field(at, 'lastGrowth'), notTime(s.lastGrowth, latest))) return null;
  const shapesAt = field(at, 'shapes');
  if (report(p, shapesAt, notRecord(s.shapes))) return null;
  const shapes: Record<string, number> = {};
  let bad = 0;
  // Shapes are log text: a problem names how many, not which.
  for (const [shape, n] of Object.entries(s.shapes as Record<string, unknown>)) {
    if (notCount(n) === null) shapes[shape] = n as number;
    else bad++;
  }
  if (bad > 0) p.add(shapesAt, `${bad} count${bad === 1 ? ' is' : 's are'} not a non-negative integer`);
  const out = { kind: s.kind, lastGrowth: s.lastGrowth, shapes } as SourceCoverage;
  for (const k of COUNTS) out[k] = s[k] as number;
  return out;
}

function checkRate(v: unknown, latest: number, p: Problems): RateState | null {
  if (report(p, 'rate', notRecord(v))) return null;
  const r = v as Record<string, unknown>;
  const sent: number[] = [];
  if (!report(p, 'rate.sent', notList(r.sent))) {
    (r.sent as unknown[]).forEach((t, i) => {
      if (!report(p, item('rate.sent', i), notTime(t, latest))) sent.push(t as number);
    });
  }
  const folded: FoldedAlert[] = [];
  if (!report(p, 'rate.folded', notList(r.folded))) {
    (r.folded as unknown[]).forEach((f, i) => {
      const ok = checkFolded(f, item('rate.folded', i), latest, p);
      if (ok !== null) folded.push(ok);
    });
  }
  const foldedMore = report(p, 'rate.foldedMore', notCount(r.foldedMore)) ? 0 : (r.foldedMore as number);
  return { sent, folded, foldedMore };
}

function checkFolded(v: unknown, at: string, latest: number, p: Problems): FoldedAlert | null {
  if (report(p, at, notRecord(v))) return null;
  const f = v as Record<string, unknown>;
  for (const k of ['id', 'rule', 'severity']) if (report(p, field(at, k), notString(f[k]))) return null;
  for (const k of ['key', 'keyField']) if (report(p, field(at, k), notStringOrNull(f[k]))) return null;
  if (report(p, field(at, 'count'), notCount(f.count))) return null;
  // The follow-up mail prints it as a date: a time beyond the calendar would stop the mail.
  if (report(p, field(at, 'first'), notTime(f.first, latest))) return null;
  return { id: f.id as string, rule: f.rule as string, severity: f.severity as string, key: f.key as string | null, keyField: f.keyField as string | null, count: f.count as number, first: f.first as number };
}
