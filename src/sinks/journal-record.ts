// One record of the incident journal as it is read back, checked field by field: what
// the journal itself needs (type, id, at) and the alert fields the digest reads (rule,
// severity, count, first, last, key, addresses, users, hosts). A record that fails is
// left out by whoever reads the journal. It never reads a file and never logs.

import { Problems, field, isRecord, notCount, notString, notStringOrNull, stringList } from '../util/check.js';

export interface JournalRecord {
  type: 'opened' | 'closed';
  /** Wall-clock time the record was written (ISO 8601). */
  at: string;
  id: string;
  [field: string]: unknown;
}

/** Why v is not an ISO 8601 time the digest can read, or null. */
function notIsoTime(v: unknown): string | null {
  const bad = notString(v, 64);
  if (bad !== null) return bad;
  return Number.isFinite(Date.parse(v as string)) ? null : 'not a time';
}

/** The record, or null (with its first problem added, under `at`). */
export function checkRecord(v: unknown, at: string, p: Problems): JournalRecord | null {
  if (!isRecord(v)) {
    p.add(at, 'not an object');
    return null;
  }
  const checks: [string, string | null][] = [
    ['type', v.type === 'opened' || v.type === 'closed' ? null : v.type === undefined ? 'missing' : 'not opened or closed'],
    ['id', notString(v.id) ?? (v.id === '' ? 'empty' : null)],
    ['at', notIsoTime(v.at)],
    ['rule', notString(v.rule)],
    ['severity', notString(v.severity)],
    ['count', notCount(v.count)],
    ['first', notIsoTime(v.first)],
    ['last', notIsoTime(v.last)],
    ['key_field', notStringOrNull(v.key_field)],
    ['key', notStringOrNull(v.key)],
  ];
  for (const [name, why] of checks) {
    if (why !== null) {
      p.add(field(at, name), why);
      return null;
    }
  }
  for (const name of ['ips', 'users', 'hosts']) {
    const before = p.count;
    if (stringList(v[name], field(at, name), p) === null || p.count > before) return null;
  }
  return v as JournalRecord;
}
