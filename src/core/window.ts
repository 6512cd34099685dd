// Sliding windows on event time, one store per rule. A key fires when `threshold` of its
// events fall within `window` (inclusive: events exactly `window` apart are together).
// From then on its events join that one incident until `cooldown` passes without any, so
// a burst is one incident, never the prototype's overlapping duplicates.
// Out of order: an event older than the key's newest joins the window if it is within
// `window` of it; an event more than `window` older is a clock step back: the key's
// window restarts from it (counted).
// Memory: keys nothing can extend any more are swept, at a pace that keeps the sweep's
// cost per event constant; at the key cap the stalest eighth is evicted in one pass
// (counted). Maps are never used as LRU lists: deleting at a V8 Map's front makes every
// later walk from the front skip the deleted slots.

import { createHash } from 'node:crypto';
import type { CompiledRule, DetectionLimits } from './rules.js';
import type { DetectionEvent, Incident } from './types.js';

interface OpenIncident {
  id: string;
  first: number;
  last: number;
  firedAt: number;
  count: number;
  ips: Set<string>;
  users: Set<string>;
  hosts: Set<string>;
  truncated: boolean;
  samples: Incident['samples'];
  lastIp: string | null;
  lastUser: string | null;
  lastHost: string | null;
}

interface KeyState {
  /** Hit times inside the window, ascending; fewer than threshold. */
  times: number[];
  /** The events behind `times` (same order), for the incident's first values. */
  events: DetectionEvent[];
  maxT: number;
  incident: OpenIncident | null;
}

export interface WindowStats {
  evictedKeys: number;
  clockSteps: number;
  incidents: number;
}

export interface IncidentListener {
  opened(incident: Incident): void;
  closed(incident: Incident): void;
}

export class RuleWindow {
  private readonly keys = new Map<string, KeyState>();
  private lastKey: string | null = null;
  private lastState: KeyState | null = null;
  /** Events since the last sweep, and the watermark of that sweep. */
  private sinceSweep = 0;
  private sweptAt = -Infinity;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly threshold: number;
  private readonly horizonMs: number;
  readonly stats: WindowStats = { evictedKeys: 0, clockSteps: 0, incidents: 0 };

  constructor(
    private readonly rule: CompiledRule,
    private readonly limits: DetectionLimits,
    private readonly listener: IncidentListener,
  ) {
    this.windowMs = rule.spec.windowMs;
    this.cooldownMs = rule.spec.cooldownMs;
    this.threshold = rule.spec.threshold;
    this.horizonMs = Math.max(this.windowMs, this.cooldownMs);
  }

  get size(): number {
    return this.keys.size;
  }

  add(key: string, ev: DetectionEvent): void {
    const t = ev.time;
    this.sinceSweep++;
    let st: KeyState | undefined;
    if (key === this.lastKey && this.lastState !== null) {
      st = this.lastState; // a burst of one key
    } else {
      st = this.keys.get(key);
      if (st === undefined) {
        if (this.keys.size >= this.limits.maxKeysPerRule) this.evictStalest();
        st = { times: [], events: [], maxT: t, incident: null };
        this.keys.set(key, st);
      }
      this.lastKey = key;
      this.lastState = st;
    }

    const inc = st.incident;
    if (inc !== null) {
      // A late event still inside the burst's window belongs to it, even with a short
      // cooldown: closing the incident for it would open a second, overlapping one.
      if (t >= inc.first - this.horizonMs && t <= inc.last + this.cooldownMs) {
        this.absorb(inc, ev);
        if (t > st.maxT) st.maxT = t;
        return;
      }
      this.close(key, st);
    }
    if (t < st.maxT - this.windowMs) {
      this.stats.clockSteps++;
      st.times.length = 0;
      st.events.length = 0;
      st.maxT = t;
    } else if (t > st.maxT) {
      st.maxT = t;
    }
    insertSorted(st, t, ev);
    const lo = st.maxT - this.windowMs;
    let drop = 0;
    while (drop < st.times.length && st.times[drop]! < lo) drop++;
    if (drop > 0) {
      st.times.splice(0, drop);
      st.events.splice(0, drop);
    }
    if (st.times.length >= this.threshold) this.fire(key, st, t);
  }

