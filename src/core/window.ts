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

import { hash16 } from '../util/hash.js';
import type { CompiledRule, DetectionLimits } from './rules.js';
import type { DetectionEvent, Incident } from './types.js';
import { EventRing, Ipv4Index, NONE, SlotStore, ipv4Number, ipv4String, kthSmallest } from './window-store.js';

interface OpenIncident {
  id: string;
  key: string;
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

export interface WindowStats {
  evictedKeys: number;
  clockSteps: number;
  incidents: number;
}

export interface IncidentListener {
  opened(incident: Incident): void;
  closed(incident: Incident): void;
}

/** Events kept per rule for the values and samples of incidents not yet fired. */
export const EVENT_RING = 1024;
/** Keys per rule kept in a checkpoint (the most recent), and the sample text kept per hit. */
export const PERSIST_KEYS = 20_000;
const PERSIST_TEXT_CHARS = 300;
/** Longest window (30 days): time offsets within it fit 32 bits. */
export const MAX_WINDOW_MS = 30 * 86_400_000;
const OFFSET_MAX = 0xffff_ffff;

export class RuleWindow {
  private readonly slots: SlotStore;
  private readonly ipIndex = new Ipv4Index();
  private readonly strIndex = new Map<string, number>();
  private readonly ring = new EventRing<DetectionEvent>(EVENT_RING);
  /** Open incidents, referenced from their slot. */
  private incidents: (OpenIncident | null)[] = [];
  private freeIncidents: number[] = [];
  private lastKey: string | null = null;
  private lastSlot = NONE;
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
    if (this.windowMs > MAX_WINDOW_MS) throw new RangeError(`rule ${rule.spec.name}: a window is at most 30 days`);
    this.slots = new SlotStore(this.threshold);
  }

  /** Incidents open now (alerted, their burst not over). */
  get openIncidents(): number {
    return this.incidents.length - this.freeIncidents.length;
  }

  get size(): number {
    return this.ipIndex.size + this.strIndex.size;
  }

  add(key: string, ev: DetectionEvent): void {
    const t = ev.time;
    this.sinceSweep++;
    const slots = this.slots;
    let s: number;
    if (key === this.lastKey && this.lastSlot !== NONE) {
      s = this.lastSlot; // a burst of one key
    } else {
      s = this.lookup(key);
      if (s === NONE) {
        if (this.size >= this.limits.maxKeysPerRule) this.evictStalest();
        s = slots.alloc(t);
        this.insert(key, s);
      }
      this.lastKey = key;
      this.lastSlot = s;
    }

    const ii = slots.inc(s);
    if (ii !== NONE) {
      const inc = this.incidents[ii]!;
      // A late event still inside the burst's window belongs to it, even with a short
      // cooldown: closing the incident for it would open a second, overlapping one.
      if (t >= inc.first - this.horizonMs && t <= inc.last + this.cooldownMs) {
        this.absorb(inc, ev);
        if (t > slots.maxT(s)) slots.setMaxT(s, t);
        return;
      }
      this.close(s);
    }
    let maxT = slots.maxT(s);
    let n = slots.count(s);
    const { arr, at } = slots.timesOf(s);
    if (t < maxT - this.windowMs) {
      this.stats.clockSteps++;
      n = 0;
      slots.setLastSeq(s, NONE);
      maxT = t;
    } else if (t > maxT) {
      // Offsets count back from maxT: a newer maxT moves every kept time further back.
      const d = t - maxT;
      for (let i = 0; i < n; i++) arr[at + i] = Math.min(arr[at + i]! + d, OFFSET_MAX);
      maxT = t;
    }
    slots.setMaxT(s, maxT);
    // Sorted insert by time, after equal times so arrival order is kept among them
    // (ascending times are descending offsets).
    const off = maxT - t;
    let i = n;
    while (i > 0 && arr[at + i - 1]! < off) {
      arr[at + i] = arr[at + i - 1]!;
      i--;
    }
    arr[at + i] = off;
    n++;
    slots.setLastSeq(s, this.ring.push(ev, slots.lastSeq(s)));
    let drop = 0;
    while (drop < n && arr[at + drop]! > this.windowMs) drop++;
    if (drop > 0) {
      arr.copyWithin(at, at + drop, at + n);
      n -= drop;
    }
    slots.setCount(s, n);
    if (n >= this.threshold) this.fire(key, s, t);
  }

