// A rule's keys -> their window slots: IPv4 keys (the usual key) as 32-bit numbers in an
// Ipv4Index, never as strings; any other key in an ordinary Map. It owns the order keys
// are walked in, which checkpoints and evictions depend on. It never touches the slots
// themselves (window.ts frees them) and stays pure: no IO, no clock.

import { Ipv4Index, NONE, ipv4Number } from './window-store.js';

export class KeyIndex {
  private readonly ips = new Ipv4Index();
  private readonly strs = new Map<string, number>();

  get size(): number {
    return this.ips.size + this.strs.size;
  }

  /** The key's slot, or NONE. */
  lookup(key: string): number {
    const n = ipv4Number(key);
    if (n >= 0) return this.ips.get(n);
    return this.strs.get(key) ?? NONE;
  }

  insert(key: string, s: number): void {
    const n = ipv4Number(key);
    if (n >= 0) this.ips.set(n, s);
    else this.strs.set(key, s);
  }

  /** Forgets a key as eachKey() named it: by its number (str null) or its string. */
  deleteAt(ip: number, str: string | null): void {
    if (str === null) this.ips.delete(ip);
    else this.strs.delete(str);
  }

  /**
   * Keys in a stable order: string keys as they came (ip -1), then IPv4 keys as numbers
   * (str null). Checkpoints and evictions walk every key but name only the few they keep
   * or drop: making a string per key cost a million strings per checkpoint (every 2 s)
   * under a 1M-address flood, and about 1 s per export of 400,000 keys.
   */
  eachKey(fn: (slot: number, ip: number, str: string | null) => void): void {
    for (const [key, s] of this.strs) fn(s, -1, key);
    this.ips.forEach((k, s) => fn(s, k, null));
  }

  /**
   * Forgets every key whose slot is stale, IPv4 keys first, then string keys; gone(slot)
   * runs for each just before its key is forgotten.
   */
  removeWhere(stale: (slot: number) => boolean, gone: (slot: number) => void): void {
    // The IPv4 table must not change during its walk (backward-shift deletion moves entries).
    const ips: number[] = [];
    this.ips.forEach((k, s) => {
      if (stale(s)) ips.push(k);
    });
    for (const k of ips) {
      gone(this.ips.get(k));
      this.ips.delete(k);
    }
    for (const [key, s] of this.strs) {
      if (!stale(s)) continue;
      gone(s);
      this.strs.delete(key);
    }
  }

  clear(): void {
    this.ips.clear();
    this.strs.clear();
  }
}
