// The field-by-field check of a detector snapshot read back from a checkpoint, before
// Detector.importState sees it: each key's window, hit and incident is checked on its own
// and a bad one is dropped and reported, the rest is restored. It owns what a restorable
// snapshot is; above all no time past the watermark (or, without one, past `latest`): an
// incident whose last event lies in the future takes every later event of its key for
// itself, so a rule keyed on nothing would never alert again. Pure: no IO, no clock (the
// caller passes the latest plausible time).

import { Problems, entry, field, isRecord, item, notCount, notList, notRecord, notString, notStringOrNull, notTime, stringList } from '../util/check.js';
import type { DetectorSnapshot } from './detector.js';
import type { HitSnapshot, IncidentSnapshot, KeySnapshot } from './window-snapshot.js';

/** The latest time a snapshot's times may have, and what to call it in a problem. */
interface Bound {
  latest: number;
  name: string;
}

/**
 * The restorable part of a snapshot (at `at` in its document), or null when v is null or
 * not a snapshot at all. `latest` is the latest time an event can plausibly have now.
 */
export function checkDetectorSnapshot(v: unknown, at: string, latest: number, p: Problems): DetectorSnapshot | null {
  if (v === null) return null;
  const bad = notRecord(v);
  if (bad !== null) {
    p.add(at, bad);
    return null;
  }
  const doc = v as Record<string, unknown>;
  let watermark: number | null = null;
  if (doc.watermark !== null) {
    const why = notTime(doc.watermark, latest, 'now');
    if (why === null) watermark = doc.watermark as number;
    else p.add(field(at, 'watermark'), why);
  }
  // The watermark is the newest event time seen: every time the windows hold is at most it.
  const bound: Bound = watermark === null ? { latest, name: 'now' } : { latest: watermark, name: field(at, 'watermark') };
  const rules: Record<string, KeySnapshot[]> = {};
  const rulesAt = field(at, 'rules');
  const badRules = notRecord(doc.rules);
  if (badRules !== null) {
    p.add(rulesAt, badRules);
    return { watermark, rules };
  }
  for (const [name, keys] of Object.entries(doc.rules as Record<string, unknown>)) {
    const ruleAt = entry(rulesAt, name);
    const badKeys = notList(keys);
    if (badKeys !== null) {
      p.add(ruleAt, badKeys);
      continue;
    }
    const out: KeySnapshot[] = [];
    (keys as unknown[]).forEach((k, i) => {
      const snap = checkKey(k, item(ruleAt, i), bound, p);
      if (snap !== null) out.push(snap);
    });
    rules[name] = out;
  }
  return { watermark, rules };
}

function checkKey(v: unknown, at: string, bound: Bound, p: Problems): KeySnapshot | null {
  const bad = notRecord(v);
  if (bad !== null) {
    p.add(at, bad);
    return null;
  }
  const k = v as Record<string, unknown>;
  const why = notString(k.key);
  if (why !== null) {
    p.add(field(at, 'key'), why);
    return null;
  }
  const badMax = notTime(k.maxT, bound.latest, bound.name);
  if (badMax !== null) {
    p.add(field(at, 'maxT'), badMax);
    return null;
  }
  const maxT = k.maxT as number;
  const hitsAt = field(at, 'hits');
  const badHits = notList(k.hits);
  if (badHits !== null) {
    p.add(hitsAt, badHits);
    return null;
  }
  const hits: HitSnapshot[] = [];
  (k.hits as unknown[]).forEach((h, i) => {
    const hit = checkHit(h, item(hitsAt, i), { latest: maxT, name: field(at, 'maxT') }, p);
    if (hit !== null) hits.push(hit);
  });
  let incident: IncidentSnapshot | null = null;
  if (k.incident === undefined) p.add(field(at, 'incident'), 'missing');
  else if (k.incident !== null) incident = checkIncident(k.incident, field(at, 'incident'), bound, p);
  return { key: k.key as string, maxT, hits, incident };
}

/** [time, source, line, ip, user, host, text] */
function checkHit(v: unknown, at: string, bound: Bound, p: Problems): HitSnapshot | null {
  if (!Array.isArray(v) || v.length !== 7) {
    p.add(at, v === undefined ? 'missing' : 'not a list of 7 values');
    return null;
  }
  const checks: [number, string | null][] = [
    [0, notTime(v[0], bound.latest, bound.name)],
    [1, notString(v[1])],
    [2, notCount(v[2])],
    [3, notStringOrNull(v[3])],
    [4, notStringOrNull(v[4])],
    [5, notStringOrNull(v[5])],
    [6, notString(v[6])],
  ];
  for (const [i, why] of checks) {
    if (why !== null) {
      p.add(item(at, i), why);
      return null;
    }
  }
  return v.slice() as HitSnapshot;
}

function checkIncident(v: unknown, at: string, bound: Bound, p: Problems): IncidentSnapshot | null {
  const bad = notRecord(v);
  if (bad !== null) {
    p.add(at, bad);
    return null;
  }
  const i = v as Record<string, unknown>;
  const fail = (name: string, why: string | null): boolean => {
    if (why === null) return false;
    p.add(field(at, name), why);
    return true;
  };
  if (fail('id', notString(i.id) ?? (i.id === '' ? 'empty' : null))) return null;
  for (const name of ['first', 'last', 'firedAt']) if (fail(name, notTime(i[name], bound.latest, bound.name))) return null;
  if (fail('count', notCount(i.count))) return null;
  if (fail('truncated', i.truncated === undefined ? 'missing' : typeof i.truncated === 'boolean' ? null : 'not true or false')) return null;
  const ips = stringList(i.ips, field(at, 'ips'), p);
  const users = stringList(i.users, field(at, 'users'), p);
  const hosts = stringList(i.hosts, field(at, 'hosts'), p);
  if (ips === null || users === null || hosts === null) return null;
  const samplesAt = field(at, 'samples');
  if (fail('samples', notList(i.samples))) return null;
  const samples: IncidentSnapshot['samples'] = [];
  (i.samples as unknown[]).forEach((s, n) => {
    const sample = checkSample(s, item(samplesAt, n), bound, p);
    if (sample !== null) samples.push(sample);
  });
  return {
    id: i.id as string, first: i.first as number, last: i.last as number, firedAt: i.firedAt as number, count: i.count as number,
    ips, users, hosts, truncated: i.truncated as boolean, samples,
  };
}

function checkSample(v: unknown, at: string, bound: Bound, p: Problems): IncidentSnapshot['samples'][number] | null {
  if (!isRecord(v)) {
    p.add(at, v === undefined ? 'missing' : 'not an object');
    return null;
  }
  const why: [string, string | null][] = [
    ['source', notString(v.source)],
    ['line', notCount(v.line)],
    ['time', notTime(v.time, bound.latest, bound.name)],
    ['text', notString(v.text)],
  ];
  for (const [name, w] of why) {
    if (w !== null) {
      p.add(field(at, name), w);
      return null;
    }
  }
  return { source: v.source as string, line: v.line as number, time: v.time as number, text: v.text as string };
}
