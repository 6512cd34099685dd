// Load-time check that a rule's regex cannot backtrack catastrophically on a line an
// attacker writes. Pure: no IO.
//
// V8's regex engine backtracks, so its worst case on a failing line grows with the number
// of ways the pattern can match a prefix of it. The pattern is parsed into a small syntax
// tree, turned into a position (Glushkov) automaton, and checked for the two shapes of
// ambiguity that make backtracking blow up (Weideman et al., "Analyzing matching time
// behavior of backtracking regular expression matchers"):
//   - exponential: one loop can read the same text along two different paths, as in
//     (a+)+, (\w+\s?)+ or (a|a)* (the count doubles per repetition);
//   - polynomial: two loops one after the other can both read the same text, as in
//     \d+\d+, .*.* or an unanchored \s+$ (the engine retries at every start position, as
//     if the pattern began with [^]*?). 64 KiB against \s+$ took 4 s on Node 20.
// States from which every rest of the line is accepted are left out: on a line that fails
// they are never reached, so [^]*$ or an unanchored ending cannot be a failing suffix.
// The check is conservative: it may reject a pattern that is safe in practice (ab|ac under
// a quantifier), never the reverse within what it models. A lookaround is a side branch
// (its cost counts, what it excludes does not, except for tempered tokens, see Tempered);
// a backreference counts as one character of any kind: it compares text, it does not branch.

/** Inclusive code point ranges, sorted and disjoint. */
type Ranges = readonly (readonly [number, number])[];

const MAX_CP = 0x10ffff;
const FULL: Ranges = [[0, MAX_CP]];
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Ranges = normalize([
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
]);
const LINE_TERMINATORS: Ranges = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const DOT: Ranges = complement(LINE_TERMINATORS);

function normalize(list: (readonly [number, number])[]): Ranges {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(r: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of r) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

function intersects(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x[1] < y[0]) i++;
    else if (y[1] < x[0]) j++;
    else return true;
  }
  return false;
}

function intersect(a: Ranges, b: Ranges): Ranges {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const lo = Math.max(x[0], y[0]);
    const hi = Math.min(x[1], y[1]);
    if (lo <= hi) out.push([lo, hi]);
    if (x[1] < y[1]) i++;
    else j++;
  }
  return out;
}

function contains(r: Ranges, cp: number): boolean {
  for (const [lo, hi] of r) if (cp >= lo && cp <= hi) return true;
  return false;
}

/** ASCII case folding only: enough for log rules, and errs towards seeing more overlap. */
function foldCase(r: Ranges): Ranges {
  const extra: [number, number][] = [];
  for (const [lo, hi] of r) {
    const a = Math.max(lo, 0x41);
    const b = Math.min(hi, 0x5a);
    if (a <= b) extra.push([a + 32, b + 32]);
    const c = Math.max(lo, 0x61);
    const d = Math.min(hi, 0x7a);
    if (c <= d) extra.push([c - 32, d - 32]);
  }
  return extra.length === 0 ? r : normalize([...r, ...extra]);
}

// ---------------------------------------------------------------- syntax tree

type Node =
  | { readonly k: 'set'; readonly set: Ranges; readonly start: number; readonly end: number }
  | { readonly k: 'seq'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly alts: readonly Node[]; readonly start: number; readonly end: number }
  | { readonly k: 'group'; readonly body: Node; readonly start: number; readonly end: number }
  | { readonly k: 'look'; readonly body: Node; readonly negAhead: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'assert'; readonly dollar: boolean; readonly caret: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'rep'; readonly body: Node; readonly min: number; readonly max: number; readonly start: number; readonly end: number }
  | { readonly k: 'backref'; readonly start: number; readonly end: number };

class Parser {
  private i = 0;

  constructor(private readonly src: string, private readonly icase: boolean, private readonly unicode: boolean) {}

  parse(): Node {
    const n = this.disjunction();
    if (this.i < this.src.length) throw new Error(`unexpected "${this.src[this.i]}" at ${this.i}`);
    return n;
  }