  /**
   * Closes incidents and forgets keys that nothing can extend any more: their newest hit
   * is further than window and cooldown behind the watermark (the newest event time).
   * Small stores are swept whenever the watermark moved a horizon; large ones once as many
   * events as keys have arrived, so a sweep costs O(1) per event.
   */
  expire(watermark: number): void {
    const size = this.keys.size;
    if (size === 0) return;
    const due = this.sinceSweep >= size || (size <= 10_000 && watermark - this.sweptAt >= this.horizonMs);
    if (!due) return;
    this.sinceSweep = 0;
    this.sweptAt = watermark;
    for (const [key, st] of this.keys) {
      const newest = st.incident === null ? st.maxT : Math.max(st.maxT, st.incident.last);
      if (newest + this.horizonMs >= watermark) continue;
      if (st.incident !== null) this.close(key, st);
      this.keys.delete(key);
    }
    this.lastState = null;
  }

  /** End of input: closes every open incident. */
  flush(): void {
    for (const [key, st] of this.keys) if (st.incident !== null) this.close(key, st);
    this.keys.clear();
    this.lastState = null;
  }

  /**
   * The open windows and incidents, so a restart or reload continues them: a brute force
   * that straddles a restart still alerts, and an incident already alerted is not opened
   * again. Sample texts are cut to max_sample_chars, as in incidents.
   */
  exportState(): KeySnapshot[] {
    const out: KeySnapshot[] = [];
    const max = this.limits.maxSampleChars;
    for (const [key, st] of this.keys) {
      const inc = st.incident;
      out.push({
        key,
        maxT: st.maxT,
        hits: st.events.map((e) => [e.time, e.source, e.line, e.ip, e.user, e.host, e.text.length > max ? e.text.slice(0, max) : e.text]),
        incident: inc === null ? null : {
          id: inc.id, first: inc.first, last: inc.last, firedAt: inc.firedAt, count: inc.count,
          ips: [...inc.ips], users: [...inc.users], hosts: [...inc.hosts], truncated: inc.truncated, samples: inc.samples.slice(),
        },
      });
    }
    return out;
  }

  /** Restores exportState() output (of this rule, from an earlier run). Keys over the cap are dropped. */
  importState(keys: readonly KeySnapshot[]): void {
    const rule = this.rule.spec.name;
    for (const k of keys) {
      if (this.keys.size >= this.limits.maxKeysPerRule) break;
      const events: DetectionEvent[] = k.hits.map(([time, source, line, ip, user, host, text]) => ({ rule, matcher: '', source, line, time, ip, user, host, program: null, text }));
      let incident: OpenIncident | null = null;
      if (k.incident !== null) {
        const i = k.incident;
        incident = {
          id: i.id, first: i.first, last: i.last, firedAt: i.firedAt, count: i.count,
          ips: new Set(i.ips), users: new Set(i.users), hosts: new Set(i.hosts), truncated: i.truncated,
          samples: i.samples.slice(), lastIp: null, lastUser: null, lastHost: null,
        };
      }
      this.keys.set(k.key, { times: events.map((e) => e.time), events, maxT: k.maxT, incident });
    }
    this.lastKey = null;
    this.lastState = null;
  }

  /** At the cap: evicts the stalest eighth of the keys (by newest hit) in one pass. */
  private evictStalest(): void {
    const n = this.keys.size;
    const times = new Float64Array(n);
    let i = 0;
    for (const st of this.keys.values()) times[i++] = st.incident === null ? st.maxT : Math.max(st.maxT, st.incident.last);
    times.sort();
    const cut = times[Math.max(0, Math.floor(n / 8) - 1)]!;
    let evicted = 0;
    const want = Math.max(1, Math.floor(n / 8));
    for (const [key, st] of this.keys) {
      if (evicted >= want) break;
      const newest = st.incident === null ? st.maxT : Math.max(st.maxT, st.incident.last);
      if (newest > cut) continue;
      if (st.incident !== null) this.close(key, st);
      this.keys.delete(key);
      evicted++;
    }
    this.stats.evictedKeys += evicted;
    this.lastState = null;
  }