  /**
   * Closes incidents and forgets keys that nothing can extend any more: their newest hit
   * is further than window and cooldown behind the watermark (the newest event time).
   * Small stores are swept whenever the watermark moved a horizon; large ones once as many
   * events as keys have arrived, so a sweep costs O(1) per event.
   */
  expire(watermark: number): void {
    const size = this.size;
    if (size === 0) return;
    const due = this.sinceSweep >= size || (size <= 10_000 && watermark - this.sweptAt >= this.horizonMs);
    if (!due) return;
    this.sinceSweep = 0;
    this.sweptAt = watermark;
    const gone: number[] = [];
    this.ipIndex.forEach((k, s) => {
      if (this.newest(s) + this.horizonMs < watermark) gone.push(k);
    });
    for (const k of gone) this.remove(ipv4String(k), this.ipIndex.get(k));
    for (const [key, s] of this.strIndex) if (this.newest(s) + this.horizonMs < watermark) this.remove(key, s);
    this.lastSlot = NONE;
    this.lastKey = null;
  }

  /** End of input: closes every open incident. */
  flush(): void {
    this.eachKey((s) => {
      if (this.slots.inc(s) !== NONE) this.close(s);
    });
    this.ipIndex.clear();
    this.strIndex.clear();
    this.slots.clear();
    this.ring.clear();
    this.incidents = [];
    this.freeIncidents = [];
    this.lastSlot = NONE;
    this.lastKey = null;
  }

  /**
   * The open windows and incidents, so a restart or reload continues them: a brute force
   * that straddles a restart still alerts, and an incident already alerted is not opened
   * again. Sample texts are cut to max_sample_chars, as in incidents.
   */
  exportState(maxKeys = PERSIST_KEYS): KeySnapshot[] {
    const out: KeySnapshot[] = [];
    // Checkpoints happen every few seconds: under a flood of keys only the most recent
    // are kept, and sample texts are short; an attack straddling a restart is recent.
    const max = Math.min(this.limits.maxSampleChars, PERSIST_TEXT_CHARS);
    const cut = this.size > maxKeys ? this.newestCut(maxKeys) : -Infinity;
    const take = (s: number, ip: number, str: string | null): void => {
      const ii = this.slots.inc(s);
      const inc = ii === NONE ? null : this.incidents[ii]!;
      out.push({
        key: str ?? ipv4String(ip),
        maxT: this.slots.maxT(s),
        hits: this.windowEvents(s).map(({ t, ev }) => ev === undefined
          ? [t, '', 0, null, null, null, '']
          : [t, ev.source, ev.line, ev.ip, ev.user, ev.host, ev.text.length > max ? ev.text.slice(0, max) : ev.text]),
        incident: inc === null ? null : {
          id: inc.id, first: inc.first, last: inc.last, firedAt: inc.firedAt, count: inc.count,
          ips: [...inc.ips], users: [...inc.users], hosts: [...inc.hosts], truncated: inc.truncated, samples: inc.samples.slice(),
        },
      });
    };
    // Newer than the cut first, then ties at it up to maxKeys, as for evictions: taken in
    // table order, ties could crowd out newer keys.
    this.eachKey((s, ip, str) => {
      if (this.newest(s) > cut) take(s, ip, str);
    });
    if (cut !== -Infinity) {
      this.eachKey((s, ip, str) => {
        if (out.length < maxKeys && this.newest(s) === cut) take(s, ip, str);
      });
    }
    return out;
  }

  /** The newest-hit time of the n-th most recent key. */
  private newestCut(n: number): number {
    return kthSmallest(this.newestTimes(), this.size - n);
  }

  /** Each key's newest-hit time, in eachKey order: a scratch array for kthSmallest. */
  private newestTimes(): Float64Array {
    const times = new Float64Array(this.size);
    let i = 0;
    this.eachKey((s) => {
      times[i++] = this.newest(s);
    });
    return times;
  }

