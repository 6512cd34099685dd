// The cache of online answers: one JSON file shared by scan, run and digest, across
// restarts and across processes running at once. Saving merges with what is on disk
// (per address the newest fetch wins), under a lock file, then writes a temporary file and
// renames it over the old one, so a reader sees a whole file and no process loses what
// another saved. Entries expire after a TTL (failures after a short negative TTL); beyond
// the size cap the least recently used go first. A corrupt file is moved aside with a
// warning and replaced: the cache never stops a run.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { systemClock, type Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import type { ProviderAnswer, ProviderName } from './provider.js';

export const CACHE_VERSION = 1;

export interface CacheEntry {
  /** When the provider was asked (ms since the epoch). */
  readonly fetched: number;
  /** Last time a lookup used it, for least-recently-used eviction. */
  used: number;
  readonly provider: ProviderName;
  /** The answer, or null for a failed lookup (a negative entry). */
  readonly answer: ProviderAnswer | null;
  /** Why a negative entry failed. */
  readonly error?: string;
}

export interface CacheOptions {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly maxEntries: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Longest wait for another process's lock before saving without it (default 5 s). */
  readonly lockWaitMs?: number;
  /**
   * Wall time for the lock: its wait deadline and the age of a lock file, which is
   * compared with the file's mtime. Not `clock`, which tests pin or move by hours: a
   * pinned clock would never reach the deadline. Default systemClock.
   */
  readonly lockClock?: Clock;
}

/** A lock file older than this is left over from a crash and is broken. */
const STALE_LOCK_MS = 30_000;

export class OriginCache {
  /** Insertion order is recency: a hit moves an entry to the end. */
  private readonly entries = new Map<string, CacheEntry>();
  private dirty = false;

  private constructor(readonly file: string, private readonly opts: CacheOptions) {}

  /** Reads the cache file (a missing one is an empty cache; a corrupt one is moved aside). */
  static open(file: string, opts: CacheOptions): OriginCache {
    const c = new OriginCache(file, opts);
    const disk = c.readDisk();
    const now = opts.clock.now();
    const sorted = [...disk.entries()].filter(([, e]) => c.fresh(e, now)).sort((a, b) => a[1].used - b[1].used);
    for (const [ip, e] of sorted.slice(-opts.maxEntries)) c.entries.set(ip, e);
    return c;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A fresh entry for the address (marking it used), or null. */
  get(ip: string): CacheEntry | null {
    const e = this.entries.get(ip);
    if (e === undefined) return null;
    const now = this.opts.clock.now();
    if (!this.fresh(e, now)) {
      this.entries.delete(ip);
      return null;
    }
    e.used = now;
    this.entries.delete(ip);
    this.entries.set(ip, e);
    this.dirty = true;
    return e;
  }

  /** Stores an online answer (or, with answer null, a failure). */
  set(ip: string, provider: ProviderName, answer: ProviderAnswer | null, error?: string): void {
    const now = this.opts.clock.now();
    this.entries.delete(ip);
    this.entries.set(ip, error === undefined ? { fetched: now, used: now, provider, answer } : { fetched: now, used: now, provider, answer, error });
    this.dirty = true;
    this.evict(this.entries);
  }

  /**
   * Merges with the file on disk and writes it back atomically. Never throws: a failure
   * is logged and the entries stay in memory for the next save. Returns true when written.
   */
  save(): boolean {
    if (!this.dirty) return true;
    let unlock: (() => void) | null = null;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      unlock = this.lock();
      const disk = this.readDisk();
      const now = this.opts.clock.now();
      const merged = new Map<string, CacheEntry>();
      for (const [ip, e] of disk) if (this.fresh(e, now)) merged.set(ip, e);
      for (const [ip, e] of this.entries) {
        const d = merged.get(ip);
        if (d === undefined || e.fetched >= d.fetched) merged.set(ip, d === undefined ? e : { ...e, used: Math.max(e.used, d.used) });
        else d.used = Math.max(e.used, d.used);
      }
      const ordered = new Map([...merged.entries()].sort((a, b) => a[1].used - b[1].used));
      this.evict(ordered);
      writeFileAtomic(this.file, (write) => {
        write(`{"version":${CACHE_VERSION},"entries":{`);
        let first = true;
        for (const [ip, e] of ordered) {
          write(`${first ? '' : ','}\n${JSON.stringify(ip)}:${JSON.stringify(e)}`);
          first = false;
        }
        write('\n}}\n');
      }, 0o640);
      // Keep what other processes learned too, in the same recency order.
      this.entries.clear();
      for (const [ip, e] of ordered) this.entries.set(ip, e);
      this.dirty = false;
      return true;
    } catch (err) {
      this.opts.log.warn({ file: this.file }, `cannot save the IP cache ${this.file} (${describeSystemError(err)}); answers stay in memory and are saved next time`);
      return false;
    } finally {
      unlock?.();
    }
  }

