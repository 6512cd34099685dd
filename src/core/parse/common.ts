// Helpers shared by the line parsers: fixed-width digit reads and the ISO-8601 stamp.
// Parsers return null for a line they do not accept; they never throw on any input.

import type { TimeContext } from '../types.js';
import { civilToMs, offsetAt, parseOffset, yearOf, zonedToUtc } from '../time.js';

/**
 * A source's time settings plus the per-source memo the parsers keep (the last syslog
 * stamp and its instant): busy logs repeat one stamp on many consecutive lines.
 */
export class ParseContext implements TimeContext {
  readonly timeZone: string;
  readonly year: number | null;
  readonly refMs: number;
  /** The reference instant's year in the source's zone (year inference). */
  readonly refYear: number;
  /** minuteKey() of the last RFC 3164 stamp read, and the instant of its minute. */
  lastMinuteKey = -1;
  lastMinuteTime = NaN;

  constructor(t: TimeContext) {
    this.timeZone = t.timeZone;
    this.year = t.year;
    this.refMs = t.refMs;
    this.refYear = yearOf(t.refMs + offsetAt(t.refMs, t.timeZone));
  }
}

/** Two ASCII digits at i, or -1. */
export function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Four ASCII digits at i, or -1. */
export function d4(s: string, i: number): number {
  const a = d2(s, i);
  const b = d2(s, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

/** Fraction digits starting at i (after the dot): [milliseconds, index after the digits]. */
export function fraction(s: string, i: number): [number, number] {
  let j = i;
  let ms = 0;
  let scale = 100;
  while (j < s.length) {
    const c = s.charCodeAt(j) - 48;
    if (c < 0 || c > 9) break;
    if (scale >= 1) ms += c * scale;
    scale /= 10;
    j++;
  }
  return [Math.floor(ms), j];
}

const ISO_OFFSET = /^(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * "2024-03-01T10:00:00.123456+01:00" (also with a space instead of T, without fraction or
 * offset) -> epoch ms; a stamp without offset is read in ctx.timeZone. NaN when malformed.
 */
export function parseIsoStamp(s: string, ctx: ParseContext): number {
  if (s.length < 19) return NaN;
  const y = d4(s, 0);
  const mo = d2(s, 5);
  const d = d2(s, 8);
  const h = d2(s, 11);
  const mi = d2(s, 14);
  const sec = d2(s, 17);
  const sep = s.charCodeAt(10);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 32 && sep !== 116) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return NaN;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44) [ms, i] = fraction(s, i + 1);
  const wall = civilToMs(y, mo, d, h, mi, sec, ms);
  if (i === s.length) return zonedToUtc(wall, ctx.timeZone);
  const off = s.slice(i);
  if (!ISO_OFFSET.test(off)) return NaN;
  return wall - parseOffset(off);
}
