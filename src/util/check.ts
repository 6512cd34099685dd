// Field-by-field checks of documents logward wrote itself and reads back (the state file,
// the incident journal): a value read from disk is untrusted until each field was looked
// at. It owns the vocabulary of a problem (where, as a path like
// `files["/var/log/auth.log"].offset`, and why) and the small type tests the checkers
// share. It never decides what a bad field costs (the checker drops its entry) and never
// logs: the caller reports the problems once.

/** What was wrong, in the order found; bounded so a flood of bad entries stays cheap. */
export class Problems {
  private readonly list: string[] = [];
  private total = 0;

  constructor(private readonly keep = 50) {}

  add(at: string, why: string): void {
    this.total++;
    if (this.list.length < this.keep) this.list.push(`${at}: ${why}`);
  }

  /** Problems found, including those beyond the kept list. */
  get count(): number {
    return this.total;
  }

  /** The first problems, as `path: why`. */
  get first(): readonly string[] {
    return this.list;
  }

  /** One line for a log message: the first problem, and how many more. */
  summary(): string {
    if (this.total === 0) return '';
    return this.total === 1 ? this.list[0]! : `${this.list[0]}, and ${this.total - 1} more`;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `at.name`, for a fixed field. */
export function field(at: string, name: string): string {
  return at === '' ? name : `${at}.${name}`;
}

/** `at["key"]`, for an entry of a map keyed by data (a path, a rule name); long keys are cut. */
export function entry(at: string, key: string): string {
  const k = key.length > 120 ? `${key.slice(0, 119)}…` : key;
  return `${at}[${JSON.stringify(k)}]`;
}

/** `at[i]`, for an element of a list. */
export function item(at: string, i: number): string {
  return `${at}[${i}]`;
}

/** Why v is not an object (missing, or another type), or null when it is one. */
export function notRecord(v: unknown): string | null {
  if (v === undefined) return 'missing';
  return isRecord(v) ? null : 'not an object';
}

/** Why v is not a list, or null when it is one. */
export function notList(v: unknown): string | null {
  if (v === undefined) return 'missing';
  return Array.isArray(v) ? null : 'not a list';
}

export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Why v is not a non-negative integer (a count, an offset), or null. */
export function notCount(v: unknown): string | null {
  if (v === undefined) return 'missing';
  return isCount(v) ? null : 'not a non-negative integer';
}

/** Why v is not a string (of at most max characters), or null. */
export function notString(v: unknown, max = Infinity): string | null {
  if (v === undefined) return 'missing';
  if (typeof v !== 'string') return 'not a string';
  return v.length > max ? `longer than ${max} characters` : null;
}

/** Why v is not a string or null, or null. */
export function notStringOrNull(v: unknown): string | null {
  if (v === undefined) return 'missing';
  return v === null || typeof v === 'string' ? null : 'not a string or null';
}

/**
 * Why v is not a time in ms since 1970 at or before `latest` (named `latestName` in the
 * problem), or null. A time past it is damage: a window or incident dated in the future
 * would take every later event for part of it and never alert again.
 */
export function notTime(v: unknown, latest: number, latestName = 'now'): string | null {
  if (v === undefined) return 'missing';
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return 'not a time';
  return v > latest ? `after ${latestName}` : null;
}

/** The strings of a list; other elements are reported (as at[i]) and left out. Null if v is no list. */
export function stringList(v: unknown, at: string, p: Problems): string[] | null {
  const bad = notList(v);
  if (bad !== null) {
    p.add(at, bad);
    return null;
  }
  const out: string[] = [];
  (v as unknown[]).forEach((s, i) => {
    if (typeof s === 'string') out.push(s);
    else p.add(item(at, i), 'not a string');
  });
  return out;
}