  /** Restores exportState() output (of this rule, from an earlier run). Keys over the cap are dropped. */
  importState(keys: readonly KeySnapshot[]): void {
    const rule = this.rule.spec.name;
    const slots = this.slots;
    for (const k of keys) {
      if (this.size >= this.limits.maxKeysPerRule) break;
      if (this.lookup(k.key) !== NONE) continue;
      const s = slots.alloc(k.maxT);
      this.insert(k.key, s);
      const hits = k.hits.filter((h) => h[0] <= k.maxT && k.maxT - h[0] <= this.windowMs).slice(-this.threshold).sort((a, b) => a[0] - b[0]);
      const { arr, at } = slots.timesOf(s);
      let seq = NONE;
      hits.forEach(([time, source, line, ip, user, host, text], i) => {
        arr[at + i] = k.maxT - time;
        seq = this.ring.push({ rule, matcher: '', source, line, time, ip, user, host, program: null, text }, seq);
      });
      slots.setCount(s, hits.length);
      slots.setLastSeq(s, seq);
      if (k.incident !== null) {
        const i = k.incident;
        slots.setInc(s, this.newIncident({
          id: i.id, key: k.key, first: i.first, last: i.last, firedAt: i.firedAt, count: i.count,
          ips: new Set(i.ips), users: new Set(i.users), hosts: new Set(i.hosts), truncated: i.truncated,
          samples: i.samples.slice(), lastIp: null, lastUser: null, lastHost: null,
        }));
      }
    }
    this.lastKey = null;
    this.lastSlot = NONE;
  }

  /** At the cap: evicts the stalest eighth of the keys (by newest hit) in one pass. */
  private evictStalest(): void {
    const n = this.size;
    const cut = kthSmallest(this.newestTimes(), Math.max(0, Math.floor(n / 8) - 1));
    const want = Math.max(1, Math.floor(n / 8));
    // Strictly older keys first, then ties at the cut: syslog stamps have whole seconds,
    // so hundreds of keys share the cut's time, and taking them in table order let an
    // older key sit behind them forever (seen: the first address of a 50,000-address
    // flood still held after 48,000 evictions).
    const victims: [number, string | null, number][] = [];
    this.eachKey((s, ip, str) => {
      if (this.newest(s) < cut) victims.push([ip, str, s]);
    });
    if (victims.length < want) {
      this.eachKey((s, ip, str) => {
        if (victims.length < want && this.newest(s) === cut) victims.push([ip, str, s]);
      });
    }
    for (const [ip, str, s] of victims) this.removeAt(ip, str, s);
    this.stats.evictedKeys += victims.length;
    this.lastSlot = NONE;
    this.lastKey = null;
  }

  /**
   * Keys in a stable order: string keys as they came (ip -1), then IPv4 keys as numbers
   * (str null). Checkpoints and evictions walk every key but name only the few they keep
   * or drop: making a string per key cost a million strings per checkpoint (every 2 s)
   * under a 1M-address flood, and about 1 s per export of 400,000 keys.
   */
  private eachKey(fn: (slot: number, ip: number, str: string | null) => void): void {
    for (const [key, s] of this.strIndex) fn(s, -1, key);
    this.ipIndex.forEach((k, s) => fn(s, k, null));
  }

  private removeAt(ip: number, str: string | null, s: number): void {
    if (this.slots.inc(s) !== NONE) this.close(s);
    if (str === null) this.ipIndex.delete(ip);
    else this.strIndex.delete(str);
    this.slots.release(s);
  }

  private lookup(key: string): number {
    const n = ipv4Number(key);
    if (n >= 0) return this.ipIndex.get(n);
    return this.strIndex.get(key) ?? NONE;
  }

  private insert(key: string, s: number): void {
    const n = ipv4Number(key);
    if (n >= 0) this.ipIndex.set(n, s);
    else this.strIndex.set(key, s);
  }

  private remove(key: string, s: number): void {
    if (this.slots.inc(s) !== NONE) this.close(s);
    const n = ipv4Number(key);
    if (n >= 0) this.ipIndex.delete(n);
    else this.strIndex.delete(key);
    this.slots.release(s);
  }

  private newest(s: number): number {
    const ii = this.slots.inc(s);
    const maxT = this.slots.maxT(s);
    return ii === NONE ? maxT : Math.max(maxT, this.incidents[ii]!.last);
  }

