// A damaged file logward reads back (its state file, its incident journal) is kept for a
// post-mortem before anything replaces it: the bytes as read go to `<file>.damaged-<time>`,
// next to it, never over an earlier copy. It never decides what is damaged and never
// throws: a copy that cannot be written is reported to the caller, which starts anyway.

import { publishFilesExclusive } from './atomic-write.js';
import { describeSystemError } from './errors.js';

export type KeptAside = { kept: string; error: null } | { kept: null; error: string };

/** The name of the copy: `<file>.damaged-<ISO time>`, as for the outbox's damaged files. */
export function damagedName(file: string, nowMs: number): string {
  return `${file}.damaged-${new Date(nowMs).toISOString()}`;
}

/** Writes `data` (the file as read) to its `.damaged-<time>` copy; a name taken gets _2, _3, ... */
export function keepAside(file: string, data: string | Uint8Array, nowMs: number): KeptAside {
  const base = damagedName(file, nowMs);
  try {
    const suffix = publishFilesExclusive([{ name: (s) => `${base}${s}`, data }], 0o640);
    return { kept: `${base}${suffix}`, error: null };
  } catch (err) {
    return { kept: null, error: describeSystemError(err) };
  }
}