  private fire(key: string, st: KeyState, t: number): void {
    const first = st.times[0]!;
    const inc: OpenIncident = {
      id: incidentId(this.rule.spec.name, key, first),
      first,
      last: st.times[st.times.length - 1]!,
      firedAt: t,
      count: 0,
      ips: new Set(),
      users: new Set(),
      hosts: new Set(),
      truncated: false,
      samples: [],
      lastIp: null,
      lastUser: null,
      lastHost: null,
    };
    for (const e of st.events) this.absorb(inc, e);
    st.times.length = 0;
    st.events.length = 0;
    st.incident = inc;
    this.stats.incidents++;
    this.listener.opened(this.snapshot(key, inc));
  }

  private absorb(inc: OpenIncident, ev: DetectionEvent): void {
    inc.count++;
    if (ev.time < inc.first) inc.first = ev.time;
    if (ev.time > inc.last) inc.last = ev.time;
    const cap = this.limits.maxValuesPerIncident;
    // A burst repeats its values: compare with the previous event before hashing.
    if (ev.ip !== inc.lastIp) {
      inc.truncated = addCapped(inc.ips, ev.ip, cap) || inc.truncated;
      inc.lastIp = ev.ip;
    }
    if (ev.user !== inc.lastUser) {
      inc.truncated = addCapped(inc.users, ev.user, cap) || inc.truncated;
      inc.lastUser = ev.user;
    }
    if (ev.host !== inc.lastHost) {
      inc.truncated = addCapped(inc.hosts, ev.host, cap) || inc.truncated;
      inc.lastHost = ev.host;
    }
    if (inc.samples.length < this.limits.maxSamplesPerIncident) {
      const max = this.limits.maxSampleChars;
      inc.samples.push({ source: ev.source, line: ev.line, time: ev.time, text: ev.text.length > max ? ev.text.slice(0, max) : ev.text });
    }
  }

  private close(key: string, st: KeyState): void {
    const inc = st.incident!;
    st.incident = null;
    this.listener.closed(this.snapshot(key, inc));
  }

  private snapshot(key: string, inc: OpenIncident): Incident {
    const spec = this.rule.spec;
    return {
      id: inc.id,
      rule: spec.name,
      severity: spec.severity,
      key: spec.key === null ? null : key,
      keyField: spec.key,
      first: inc.first,
      last: inc.last,
      firedAt: inc.firedAt,
      count: inc.count,
      ips: [...inc.ips],
      users: [...inc.users],
      hosts: [...inc.hosts],
      truncated: inc.truncated,
      samples: inc.samples.slice(),
      windowMs: spec.windowMs,
      threshold: spec.threshold,
    };
  }
}

/** One key's open window and incident, as plain JSON-able data (see RuleWindow.exportState). */
export interface KeySnapshot {
  key: string;
  maxT: number;
  /** Hits below threshold: [time, source, line, ip, user, host, text]. */
  hits: [number, string, number, string | null, string | null, string | null, string][];
  incident: IncidentSnapshot | null;
}

export interface IncidentSnapshot {
  id: string;
  first: number;
  last: number;
  firedAt: number;
  count: number;
  ips: string[];
  users: string[];
  hosts: string[];
  truncated: boolean;
  samples: Incident['samples'];
}

function insertSorted(st: KeyState, t: number, ev: DetectionEvent): void {
  const times = st.times;
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  if (i === times.length) {
    times.push(t);
    st.events.push(ev);
  } else {
    times.splice(i, 0, t);
    st.events.splice(i, 0, ev);
  }
}

/** Adds v unless null; returns true when v was new but the set was full. */
function addCapped(set: Set<string>, v: string | null, cap: number): boolean {
  if (v === null || set.has(v)) return false;
  if (set.size >= cap) return true;
  set.add(v);
  return false;
}

/** Same rule, key and first event time -> same id, across runs and restarts. */
export function incidentId(rule: string, key: string, first: number): string {
  return createHash('sha256').update(`${rule}\n${key}\n${first}`).digest('hex').slice(0, 16);
}