  private fresh(e: CacheEntry, now: number): boolean {
    return now - e.fetched < (e.answer === null ? this.opts.negativeTtlMs : this.opts.ttlMs);
  }

  /** Drops the least recently used (the first in the map) beyond the cap. */
  private evict(m: Map<string, CacheEntry>): void {
    let over = m.size - this.opts.maxEntries;
    if (over <= 0) return;
    for (const ip of m.keys()) {
      if (over-- <= 0) break;
      m.delete(ip);
    }
  }

  /** The entries on disk; a missing file is empty, a corrupt one is moved aside (and empty). */
  private readDisk(): Map<string, CacheEntry> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.opts.log.warn({ file: this.file }, `cannot read the IP cache ${this.file} (${describeSystemError(err)}); starting with an empty cache`);
      }
      return new Map();
    }
    const entries = parseCache(text);
    if (entries !== null) return entries;
    const aside = `${this.file}.corrupt-${new Date(this.opts.clock.now()).toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
    try {
      fs.renameSync(this.file, aside);
      this.opts.log.warn({ file: this.file, movedTo: aside }, `the IP cache ${this.file} is corrupt; moved it to ${aside} and starting with an empty cache`);
    } catch (err) {
      this.opts.log.warn({ file: this.file }, `the IP cache ${this.file} is corrupt and cannot be moved aside (${describeSystemError(err)}); it will be replaced`);
    }
    return new Map();
  }

  /** Takes `<file>.lock` (O_EXCL), waiting for another process to release it. */
  private lock(): () => void {
    const lockFile = `${this.file}.lock`;
    const wall = this.opts.lockClock ?? systemClock;
    const deadline = wall.now() + (this.opts.lockWaitMs ?? 5000);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      try {
        const fd = fs.openSync(lockFile, 'wx', 0o640);
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        return () => fs.rmSync(lockFile, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      try {
        if (wall.now() - fs.statSync(lockFile).mtimeMs > STALE_LOCK_MS) {
          fs.rmSync(lockFile, { force: true });
          continue;
        }
      } catch {
        continue; // released meanwhile
      }
      if (wall.now() >= deadline) {
        this.opts.log.warn({ file: lockFile }, `the IP cache lock ${lockFile} is held too long; saving without it`);
        return () => {};
      }
      // Saves take milliseconds: a short synchronous wait keeps save() simple to call at exit.
      Atomics.wait(sleeper, 0, 0, 5);
    }
  }
}

/** The entries of a cache file, or null when it is not one. Unreadable entries are dropped. */
export function parseCache(text: string): Map<string, CacheEntry> | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object') return null;
  const { version, entries } = doc as { version?: unknown; entries?: unknown };
  if (version !== CACHE_VERSION || entries === null || typeof entries !== 'object' || Array.isArray(entries)) return null;
  const out = new Map<string, CacheEntry>();
  for (const [ip, raw] of Object.entries(entries as Record<string, unknown>)) {
    const e = raw as Partial<CacheEntry> | null;
    if (e === null || typeof e !== 'object') continue;
    if (typeof e.fetched !== 'number' || typeof e.used !== 'number' || (e.provider !== 'ipinfo' && e.provider !== 'ipapi')) continue;
    if (e.answer === null) {
      out.set(ip, { fetched: e.fetched, used: e.used, provider: e.provider, answer: null, error: typeof e.error === 'string' ? e.error : 'failed' });
      continue;
    }
    if (e.answer === undefined || typeof e.answer !== 'object') continue;
    const a = e.answer as unknown as Record<string, unknown>;
    const s = (k: string): string | null => (typeof a[k] === 'string' ? (a[k] as string) : null);
    const asn = typeof a.asn === 'number' && Number.isInteger(a.asn) && a.asn > 0 ? a.asn : null;
    out.set(ip, { fetched: e.fetched, used: e.used, provider: e.provider, answer: { country: s('country'), region: s('region'), city: s('city'), timeZone: s('timeZone'), asn, org: s('org') } });
  }
  return out;
}