  private disjunction(): Node {
    const start = this.i;
    const alts = [this.alternative()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.alternative());
    }
    return alts.length === 1 ? alts[0]! : { k: 'alt', alts, start, end: this.i };
  }

  private alternative(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const start = this.i;
      const atom = this.term();
      items.push(this.quantified(atom, start));
    }
    return items.length === 1 ? items[0]! : { k: 'seq', items };
  }

  private quantified(atom: Node, start: number): Node {
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (m === null) return atom; // a literal brace (Annex B)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (this.src[this.i] === '?') this.i++;
    if (atom.k === 'assert' || atom.k === 'look') return atom;
    return { k: 'rep', body: atom, min, max, start, end: this.i };
  }

  private term(): Node {
    const src = this.src;
    const start = this.i;
    const c = src[this.i]!;
    if (c === '^' || c === '$') {
      this.i++;
      return { k: 'assert', dollar: c === '$', caret: c === '^', start, end: this.i };
    }
    if (c === '(') {
      let look = false;
      const negAhead = src.startsWith('(?!', this.i);
      if (src.startsWith('(?:', this.i)) this.i += 3;
      else if (src.startsWith('(?=', this.i) || src.startsWith('(?!', this.i)) {
        this.i += 3;
        look = true;
      } else if (src.startsWith('(?<=', this.i) || src.startsWith('(?<!', this.i)) {
        this.i += 4;
        look = true;
      } else if (src.startsWith('(?<', this.i)) this.i = src.indexOf('>', this.i) + 1;
      else this.i++;
      const body = this.disjunction();
      if (src[this.i] !== ')') throw new Error(`unterminated group at ${start}`);
      this.i++;
      if (look) {
        return { k: 'look', body, negAhead, start, end: this.i };
      }
      return { k: 'group', body, start, end: this.i };
    }
    if (c === '[') return this.charClass();
    if (c === '.') {
      this.i++;
      return this.set(DOT, start);
    }
    if (c === '\\') {
      const e = src[this.i + 1];
      if (e === 'b' || e === 'B') {
        this.i += 2;
        return { k: 'assert', dollar: false, caret: false, start, end: this.i };
      }
      if (e !== undefined && /[1-9]/.test(e)) {
        this.i += 2;
        while (/[0-9]/.test(src[this.i] ?? '')) this.i++;
        return { k: 'backref', start, end: this.i };
      }
      if (e === 'k' && src[this.i + 2] === '<') {
        this.i = src.indexOf('>', this.i) + 1;
        return { k: 'backref', start, end: this.i };
      }
      return this.set(this.escape(false), start);
    }
    this.i += this.codePointLength();
    return this.set(this.single(src.codePointAt(start)!), start);
  }

  private codePointLength(): number {
    return this.unicode && (this.src.codePointAt(this.i) ?? 0) > 0xffff ? 2 : 1;
  }

  private single(cp: number): Ranges {
    return [[cp, cp]];
  }

  private set(r: Ranges, start: number): Node {
    return { k: 'set', set: this.icase ? foldCase(r) : r, start, end: this.i };
  }

  /** At a backslash; consumes the escape and returns what it matches. */
  private escape(inClass: boolean): Ranges {
    const src = this.src;
    const e = src[this.i + 1] ?? '\\';
    this.i += 2;
    switch (e) {
      case 'd': return DIGIT;
      case 'D': return complement(DIGIT);
      case 'w': return WORD;
      case 'W': return complement(WORD);
      case 's': return SPACE;
      case 'S': return complement(SPACE);
      case 't': return this.single(9);
      case 'n': return this.single(10);
      case 'v': return this.single(11);
      case 'f': return this.single(12);
      case 'r': return this.single(13);
      case '0': return this.single(0);
      case 'b': return inClass ? this.single(8) : FULL;
      case 'c': {
        const l = src.charCodeAt(this.i);
        if (/[A-Za-z]/.test(src[this.i] ?? '')) {
          this.i++;
          return this.single(l % 32);
        }
        return this.single(0x5c);
      }
      case 'x': {
        const m = /^[0-9A-Fa-f]{2}/.exec(src.slice(this.i));
        if (m === null) return this.single(0x78);
        this.i += 2;
        return this.single(parseInt(m[0], 16));
      }
      case 'u': {
        const braced = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(this.i));
        if (this.unicode && braced !== null) {
          this.i += braced[0].length;
          return this.single(parseInt(braced[1]!, 16));
        }
        const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(this.i));
        if (m === null) return this.single(0x75);
        this.i += 4;
        return this.single(parseInt(m[0], 16));
      }
      case 'p':
      case 'P': {
        if (this.unicode && src[this.i] === '{') this.i = src.indexOf('}', this.i) + 1;
        return this.unicode ? FULL : this.single(e.charCodeAt(0));
      }
      default: {
        const cp = src.codePointAt(this.i - 1)!;
        if (cp > 0xffff) this.i++;
        return this.single(cp);
      }
    }
  }

  private charClass(): Node {
    const src = this.src;
    const start = this.i;
    this.i++;
    let negate = false;
    if (src[this.i] === '^') {
      negate = true;
      this.i++;
    }
    const parts: (readonly [number, number])[] = [];
    const atomAt = (): { r: Ranges; single: number | null } => {
      if (src[this.i] === '\\') {
        const r = this.escape(true);
        return { r, single: r.length === 1 && r[0]![0] === r[0]![1] ? r[0]![0] : null };
      }
      const cp = src.codePointAt(this.i)!;
      this.i += this.unicode && cp > 0xffff ? 2 : 1;
      return { r: this.single(cp), single: cp };
    };
    while (this.i < src.length && src[this.i] !== ']') {
      const a = atomAt();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && this.i + 1 < src.length && a.single !== null) {
        this.i++;
        const b = atomAt();
        if (b.single !== null && b.single >= a.single) {
          parts.push([a.single, b.single]);
          continue;
        }
        parts.push(...a.r, [0x2d, 0x2d], ...b.r);
        continue;
      }
      parts.push(...a.r);
    }
    if (src[this.i] !== ']') throw new Error(`unterminated class at ${start}`);
    this.i++;
    let r = normalize(parts);
    if (this.icase) r = foldCase(r);
    if (negate) r = complement(r);
    return { k: 'set', set: r, start, end: this.i };
  }
}

