// Unicode knowledge of the backtracking check (see safety.ts): the exact code points of a
// \p{...} property class and the case-insensitive closure of a character set beyond ASCII.
// Both are read from this engine's own regex and case mapping tables, so they match the
// engine that runs the pattern, whatever its Unicode version. It never runs a rule's
// pattern, only \p{...} over all code points and String case mapping. Pure: no IO.

import { MAX_CP, complement, contains, foldCase, intersect, normalize, type Ranges } from './ranges.js';

/** Every non-surrogate code point in order, built once, on the first \p{...} seen. */
let everything: string | null = null;
const BMP_UNITS = 0xd800 + 0x2000; // code units of the BMP without the surrogates

function allCodePoints(): string {
  if (everything !== null) return everything;
  const units = new Uint16Array(BMP_UNITS + 2 * 0x100000);
  for (let i = 0; i < 0xd800; i++) units[i] = i;
  for (let i = 0xe000; i <= 0xffff; i++) units[i - 0x800] = i;
  let k = BMP_UNITS;
  for (let v = 0; v < 0x100000; v++) {
    units[k++] = 0xd800 + (v >> 10);
    units[k++] = 0xdc00 + (v & 0x3ff);
  }
  const parts: string[] = [];
  for (let i = 0; i < units.length; i += 8192) parts.push(String.fromCharCode(...units.subarray(i, i + 8192)));
  everything = parts.join('');
  return everything;
}

function codePointAtUnit(i: number): number {
  if (i < 0xd800) return i;
  if (i < BMP_UNITS) return i + 0x800;
  return 0x10000 + ((i - BMP_UNITS) >> 1);
}

const properties = new Map<string, Ranges>();

/**
 * The code points of \p{body} (body as written: "L", "Script=Greek"). Throws when this
 * engine does not know the property (the pattern then did not compile either).
 */
export function propertySet(body: string): Ranges {
  const known = properties.get(body);
  if (known !== undefined) return known;
  const re = new RegExp(`\\p{${body}}+`, 'gu');
  const all = allCodePoints();
  const out: [number, number][] = [];
  for (let m = re.exec(all); m !== null; m = re.exec(all)) {
    out.push([codePointAtUnit(m.index), codePointAtUnit(m.index + m[0].length - 1)]);
  }
  // Lone surrogates are code points of their own under the u flag (\p{Cs}, \p{Any}).
  const one = new RegExp(`^\\p{${body}}$`, 'u');
  for (let s = 0xd800; s <= 0xdfff; s++) if (one.test(String.fromCharCode(s))) out.push([s, s]);
  const r = normalize(out);
  properties.set(body, r);
  return r;
}

/** Each cased code point's case group (σ ς Σ, k K K), built on the first non-ASCII set folded. */
let groups: Map<number, readonly number[]> | null = null;

function single(s: string): number | null {
  const cp = s.codePointAt(0)!;
  return s.length === (cp > 0xffff ? 2 : 1) ? cp : null;
}

function images(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out: number[] = [];
  for (const t of [s.toUpperCase(), s.toLowerCase(), s.toUpperCase().toLowerCase(), s.toLowerCase().toUpperCase()]) {
    const c = single(t);
    if (c !== null && c !== cp) out.push(c);
  }
  return out;
}

function caseGroups(): Map<number, readonly number[]> {
  if (groups !== null) return groups;
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const [lo, hi] of propertySet('Changes_When_Casemapped')) {
    for (let cp = lo; cp <= hi; cp++) {
      for (const other of images(cp)) {
        const a = find(cp);
        const b = find(other);
        if (a !== b) parent.set(a, b);
      }
    }
  }
  const byRoot = new Map<number, number[]>();
  for (const cp of parent.keys()) {
    const root = find(cp);
    const list = byRoot.get(root) ?? [];
    list.push(cp);
    byRoot.set(root, list);
  }
  groups = new Map();
  for (const list of byRoot.values()) for (const cp of list) groups.set(cp, list);
  return groups;
}

/** ASCII letters whose case-insensitive match also takes a non-ASCII code point (u flag). */
const SPECIALS: readonly (readonly [number, number])[] = [[0x6b, 0x212a], [0x4b, 0x212a], [0x73, 0x17f], [0x53, 0x17f]];
const NON_ASCII: Ranges = [[0x80, MAX_CP]];
/** Past this many code points a range is checked through its complement. */
const ITERATE_MAX = 4096;

function size(r: Ranges): number {
  let n = 0;
  for (const [lo, hi] of r) n += hi - lo + 1;
  return n;
}

function uncased(cp: number): boolean {
  if (cp >= 0xd800 && cp <= 0xdfff) return true;
  const s = String.fromCodePoint(cp);
  return s.toUpperCase() === s && s.toLowerCase() === s;
}

/**
 * A superset of every code point that matches r case-insensitively, with or without the u
 * flag: what the ambiguity searches need (two sets that can read one character must meet).
 * A set holding all of the non-ASCII range but a few caseless code points (\S, dot, [^"])
 * is closed already; otherwise each cased code point brings its whole case group.
 */
export function foldOver(r: Ranges): Ranges {
  const extra: (readonly [number, number])[] = [...foldCase(r)];
  for (const [a, b] of SPECIALS) {
    if (contains(r, a)) extra.push([b, b]);
    if (contains(r, b)) extra.push([a, a], [a ^ 0x20, a ^ 0x20]);
  }
  const high = intersect(r, NON_ASCII);
  if (high.length > 0) {
    const gaps = intersect(complement(high), NON_ASCII);
    if (size(high) <= ITERATE_MAX) {
      const table = caseGroups();
      for (const [lo, hi] of high) for (let cp = lo; cp <= hi; cp++) for (const g of table.get(cp) ?? []) extra.push([g, g]);
    } else if (size(gaps) <= ITERATE_MAX) {
      // A caseless code point outside r is the case partner of nothing in r.
      for (const [lo, hi] of gaps) for (let cp = lo; cp <= hi; cp++) if (!uncased(cp)) extra.push([cp, cp]);
    } else {
      extra.push([0x80, MAX_CP]); // both sides large: rare enough to take everything
    }
  }
  return normalize([...r, ...extra]);
}
