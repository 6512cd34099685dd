// Compact per-key window storage for RuleWindow: one million keys must fit in the memory
// of a small host. A V8 Map of arrays costs ~360 bytes a key; here a key costs 4 bytes
// per timestamp plus ~40:
// - timestamps are stored as 32-bit offsets before the key's newest one (a window is at
//   most MAX_WINDOW_MS, 30 days, under 2^32 ms);
// - slots live in typed-array chunks (struct of arrays, no object per key, and no
//   doubling copy that would spike the peak memory);
// - IPv4 keys (the usual key) are held as 32-bit numbers in an open-addressing table,
//   never as strings; other keys go through an ordinary Map;
// - the events behind the timestamps (for the incident's users, hosts and samples) are
//   kept in a bounded ring per rule, chained per key; an event that left the ring only
//   loses its sample and values, never its count.

import { ipv4Number, ipv4String } from './ip.js';

const NONE = -1;

/** Slots per chunk: chunks of about 1 MB of timestamps. */
function chunkSlots(perSlot: number): number {
  let n = 16_384;
  while (n > 16 && n * perSlot * 4 > 1 << 20) n >>= 1;
  return n;
}

export class SlotStore {
  /** Timestamps per slot (the rule's threshold). */
  readonly cap: number;
  private readonly shift: number;
  private readonly mask: number;
  /** Per slot, its timestamps as milliseconds before the slot's maxT (Uint32: half the size of Float64). */
  private times: Uint32Array[] = [];
  private counts: Uint32Array[] = [];
  private maxTs: Float64Array[] = [];
  private lastSeqs: Float64Array[] = [];
  private incs: Int32Array[] = [];
  private next = 0;
  private free: number[] = [];

  constructor(cap: number) {
    this.cap = cap;
    const per = chunkSlots(cap);
    this.shift = Math.log2(per);
    this.mask = per - 1;
  }