// ---------------------------------------------------------------- position automaton

interface Loop {
  readonly start: number;
  readonly end: number;
}

interface Position {
  readonly set: Ranges;
  readonly start: number;
  readonly end: number;
  /** Unbounded quantifiers around this position, innermost first (source ranges). */
  readonly loops: readonly Loop[];
}

interface Info {
  /** Can match empty treating every assertion as true. */
  readonly nullable: boolean;
  /** Can match empty passing no assertion but $. */
  readonly nullableDollar: boolean;
  /** Can match empty passing no assertion at all. */
  readonly nullableFree: boolean;
  readonly first: readonly number[];
  readonly last: readonly number[];
  readonly lastDollar: readonly number[];
  readonly lastFree: readonly number[];
}

/** Counted repetitions are unrolled up to this many positions, then read as unbounded. */
const UNROLL_BUDGET = 600;
/** Patterns larger than this are not checked exhaustively (they are rejected). */
const MAX_POSITIONS = 4000;

/**
 * A tempered token such as (?:(?! rhost=).)* never reads a character where its
 * lookahead text starts. Where that same text occurs in the pattern (" rhost=" right after
 * the loop), two paths cannot read one character, one in the loop and one entering that
 * text: without this, every such "free text up to a keyword" would look ambiguous.
 */
interface Tempered {
  readonly texts: readonly string[];
}

class Automaton {
  readonly positions: Position[] = [];
  readonly follow: Set<number>[] = [];
  /**
   * Edges added by two different constructs, as a -> a by both loops of (a+)+: the
   * position automaton merges them, but the engine tries each, so they are two paths.
   */
  readonly doubled: [number, number][] = [];
  /** Per position, the tempered tokens it is the loop character of / the guarded text starts at. */
  readonly loopOf = new Map<number, Set<number>>();
  readonly entryOf = new Map<number, Set<number>>();
  private readonly tempered = new Map<Node, number>();
  private readonly temperedList: Tempered[] = [];
  private active: number[] = [];

  constructor(private readonly source: string) {}

  findTempered(n: Node): void {
    switch (n.k) {
      case 'rep': {
        const texts = n.max === Infinity ? temperedTexts(this.source, n.body) : null;
        if (texts !== null) {
          this.tempered.set(n, this.temperedList.length);
          this.temperedList.push({ texts });
        }
        this.findTempered(n.body);
        return;
      }
      case 'group': case 'look': this.findTempered(n.body); return;
      case 'seq': n.items.forEach((x) => this.findTempered(x)); return;
      case 'alt': n.alts.forEach((x) => this.findTempered(x)); return;
      default:
    }
  }

  /** True when two paths cannot read the same character through positions a and b. */
  excluded(a: number, b: number): boolean {
    return meets(this.loopOf.get(a), this.entryOf.get(b)) || meets(this.loopOf.get(b), this.entryOf.get(a));
  }

  private markGuards(items: readonly Node[], infos: readonly Info[]): void {
    if (this.temperedList.length === 0) return;
    for (let i = 0; i < items.length; i++) {
      const from = nodeStart(items[i]!);
      if (from < 0) continue;
      for (let j = i; j < items.length; j++) {
        const text = this.source.slice(from, nodeEnd(items[j]!));
        this.temperedList.forEach((t, id) => {
          if (!t.texts.includes(text)) return;
          for (let k = i; k <= j; k++) {
            for (const p of infos[k]!.first) addTo(this.entryOf, p, id);
            if (!infos[k]!.nullable) break;
          }
        });
      }
    }
  }

