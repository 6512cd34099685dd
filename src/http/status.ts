// What the HTTP endpoint asks the daemon at each request. The daemon implements it; every
// call must be cheap (a scrape calls each once) and may throw (the request then gets 500,
// through ask(), which names the call that failed). This file must never import the runtime:
// the runtime implements this interface, not the other way round.

export interface SourceHealth {
  /** The file path or the journal source's label (log-derived: only ever a label value). */
  source: string;
  kind: 'file' | 'journal';
  lines: number;
  parsed: number;
  notParsed: number;
  events: number;
  /** Wall-clock ms of the last read that brought lines, or null before the first. */
  lastLineAt: number | null;
  /** Bytes not yet read; files only (null for the journal). */
  lagBytes: number | null;
}

export interface StatusProvider {
  sources(): SourceHealth[];
  /** Events per rule since start. */
  ruleEvents(): Record<string, number>;
  /** Keys each rule holds in its window now, and how many the key cap evicted since start. */
  ruleKeys(): Record<string, { held: number; evicted: number }>;
  incidents(): { alerted: number; open: number };
  outboxDepth(): number;
  /** Online enrichment cache counters, or null when there is no cache. */
  enrichCache(): { hits: number; misses: number } | null;
  health(): { ok: boolean; problems: string[] };
}

/** A provider call that threw, named so the 500 it causes logs which call failed. */
export class ProviderError extends Error {
  constructor(readonly call: string, cause: unknown) {
    super(`status provider ${call}() failed`, { cause });
  }
}

/** Runs one provider call, wrapping what it throws in a ProviderError that names the call. */
export function ask<T>(call: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ProviderError(call, err);
  }
}
