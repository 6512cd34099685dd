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
// What an incident holds is incident.ts's; the checkpoint form is window-snapshot.ts's.
// Pure: no IO, no clock.

import { IncidentTable, absorb, absorbTime, incidentView, openIncident, type IncidentListener } from './incident.js';
import type { CompiledRule, DetectionLimits } from './rules.js';
import type { DetectionEvent, Incident } from './types.js';
import { KeyIndex } from './window-keys.js';
import { PERSIST_KEYS, hitEvent, keySnapshot, persistTextChars, restoredHits, restoredIncident, type KeySnapshot } from './window-snapshot.js';
import { EventRing, NONE, SlotStore, ipv4String, kthSmallest, windowEvents } from './window-store.js';

export interface WindowStats {
  evictedKeys: number;
  clockSteps: number;
  incidents: number;
}

/** Events kept per rule for the values and samples of incidents not yet fired. */
export const EVENT_RING = 1024;
/**
 * Longest window (30 days): time offsets within it fit 32 bits. The one definition of the
 * limit; config and flags that set a window check against it.
 */
export const MAX_WINDOW_MS = 30 * 86_400_000;
const OFFSET_MAX = 0xffff_ffff;

export class RuleWindow {
  private readonly slots: SlotStore;
  private readonly keys = new KeyIndex();
  private readonly ring = new EventRing<DetectionEvent>(EVENT_RING);
  /** Open incidents, referenced from their slot. */
  private readonly incidents = new IncidentTable();
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
    if (this.windowMs > MAX_WINDOW_MS) throw new RangeError(`rule ${rule.spec.name}: a window is at most ${MAX_WINDOW_MS / 86_400_000} days`);
    this.slots = new SlotStore(this.threshold);
  }

  /** Incidents open now (alerted, their burst not over). */
  get openIncidents(): number {
    return this.incidents.open;
  }

  get size(): number {
    return this.keys.size;
  }

  add(key: string, ev: DetectionEvent): void {
    const t = ev.time;
    this.sinceSweep++;
    const slots = this.slots;
    let s: number;
    if (key === this.lastKey && this.lastSlot !== NONE) {
      s = this.lastSlot; // a burst of one key
    } else {
      s = this.keys.lookup(key);
      if (s === NONE) {
        if (this.size >= this.limits.maxKeysPerRule) this.evictStalest();
        s = slots.alloc(t);
        this.keys.insert(key, s);
      }
      this.lastKey = key;
      this.lastSlot = s;
    }

    const ii = slots.inc(s);
    if (ii !== NONE) {
      const inc = this.incidents.get(ii);
      // A late event still inside the burst's window belongs to it, even with a short
      // cooldown: closing the incident for it would open a second, overlapping one.
      if (t >= inc.first - this.horizonMs && t <= inc.last + this.cooldownMs) {
        absorb(inc, ev, this.limits);
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
    this.keys.removeWhere((s) => this.newest(s) + this.horizonMs < watermark, (s) => this.release(s));
    this.lastSlot = NONE;
    this.lastKey = null;
  }


  /** End of input: closes every open incident. */
  flush(): void {
    this.keys.eachKey((s) => {
      if (this.slots.inc(s) !== NONE) this.close(s);
    });
    this.keys.clear();
    this.slots.clear();
    this.ring.clear();
    this.incidents.clear();
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
    const max = persistTextChars(this.limits);
    const cut = this.size > maxKeys ? this.newestCut(maxKeys) : -Infinity;
    const take = (s: number, str: string): void => {
      const ii = this.slots.inc(s);
      const inc = ii === NONE ? null : this.incidents.get(ii);
      out.push(keySnapshot(str, this.slots.maxT(s), windowEvents(this.slots, this.ring, s), inc, max));
    };
    // Newer than the cut first, then ties at it up to maxKeys, as for evictions: taken in
    // table order, ties could crowd out newer keys.
    this.keys.eachKey((s, ip, str) => {
      if (this.newest(s) > cut) take(s, str ?? ipv4String(ip));
    });
    if (cut !== -Infinity) {
      this.keys.eachKey((s, ip, str) => {
        if (out.length < maxKeys && this.newest(s) === cut) take(s, str ?? ipv4String(ip));
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
    this.keys.eachKey((s) => {
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
      if (this.keys.lookup(k.key) !== NONE) continue;
      const s = slots.alloc(k.maxT);
      this.keys.insert(k.key, s);
      const hits = restoredHits(k, this.windowMs, this.threshold);
      const { arr, at } = slots.timesOf(s);
      let seq = NONE;
      hits.forEach((hit, i) => {
        arr[at + i] = k.maxT - hit[0];
        seq = this.ring.push(hitEvent(rule, hit), seq);
      });
      slots.setCount(s, hits.length);
      slots.setLastSeq(s, seq);
      if (k.incident !== null) slots.setInc(s, this.incidents.add(restoredIncident(k.key, k.incident)));
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
    this.keys.eachKey((s, ip, str) => {
      if (this.newest(s) < cut) victims.push([ip, str, s]);
    });
    if (victims.length < want) {
      this.keys.eachKey((s, ip, str) => {
        if (victims.length < want && this.newest(s) === cut) victims.push([ip, str, s]);
      });
    }
    for (const [ip, str, s] of victims) {
      this.release(s);
      this.keys.deleteAt(ip, str);
    }
    this.stats.evictedKeys += victims.length;
    this.lastSlot = NONE;
    this.lastKey = null;
  }

  /** Frees a key's slot, closing its incident first; the caller forgets the key. */
  private release(s: number): void {
    if (this.slots.inc(s) !== NONE) this.close(s);
    this.slots.release(s);
  }

  private newest(s: number): number {
    const ii = this.slots.inc(s);
    const maxT = this.slots.maxT(s);
    return ii === NONE ? maxT : Math.max(maxT, this.incidents.get(ii).last);
  }

  private fire(key: string, s: number, t: number): void {
    const slots = this.slots;
    const { arr, at } = slots.timesOf(s);
    const n = slots.count(s);
    const maxT = slots.maxT(s);
    const inc = openIncident(this.rule.spec.name, key, maxT - arr[at]!, maxT - arr[at + n - 1]!, t);
    for (const { t: time, ev } of windowEvents(slots, this.ring, s)) {
      if (ev !== undefined) absorb(inc, ev, this.limits);
      else absorbTime(inc, time);
    }
    slots.setCount(s, 0);
    slots.setLastSeq(s, NONE);
    slots.setInc(s, this.incidents.add(inc));
    this.stats.incidents++;
    this.listener.opened(incidentView(inc, this.rule.spec));
  }

  private close(s: number): void {
    const inc = this.incidents.take(this.slots.inc(s));
    this.slots.setInc(s, NONE);
    this.listener.closed(incidentView(inc, this.rule.spec));
  }

  /** The incidents open now (e.g. restored from a checkpoint), for a view of them. */
  listOpenIncidents(): Incident[] {
    return this.incidents.list().map((inc) => incidentView(inc, this.rule.spec));
  }

  /** The current state of the incident open for `key` ('' for a host-wide rule), or null. */
  openIncidentOf(key: string): Incident | null {
    const s = this.keys.lookup(key);
    const ii = s === NONE ? NONE : this.slots.inc(s);
    return ii === NONE ? null : incidentView(this.incidents.get(ii), this.rule.spec);
  }
}