  build(n: Node, loops: readonly Loop[]): Info {
    switch (n.k) {
      case 'set': {
        const p = this.add(n.set, n.start, n.end, loops);
        for (const id of this.active) addTo(this.loopOf, p, id);
        return this.leaf(p);
      }
      case 'backref': {
        // It compares text, it does not branch: one way to match, linear in the group's length.
        const p = this.add(FULL, n.start, n.end, loops);
        return { ...this.leaf(p), nullable: true, nullableDollar: true, nullableFree: true };
      }
      case 'assert':
        return { nullable: true, nullableDollar: n.dollar, nullableFree: false, first: [], last: [], lastDollar: [], lastFree: [] };
      case 'look': {
        // A side branch that ends nowhere: what the lookaround reads costs time at every
        // position it is tried from, but never lets the pattern go on from where it ended.
        const saved = this.active;
        this.active = [];
        const body = this.build(n.body, loops);
        this.active = saved;
        return { nullable: true, nullableDollar: false, nullableFree: false, first: body.first, last: [], lastDollar: [], lastFree: [] };
      }
      case 'group':
        return this.build(n.body, loops);
      case 'alt': {
        const infos = n.alts.map((a) => this.build(a, loops));
        return {
          nullable: infos.some((x) => x.nullable),
          nullableDollar: infos.some((x) => x.nullableDollar),
          nullableFree: infos.some((x) => x.nullableFree),
          first: infos.flatMap((x) => x.first),
          last: infos.flatMap((x) => x.last),
          lastDollar: infos.flatMap((x) => x.lastDollar),
          lastFree: infos.flatMap((x) => x.lastFree),
        };
      }
      case 'seq': {
        let acc: Info | null = null;
        const infos = n.items.map((item) => this.build(item, loops));
        for (const x of infos) acc = acc === null ? x : this.concat(acc, x);
        this.markGuards(n.items, infos);
        return acc ?? { nullable: true, nullableDollar: true, nullableFree: true, first: [], last: [], lastDollar: [], lastFree: [] };
      }
      case 'rep': {
        const id = this.tempered.get(n);
        if (id === undefined) return this.rep(n, loops);
        const saved = this.active;
        this.active = [...saved, id];
        const info = this.rep(n, loops);
        this.active = saved;
        return info;
      }
    }
  }

  private rep(n: Extract<Node, { k: 'rep' }>, loops: readonly Loop[]): Info {
    const size = countPositions(n.body);
    let { min, max } = n;
    // Unrolling a{2,5} is exact; beyond the budget read it as a+ / a*, which can only add
    // ambiguity (the check stays on the safe side).
    if (size * Math.min(max === Infinity ? min + 1 : max, 1e9) > UNROLL_BUDGET) {
      max = Infinity;
      min = Math.min(min, 1);
    }
    const parts: Info[] = [];
    for (let i = 0; i < min - (max === Infinity && min > 0 ? 1 : 0); i++) parts.push(this.build(n.body, loops));
    if (max === Infinity) {
      const inner = [{ start: n.start, end: n.end }, ...loops];
      const x = this.build(n.body, inner);
      for (const l of x.last) for (const f of x.first) this.link(l, f);
      parts.push(min > 0 ? x : { ...x, nullable: true, nullableDollar: true, nullableFree: true });
    } else {
      // (a(a(a)?)?)? for the optional copies, so a{0,3} has no two ways to read "aa".
      let opt: Info | null = null;
      const copies: Info[] = [];
      for (let i = min; i < max; i++) copies.push(this.build(n.body, loops));
      for (let i = copies.length - 1; i >= 0; i--) {
        const x: Info = opt === null ? copies[i]! : this.concat(copies[i]!, opt);
        opt = { ...x, nullable: true, nullableDollar: true, nullableFree: true };
      }
      if (opt !== null) parts.push(opt);
    }
    let acc: Info | null = null;
    for (const x of parts) acc = acc === null ? x : this.concat(acc, x);
    return acc ?? { nullable: true, nullableDollar: true, nullableFree: true, first: [], last: [], lastDollar: [], lastFree: [] };
  }

  private concat(a: Info, b: Info): Info {
    for (const l of a.last) for (const f of b.first) this.link(l, f);
    return {
      nullable: a.nullable && b.nullable,
      nullableDollar: a.nullableDollar && b.nullableDollar,
      nullableFree: a.nullableFree && b.nullableFree,
      first: a.nullable ? [...a.first, ...b.first] : a.first,
      last: b.nullable ? [...b.last, ...a.last] : b.last,
      lastDollar: b.nullableDollar ? [...b.lastDollar, ...a.lastDollar] : b.lastDollar,
      lastFree: b.nullableFree ? [...b.lastFree, ...a.lastFree] : b.lastFree,
    };
  }