  alloc(maxT: number): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.next++;
      if ((s >>> this.shift) >= this.times.length) {
        const per = this.mask + 1;
        this.times.push(new Uint32Array(per * this.cap));
        this.counts.push(new Uint32Array(per));
        this.maxTs.push(new Float64Array(per));
        this.lastSeqs.push(new Float64Array(per));
        this.incs.push(new Int32Array(per));
      }
    }
    const c = s >>> this.shift;
    const o = s & this.mask;
    this.counts[c]![o] = 0;
    this.maxTs[c]![o] = maxT;
    this.lastSeqs[c]![o] = NONE;
    this.incs[c]![o] = NONE;
    return s;
  }

  release(s: number): void {
    this.free.push(s);
  }

  /** Drops every slot and the memory behind them. */
  clear(): void {
    this.times = [];
    this.counts = [];
    this.maxTs = [];
    this.lastSeqs = [];
    this.incs = [];
    this.next = 0;
    this.free = [];
  }

  count(s: number): number { return this.counts[s >>> this.shift]![s & this.mask]!; }
  setCount(s: number, n: number): void { this.counts[s >>> this.shift]![s & this.mask] = n; }
  maxT(s: number): number { return this.maxTs[s >>> this.shift]![s & this.mask]!; }
  setMaxT(s: number, t: number): void { this.maxTs[s >>> this.shift]![s & this.mask] = t; }
  lastSeq(s: number): number { return this.lastSeqs[s >>> this.shift]![s & this.mask]!; }
  setLastSeq(s: number, q: number): void { this.lastSeqs[s >>> this.shift]![s & this.mask] = q; }
  inc(s: number): number { return this.incs[s >>> this.shift]![s & this.mask]!; }
  setInc(s: number, i: number): void { this.incs[s >>> this.shift]![s & this.mask] = i; }

  /** The chunk holding slot s's time offsets (maxT - t, ascending times) and the index of its first. */
  timesOf(s: number): { arr: Uint32Array; at: number } {
    return { arr: this.times[s >>> this.shift]!, at: (s & this.mask) * this.cap };
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Open addressing (linear probing, backward-shift deletion): IPv4 number -> slot. */
export class Ipv4Index {
  private keys = new Uint32Array(1024);
  private vals = new Int32Array(1024).fill(NONE);
  private mask = 1023;
  size = 0;

  get(key: number): number {
    const keys = this.keys;
    const vals = this.vals;
    let h = mix32(key) & this.mask;
    for (;;) {
      const v = vals[h]!;
      if (v === NONE) return NONE;
      if (keys[h] === key) return v;
      h = (h + 1) & this.mask;
    }
  }

  set(key: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let h = mix32(key) & this.mask;
    while (this.vals[h] !== NONE && this.keys[h] !== key) h = (h + 1) & this.mask;
    if (this.vals[h] === NONE) this.size++;
    this.keys[h] = key;
    this.vals[h] = slot;
  }

  delete(key: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = mix32(key) & mask;
    for (;;) {
      if (vals[i] === NONE) return;
      if (keys[i] === key) break;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (vals[j] === NONE) break;
      const k = mix32(keys[j]!) & mask;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      keys[i] = keys[j]!;
      vals[i] = vals[j]!;
      i = j;
    }
    vals[i] = NONE;
    this.size--;
  }

  /** Calls fn(key, slot) for every entry; fn must not change the index. */
  forEach(fn: (key: number, slot: number) => void): void {
    const keys = this.keys;
    const vals = this.vals;
    for (let h = 0; h < vals.length; h++) if (vals[h] !== NONE) fn(keys[h]!, vals[h]!);
  }

  clear(): void {
    this.keys = new Uint32Array(1024);
    this.vals = new Int32Array(1024).fill(NONE);
    this.mask = 1023;
    this.size = 0;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(NONE);
    this.mask = cap - 1;
    this.size = 0;
    for (let h = 0; h < oldVals.length; h++) if (oldVals[h] !== NONE) this.set(oldKeys[h]!, oldVals[h]!);
  }
}

/** The newest events of one rule, each linked to the previous event of its key. */
export class EventRing<E> {
  private readonly events: (E | undefined)[] = [];
  private readonly prevs: number[] = [];
  private seq = 0;

  constructor(readonly capacity: number) {}

  /** Stores ev after prev (the key's previous sequence number, or NONE); returns its number. */
  push(ev: E, prev: number): number {
    const q = this.seq++;
    const i = q % this.capacity;
    if (i === this.events.length) {
      this.events.push(ev);
      this.prevs.push(prev);
    } else {
      this.events[i] = ev;
      this.prevs[i] = prev;
    }
    return q;
  }

  /** The event numbered q, or undefined once it has left the ring. */
  get(q: number): E | undefined {
    if (q < 0 || q < this.seq - this.capacity || q >= this.seq) return undefined;
    return this.events[q % this.capacity];
  }

  prev(q: number): number {
    return this.prevs[q % this.capacity]!;
  }

  clear(): void {
    this.events.length = 0;
    this.prevs.length = 0;
    this.seq = 0;
  }
}

/**
 * A slot's window as (time, event) in time order; the event is undefined when it has left
 * the ring. The key's chain since its window last started holds exactly its window's
 * events plus older ones dropped by time, so the newest `count` with time >= the oldest
 * kept are the window.
 */
export function windowEvents<E extends { readonly time: number }>(slots: SlotStore, ring: EventRing<E>, s: number): { t: number; ev: E | undefined }[] {
  const n = slots.count(s);
  const { arr, at } = slots.timesOf(s);
  const maxT = slots.maxT(s);
  const lo = n > 0 ? maxT - arr[at]! : Infinity;
  const found: E[] = [];
  let q = slots.lastSeq(s);
  while (q !== NONE && found.length < n) {
    const ev = ring.get(q);
    if (ev === undefined) break;
    if (ev.time >= lo) found.push(ev);
    q = ring.prev(q);
  }
  found.reverse(); // arrival order; a stable sort by time then matches the window's order
  found.sort((a, b) => a.time - b.time);
  const out: { t: number; ev: E | undefined }[] = [];
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

/**
 * The k-th smallest value (0-based) of a scratch array, which it reorders: quickselect,
 * linear on average. Checkpoints and evictions need one cut among a million key times,
 * where a full sort took ~100 ms.
 */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    // Median of three as the pivot: already sorted runs (times arrive in order) stay linear.
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

export { NONE, ipv4Number, ipv4String };
