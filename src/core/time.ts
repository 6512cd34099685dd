// Calendar arithmetic for log timestamps. Pure: no wall clock is read here. A zone's UTC
// offset comes from Intl (the ICU tables shipped with Node) and is cached per zone and
// hour, so the per-line cost of a local-time stamp is one Map lookup.

export const MONTHS: Readonly<Record<string, number>> = Object.freeze({
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
});

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Wall-clock fields read as if they were UTC; NaN when a field is out of range. */
export function civilToMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60 || !(h >= 0 && mi >= 0 && s >= 0)) {
    return NaN;
  }
  return daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * 60_000 + Math.min(s, 59) * 1000 + ms;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_MAX = 100_000;

/** Throws RangeError for a zone ICU does not know. */
export function checkTimeZone(tz: string): void {
  formatterFor(tz);
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** UTC offset (ms, east positive) of a zone at an instant. Offsets change on whole minutes; cached per hour. */
export function offsetAt(utcMs: number, tz: string): number {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  let cache = offsetCache.get(tz);
  if (cache === undefined) {
    cache = new Map();
    offsetCache.set(tz, cache);
  }
  const bucket = Math.floor(utcMs / HOUR);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const parts = formatterFor(tz).formatToParts(new Date(bucket * HOUR));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const wall = civilToMs(get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second'));
  const off = wall - bucket * HOUR;
  if (cache.size >= OFFSET_CACHE_MAX) cache.clear();
  cache.set(bucket, off);
  return off;
}

/**
 * Converts a wall-clock time in a zone to UTC. In a repeated hour (autumn) the earlier,
 * summer-time reading wins, as most syslog readers do; a time inside a DST gap (spring)
 * is read with the offset after the gap.
 */
export function zonedToUtc(wallMs: number, tz: string): number {
  if (tz === 'UTC' || tz === 'Etc/UTC' || Number.isNaN(wallMs)) return wallMs;
  const before = offsetAt(wallMs - DAY, tz);
  const after = offsetAt(wallMs + DAY, tz);
  const t1 = wallMs - before;
  if (before === after) return t1;
  const t2 = wallMs - after;
  const ok1 = offsetAt(t1, tz) === before;
  const ok2 = offsetAt(t2, tz) === after;
  if (ok1 && ok2) return Math.min(t1, t2);
  if (ok1) return t1;
  if (ok2) return t2;
  return t2;
}

/** "+01:00" / "Z" / "+0100" / "-05" -> offset ms; NaN when malformed. */
export function parseOffset(s: string): number {
  if (s === 'Z' || s === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(s);
  if (m === null) return NaN;
  const v = (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
  return m[1] === '-' ? -v : v;
}

/**
 * Year inference for stamps without one: the latest year that puts the stamp at or before
 * ref (+1 day of slack) and in which the date exists (Feb 29 goes back to a leap year).
 */
export function inferYear(mo: number, d: number, h: number, mi: number, s: number, ctxYearRef: number, refMs: number, tz: string): number {
  // One day of slack absorbs clock skew and a mis-set zone; a file spanning New Year has
  // December lines far "after" a January mtime, which puts them in the previous year.
  for (let y = ctxYearRef; y > ctxYearRef - 8; y--) {
    const t = zonedToUtc(civilToMs(y, mo, d, h, mi, s), tz);
    if (!Number.isNaN(t) && t <= refMs + DAY) return y;
  }
  return ctxYearRef;
}

const isoCache = new Map<number, string>();

/** ISO-8601 UTC with seconds (milliseconds only when present), as reports print it. */
export function isoUtc(ms: number): string {
  // The same few instants are printed many times (an incident's first, last and samples).
  let s = isoCache.get(ms);
  if (s !== undefined) return s;
  s = new Date(ms).toISOString();
  if (ms % 1000 === 0) s = s.replace('.000Z', 'Z');
  if (isoCache.size >= 4096) isoCache.clear();
  isoCache.set(ms, s);
  return s;
}

/** Year (UTC) of an instant, for year inference. */
export function yearOf(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

/** "2025-10-14T12:01:10" in the given zone (no offset suffix), as the prototype printed. */
export function wallTime(ms: number, tz: string): string {
  return new Date(ms + offsetAt(ms, tz)).toISOString().slice(0, 19);
}