  link(from: number, to: number): void {
    const f = this.follow[from]!;
    if (f.has(to)) this.doubled.push([from, to]);
    else f.add(to);
  }

  add(set: Ranges, start: number, end: number, loops: readonly Loop[]): number {
    if (this.positions.length >= MAX_POSITIONS) throw new TooComplex();
    this.positions.push({ set, start, end, loops });
    this.follow.push(new Set());
    return this.positions.length - 1;
  }

  private leaf(p: number): Info {
    return { nullable: false, nullableDollar: false, nullableFree: false, first: [p], last: [p], lastDollar: [p], lastFree: [p] };
  }
}

function addTo(map: Map<number, Set<number>>, key: number, id: number): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(id);
}

function meets(a: Set<number> | undefined, b: Set<number> | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

function nodeStart(n: Node): number {
  if (n.k === 'seq') return n.items.length === 0 ? -1 : nodeStart(n.items[0]!);
  return n.start;
}

function nodeEnd(n: Node): number {
  if (n.k === 'seq') return n.items.length === 0 ? -1 : nodeEnd(n.items[n.items.length - 1]!);
  return n.end;
}

/** The lookahead texts of a tempered token body (?:(?!A|B).), or null for anything else. */
function temperedTexts(source: string, body: Node): string[] | null {
  while (body.k === 'group') body = body.body;
  if (body.k !== 'seq' || body.items.length !== 2) return null;
  const [look, ch] = body.items;
  if (look!.k !== 'look' || !look!.negAhead || ch!.k !== 'set') return null;
  const inner = look!.body;
  if (inner.k === 'alt') return inner.alts.map((a) => source.slice(nodeStart(a), nodeEnd(a)));
  return [source.slice(look!.start + 3, look!.end - 1)];
}

function countPositions(n: Node): number {
  switch (n.k) {
    case 'set': case 'backref': return 1;
    case 'assert': case 'look': return 0;
    case 'group': return countPositions(n.body);
    case 'alt': return n.alts.reduce((s, a) => s + countPositions(a), 0);
    case 'seq': return n.items.reduce((s, a) => s + countPositions(a), 0);
    case 'rep': return countPositions(n.body) * Math.max(1, Math.min(n.max === Infinity ? n.min + 1 : n.max, 1e6));
  }
}

class TooComplex extends Error {}

function startsAnchored(n: Node): boolean {
  switch (n.k) {
    case 'assert': return n.caret;
    case 'group': return startsAnchored(n.body);
    case 'seq': return n.items.length > 0 && startsAnchored(n.items[0]!);
    case 'alt': return n.alts.every(startsAnchored);
    default: return false;
  }
}

// ---------------------------------------------------------------- analysis

export type BacktrackKind = 'nested' | 'alternation' | 'ambiguous' | 'adjacent' | 'unanchored' | 'too-complex';

export interface BacktrackRisk {
  readonly kind: BacktrackKind;
  /** The offending part of the source, e.g. "(\w+\s?)+". */
  readonly part: string;
  /** One sentence for the rule author: what is wrong and how to rewrite it. */
  readonly message: string;
}

/**
 * Returns why `source` can backtrack catastrophically, or null when it cannot. The
 * pattern must already compile (call this after new RegExp succeeded).
 */
export function backtrackRisk(source: string, flags = ''): BacktrackRisk | null {
  // A config load compiles each rule set twice (load, then selection) and a reload again;
  // the check takes up to ~10 ms for a long pattern, so remember the answers.
  const key = `${flags}/${source}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const risk = check(source, flags);
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, risk);
  return risk;
}

const MEMO_MAX = 4096;
const memo = new Map<string, BacktrackRisk | null>();

function check(source: string, flags: string): BacktrackRisk | null {
  const icase = flags.includes('i');
  const unicode = flags.includes('u') || flags.includes('v');
  let tree: Node;
  let parser: Parser;
  try {
    parser = new Parser(source, icase, unicode);
    tree = parser.parse();
  } catch {
    return null; // the engine accepted it; an exotic syntax this parser does not model
  }
  try {
    return analyse(source, tree, !startsAnchored(tree), flags.includes('s'));
  } catch (err) {
    if (!(err instanceof TooComplex)) throw err;
    return { kind: 'too-complex', part: source, message: 'is too large to check for catastrophic backtracking; split it into smaller patterns or use fewer counted repetitions' };
  }
}

function analyse(source: string, tree: Node, unanchored: boolean, dotAll: boolean): BacktrackRisk | null {
  const a = new Automaton(source);
  a.findTempered(tree);
  // Position 0 stands for the engine retrying at every start: [^]*? before the pattern.
  const retry = a.add(FULL, 0, 0, [{ start: -1, end: -1 }]);
  if (unanchored) a.follow[retry]!.add(retry);
  const info = a.build(dotAll ? withDotAll(tree) : tree, []);
  if (info.nullableFree) return null; // matches the empty string anywhere: never fails
  const n = a.positions.length;
  const initial = n; // a virtual state before anything is read
  const follow: number[][] = a.follow.map((s) => [...s]);
  follow.push(unanchored ? [retry, ...info.first] : [...info.first]);
  if (unanchored) for (const f of info.first) a.follow[retry]!.add(f);
  follow[retry] = [...a.follow[retry]!];
  const lastFree = new Set(info.lastFree);
  const lastDollar = new Set(info.lastDollar);

  const universal = universalStates(a.positions, follow, lastFree, lastDollar);
  const dead = (p: number): boolean => universal[p] === true;

  // Reachable states, transitions without the universal ones.
  const succ: number[][] = follow.map((list) => list.filter((p) => !dead(p)));
  const reach = new Uint8Array(n + 1);
  const stack = [initial];
  reach[initial] = 1;
  while (stack.length > 0) {
    const s = stack.pop()!;
    for (const t of succ[s]!) if (reach[t] === 0) {
      reach[t] = 1;
      stack.push(t);
    }
  }
  for (let s = 0; s <= n; s++) if (reach[s] === 0) succ[s] = [];
  const sets = a.positions.map((p) => p.set);

  const comp = scc(n + 1, succ);
  const members = new Map<number, number[]>();
  for (let s = 0; s < n; s++) if (reach[s] === 1) {
    const list = members.get(comp[s]!) ?? [];
    list.push(s);
    members.set(comp[s]!, list);
  }
  const cyclic = [...members.values()].filter((m) => m.length > 1 || succ[m[0]!]!.includes(m[0]!));

  for (const [x, y] of a.doubled) {
    if (reach[x] === 1 && !dead(y) && comp[x] === comp[y] && cyclic.some((c) => c.includes(x))) {
      return describeExponential(source, a.positions, [x, x, y], true);
    }
  }
  for (const c of cyclic) {
    const hit = exponential(c, succ, sets, a);
    if (hit !== null) return describeExponential(source, a.positions, hit);
  }
  // Reverse edges, to know which states can still reach a loop.
  const pred: number[][] = Array.from({ length: n + 1 }, () => []);
  for (let s = 0; s <= n; s++) for (const t of succ[s]!) pred[t]!.push(s);
  const walk = (from: readonly number[], edges: readonly (readonly number[])[], allowed: Uint8Array): Uint8Array => {
    const seen = new Uint8Array(n + 1);
    const st = [...from];
    for (const t of from) seen[t] = 1;
    while (st.length > 0) {
      const s = st.pop()!;
      for (const t of edges[s]!) if (seen[t] === 0 && allowed[t] === 1) {
        seen[t] = 1;
        st.push(t);
      }
    }
    return seen;
  };
  const charsOf = (c: readonly number[]): Ranges => normalize(c.flatMap((s) => [...sets[s]!]));
  const chars = new Map(cyclic.map((c) => [c, charsOf(c)]));
  let budget = 5_000_000;
  for (const cp of cyclic) {
    for (const cq of cyclic) {
      if (cq === cp) continue;
      // Both loops read all of w, so the path between them may only use characters both
      // loops can read: most pairs are ruled out here without a search.
      const common = intersect(chars.get(cp)!, chars.get(cq)!);
      if (common.length === 0) continue;
      const allowed = new Uint8Array(n + 1);
      for (let s = 0; s < n; s++) allowed[s] = intersects(sets[s]!, common) ? 1 : 0;
      const fromP = walk(cp, succ, allowed);
      if (!cq.some((q) => fromP[q] === 1)) continue;
      const toQ = walk(cq, pred, allowed);
      const between = new Uint8Array(n + 1);
      for (let s = 0; s <= n; s++) between[s] = fromP[s]! & toQ[s]!;
      for (const p of cp) {
        for (const q of cq) {
          const r = polynomial(p, q, cp, cq, succ, sets, between, budget, a);
          budget = r.budget;
          if (budget <= 0) throw new TooComplex();
          if (r.found) return describePolynomial(source, a.positions, p, q, retry);
        }
      }
    }
  }
  return null;
}

function withDotAll(n: Node): Node {
  switch (n.k) {
    case 'set': return n.set === DOT ? { ...n, set: FULL } : n;
    case 'seq': return { ...n, items: n.items.map(withDotAll) };
    case 'alt': return { ...n, alts: n.alts.map(withDotAll) };
    case 'group': case 'look': case 'rep': return { ...n, body: withDotAll(n.body) };
    default: return n;
  }
}

/**
 * States from which every rest of the line is accepted (a subset construction over the
 * character classes, bounded). On a failing line such a state is never reached.
 */
function universalStates(positions: readonly Position[], follow: readonly number[][], lastFree: ReadonlySet<number>, lastDollar: ReadonlySet<number>): boolean[] {
  const bounds = new Set<number>([0]);
  for (const p of positions) for (const [lo, hi] of p.set) {
    bounds.add(lo);
    if (hi < MAX_CP) bounds.add(hi + 1);
  }
  const reps = [...bounds].sort((x, y) => x - y);
  const out: boolean[] = [];
  const memo = new Map<string, boolean>();
  for (let s = 0; s < positions.length; s++) {
    // Only loops matter for ambiguity; a state without a self-loop is cheap to keep.
    if (!lastDollar.has(s) && !lastFree.has(s)) continue;
    out[s] = isUniversal([s], positions, follow, lastFree, lastDollar, reps, memo);
  }
  return out;
}

function isUniversal(
  start: number[], positions: readonly Position[], follow: readonly number[][], lastFree: ReadonlySet<number>,
  lastDollar: ReadonlySet<number>, reps: readonly number[], memo: Map<string, boolean>,
): boolean {
  const key0 = start.join(',');
  const cached = memo.get(key0);
  if (cached !== undefined) return cached;
  const seen = new Set<string>();
  const todo: number[][] = [start];
  let ok = true;
  while (todo.length > 0 && ok) {
    const cur = todo.pop()!;
    const key = cur.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > 256) {
      ok = false;
      break;
    }
    if (cur.some((s) => lastFree.has(s))) continue; // accepted here, whatever follows
    if (!cur.some((s) => lastDollar.has(s))) {
      ok = false; // the line may end here and fail
      break;
    }
    for (const c of reps) {
      const next = new Set<number>();
      for (const s of cur) for (const t of follow[s]!) if (contains(positions[t]!.set, c)) next.add(t);
      if (next.size === 0) {
        ok = false;
        break;
      }
      todo.push([...next].sort((x, y) => x - y));
    }
  }
  memo.set(key0, ok);
  return ok;
}

/** Tarjan's strongly connected components, iterative; returns a component id per state. */
function scc(count: number, succ: readonly (readonly number[])[]): Int32Array {
  const index = new Int32Array(count).fill(-1);
  const low = new Int32Array(count);
  const comp = new Int32Array(count).fill(-1);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  let next = 0;
  let compId = 0;
  for (let root = 0; root < count; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      const list = succ[v]!;
      if (i < list.length) {
        frame[1]++;
        const w = list[i]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w] === 1) low[v] = Math.min(low[v]!, index[w]!);
      } else {
        work.pop();
        if (work.length > 0) {
          const u = work[work.length - 1]![0];
          low[u] = Math.min(low[u]!, low[v]!);
        }
        if (low[v] === index[v]) {
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp[w] = compId;
          } while (w !== v);
          compId++;
        }
      }
    }
  }
  return comp;
}

/**
 * Exponential ambiguity inside one strongly connected component: in its product with
 * itself, a component holding both a pair (p,p) and a pair (q,r) with q != r means two
 * different paths read the same text from p back to p.
 */
function exponential(members: readonly number[], succ: readonly (readonly number[])[], sets: readonly Ranges[], a: Automaton): [number, number, number] | null {
  // One state with a self-loop (\S+, .*): one path per text, unless two constructs made
  // that loop (see Automaton.doubled, checked before).
  if (members.length === 1) return null;
  const inC = new Set(members);
  const idx = new Map(members.map((m, i) => [m, i]));
  const k = members.length;
  const pairSucc: number[][] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    const out: number[] = [];
    for (const x of succ[members[i]!]!) {
      if (!inC.has(x)) continue;
      for (const y of succ[members[j]!]!) {
        if (!inC.has(y)) continue;
        if (x === y || (intersects(sets[x]!, sets[y]!) && !a.excluded(x, y))) out.push(idx.get(x)! * k + idx.get(y)!);
      }
    }
    pairSucc.push(out);
  }
  const comp = scc(k * k, pairSucc);
  const diag = new Map<number, number>();
  for (let i = 0; i < k; i++) {
    const id = i * k + i;
    if (pairSucc[id]!.length > 0) diag.set(comp[id]!, i);
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    if (i === j) continue;
    const p = diag.get(comp[i * k + j]!);
    if (p !== undefined) return [members[p]!, members[i]!, members[j]!];
  }
  return null;
}

/**
 * Polynomial ambiguity between two loops: a text w that reads p -> p, p -> q and q -> q.
 * Searched as a path in the triple product from (p, p, q) to (p, q, q).
 */
function polynomial(
  p: number, q: number, cp: readonly number[], cq: readonly number[], succ: readonly (readonly number[])[],
  sets: readonly Ranges[], fromP: Uint8Array, budget: number, a: Automaton,
): { found: boolean; budget: number } {
  const inP = new Set(cp);
  const inQ = new Set(cq);
  const seen = new Set<number>();
  const todo: [number, number, number][] = [];
  const size = sets.length + 1;
  const push = (x: number, y: number, z: number): boolean => {
    if (x === p && y === q && z === q) return true;
    const key = (x * size + y) * size + z;
    if (!seen.has(key)) {
      seen.add(key);
      todo.push([x, y, z]);
    }
    return false;
  };
  const stepFrom = (x: number, y: number, z: number): boolean => {
    for (const x2 of succ[x]!) {
      if (!inP.has(x2)) continue;
      for (const y2 of succ[y]!) {
        if (fromP[y2] === 0 || !intersects(sets[x2]!, sets[y2]!) || a.excluded(x2, y2)) continue;
        const xy = intersect(sets[x2]!, sets[y2]!);
        for (const z2 of succ[z]!) {
          budget--;
          if (!inQ.has(z2) || !intersects(xy, sets[z2]!) || a.excluded(x2, z2) || a.excluded(y2, z2)) continue;
          if (push(x2, y2, z2)) return true;
        }
      }
    }
    return false;
  };
  if (stepFrom(p, p, q)) return { found: true, budget };
  while (todo.length > 0 && budget > 0) {
    const [x, y, z] = todo.pop()!;
    if (stepFrom(x, y, z)) return { found: true, budget };
  }
  return { found: false, budget };
}

function slice(source: string, l: Loop): string {
  return source.slice(l.start, l.end);
}

function describeExponential(source: string, positions: readonly Position[], [p, q, r]: [number, number, number], doubled = false): BacktrackRisk {
  // The innermost loop around all three states is the one that repeats ambiguously; for
  // an edge two loops both make, the second loop around it.
  const common = positions[p]!.loops.filter((l) => [q, r].every((s) => positions[s]!.loops.some((m) => m.start === l.start && m.end === l.end)));
  const outer = (doubled ? common[1] : undefined) ?? common[0] ?? positions[p]!.loops[0]!;
  const part = slice(source, outer);
  const inner = positions[p]!.loops.concat(positions[q]!.loops).find((l) => l.start >= outer.start && l.end <= outer.end && l.end - l.start < outer.end - outer.start);
  if (inner !== undefined) {
    return { kind: 'nested', part, message: `nested quantifier at \`${part}\` (\`${slice(source, inner)}\` repeated inside a repetition); rewrite without the nested quantifier, e.g. make each repetition start with a character the inner part cannot match` };
  }
  if (/\|/.test(part)) {
    return { kind: 'alternation', part, message: `alternatives that can match the same text under a quantifier at \`${part}\`; make the alternatives exclusive (no common first character)` };
  }
  return { kind: 'ambiguous', part, message: `the repetition \`${part}\` can match the same text in more than one way; rewrite it so each repetition is unambiguous` };
}

function describePolynomial(source: string, positions: readonly Position[], p: number, q: number, retry: number): BacktrackRisk {
  const lq = positions[q]!.loops[0]!;
  const second = slice(source, lq);
  if (p === retry) {
    return { kind: 'unanchored', part: second, message: `the pattern is not anchored and \`${second}\` can match the text before it again at every start position; anchor the pattern with ^ (and at the end with $)` };
  }
  const lp = positions[p]!.loops[0]!;
  const first = slice(source, lp);
  const part = source.slice(Math.min(lp.start, lq.start), Math.max(lp.end, lq.end));
  return { kind: 'adjacent', part, message: `\`${first}\` and \`${second}\` can both match the same text (overlapping quantifiers at \`${part}\`); make them exclusive, e.g. \\S+ or [^ ]+ instead of .* before a space` };
}