  /**
   * The slot's window as (time, event) in time order; the event is undefined when it has
   * left the ring. The key's chain since its window last started holds exactly its window's
   * events plus older ones dropped by time, so the newest `count` with time >= the oldest
   * kept are the window.
   */
  private windowEvents(s: number): { t: number; ev: DetectionEvent | undefined }[] {
    const n = this.slots.count(s);
    const { arr, at } = this.slots.timesOf(s);
    const maxT = this.slots.maxT(s);
    const lo = n > 0 ? maxT - arr[at]! : Infinity;
    const found: DetectionEvent[] = [];
    let q = this.slots.lastSeq(s);
    while (q !== NONE && found.length < n) {
      const ev = this.ring.get(q);
      if (ev === undefined) break;
      if (ev.time >= lo) found.push(ev);
      q = this.ring.prev(q);
    }
    found.reverse(); // arrival order; a stable sort by time then matches the window's order
    found.sort((a, b) => a.time - b.time);
    const out: { t: number; ev: DetectionEvent | undefined }[] = [];
    // Events missing from the ring keep their times (and so the count).
    let j = 0;
    for (let i = 0; i < n; i++) {
      const t = maxT - arr[at + i]!;
      const missing = n - i > found.length - j;
      if (!missing && found[j]!.time === t) out.push({ t, ev: found[j++] });
      else out.push({ t, ev: undefined });
    }
    return out;
  }

  private newIncident(inc: OpenIncident): number {
    const free = this.freeIncidents.pop();
    if (free !== undefined) {
      this.incidents[free] = inc;
      return free;
    }
    this.incidents.push(inc);
    return this.incidents.length - 1;
  }

  private fire(key: string, s: number, t: number): void {
    const slots = this.slots;
    const { arr, at } = slots.timesOf(s);
    const n = slots.count(s);
    const maxT = slots.maxT(s);
    const inc: OpenIncident = {
      id: incidentId(this.rule.spec.name, key, maxT - arr[at]!),
      key,
      first: maxT - arr[at]!,
      last: maxT - arr[at + n - 1]!,
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
    for (const { t: time, ev } of this.windowEvents(s)) {
      if (ev !== undefined) this.absorb(inc, ev);
      else this.absorbTime(inc, time);
    }
    slots.setCount(s, 0);
    slots.setLastSeq(s, NONE);
    slots.setInc(s, this.newIncident(inc));
    this.stats.incidents++;
    this.listener.opened(this.snapshot(inc));
  }

  /** An event whose details left the ring: it still counts. */
  private absorbTime(inc: OpenIncident, t: number): void {
    inc.count++;
    if (t < inc.first) inc.first = t;
    if (t > inc.last) inc.last = t;
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

  private close(s: number): void {
    const ii = this.slots.inc(s);
    const inc = this.incidents[ii]!;
    this.incidents[ii] = null;
    this.freeIncidents.push(ii);
    this.slots.setInc(s, NONE);
    this.listener.closed(this.snapshot(inc));
  }

  /** The incidents open now (e.g. restored from a checkpoint), for a view of them. */
  listOpenIncidents(): Incident[] {
    const out: Incident[] = [];
    for (const inc of this.incidents) if (inc !== null) out.push(this.snapshot(inc));
    return out;
  }

  private snapshot(inc: OpenIncident): Incident {
    const spec = this.rule.spec;
    return {
      id: inc.id,
      rule: spec.name,
      severity: spec.severity,
      key: spec.key === null ? null : inc.key,
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

/** An open incident as a checkpoint keeps it. */
export type IncidentSnapshot = Pick<Incident, 'id' | 'first' | 'last' | 'firedAt' | 'count' | 'ips' | 'users' | 'hosts' | 'truncated' | 'samples'>;

/** Adds v unless null; returns true when v was new but the set was full. */
function addCapped(set: Set<string>, v: string | null, cap: number): boolean {
  if (v === null || set.has(v)) return false;
  if (set.size >= cap) return true;
  set.add(v);
  return false;
}

/** Same rule, key and first event time -> same id, across runs and restarts. */
export function incidentId(rule: string, key: string, first: number): string {
  return hash16(`${rule}\n${key}\n${first}`);
}
