// The position (Glushkov) automaton of a parsed regex, for the backtracking check (see
// safety.ts): one state per character set of the pattern, with the loops around it
// and which constructs made each edge. A counted repetition of up to UNROLL_MAX copies is
// unrolled (a{2,4} is a a (a (a)?)?, exact, so degree.ts counts the ways overlapping
// copies multiply); a larger bound is read as a loop (a{0,1000} as a*), because walking a
// thousand copies again from each start or split costs what a loop costs: it has every
// path the copies have and more, and its positions are `blocked`: nothing that reasons
// about what surely matches may pass them. Edges are
// `free` when no assertion, lookaround or backreference lies on them: only free edges
// count for "every rest of the line is accepted" (see universalStates). Pure: no IO.

import { FULL, type Ranges } from './ranges.js';
import type { Node } from './syntax.js';

export interface Loop {
  readonly start: number;
  readonly end: number;
}

export interface Position {
  readonly set: Ranges;
  /** Code points this position surely matches (see syntax.ts); `set` may hold more. */
  readonly under: Ranges;
  /** Read as a loop though it is counted, or a backreference or lookaround text: never "surely". */
  readonly blocked: boolean;
  readonly start: number;
  readonly end: number;
  /** Unbounded quantifiers around this position, innermost first (source ranges). */
  readonly loops: readonly Loop[];
}

export interface Info {
  /** Can match empty treating every assertion as true. */
  readonly nullable: boolean;
  /** Can match empty passing no assertion but $. */
  readonly nullableDollar: boolean;
  /** Can match empty passing no assertion at all. */
  readonly nullableFree: boolean;
  readonly first: readonly number[];
  /** First positions reached passing no assertion. */
  readonly firstFree: readonly number[];
  readonly last: readonly number[];
  readonly lastDollar: readonly number[];
  readonly lastFree: readonly number[];
}

/** Counted repetitions are unrolled up to this many copies and positions, then read as loops. */
const UNROLL_MAX = 32;
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

export class Automaton {
  readonly positions: Position[] = [];
  readonly follow: Set<number>[] = [];
  /** The edges of follow that pass no assertion, lookaround or backreference. */
  readonly freeFollow: Set<number>[] = [];
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
  /** Inside a repetition read as a loop, or a lookaround: positions made here are blocked. */
  private blocking = 0;

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
        const p = this.add(n.set, n.under, n.start, n.end, loops);
        for (const id of this.active) addTo(this.loopOf, p, id);
        return this.leaf(p);
      }
      case 'backref': {
        // It compares text, it does not branch: one way to match, linear in the group's
        // length. What it matches is unknown here, so nothing passes it "surely".
        const p = this.add(FULL, [], n.start, n.end, loops);
        return { nullable: true, nullableDollar: false, nullableFree: false, first: [p], firstFree: [], last: [p], lastDollar: [], lastFree: [] };
      }
      case 'assert':
        return { ...EMPTY, nullableDollar: n.dollar, nullableFree: false };
      case 'look': {
        // A side branch that ends nowhere: what the lookaround reads costs time at every
        // position it is tried from, but never lets the pattern go on from where it ended.
        // A lookbehind reads backwards: its body is built in reverse.
        const saved = this.active;
        this.active = [];
        this.blocking++;
        const body = this.build(n.behind ? reversed(n.body) : n.body, loops);
        this.blocking--;
        this.active = saved;
        return { ...EMPTY, nullableDollar: false, nullableFree: false, first: body.first };
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
          firstFree: infos.flatMap((x) => x.firstFree),
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
        return acc ?? EMPTY;
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
    // Unrolling a{2,5} is exact; beyond the budget read it as a+ / a*, which has every
    // path of the copies (the check stays on the safe side) but not their count: its
    // positions are blocked (see the file's opening paragraph).
    const copies = Math.min(max === Infinity ? min + 1 : max, 1e9);
    const loop = copies > UNROLL_MAX || size * copies > UNROLL_BUDGET;
    if (loop) {
      max = Infinity;
      min = Math.min(min, 1);
      this.blocking++;
    }
    const parts: Info[] = [];
    for (let i = 0; i < min - (max === Infinity && min > 0 ? 1 : 0); i++) parts.push(this.build(n.body, loops));
    if (max === Infinity) {
      const inner = [{ start: n.start, end: n.end }, ...loops];
      const x = this.build(n.body, inner);
      this.linkAll(x, x);
      parts.push(min > 0 ? x : optional(x));
    } else {
      // (a(a(a)?)?)? for the optional copies, so a{0,3} has no two ways to read "aa".
      let opt: Info | null = null;
      const copies: Info[] = [];
      for (let i = min; i < max; i++) copies.push(this.build(n.body, loops));
      for (let i = copies.length - 1; i >= 0; i--) {
        const x: Info = opt === null ? copies[i]! : this.concat(copies[i]!, opt);
        opt = optional(x);
      }
      if (opt !== null) parts.push(opt);
    }
    if (loop) this.blocking--;
    let acc: Info | null = null;
    for (const x of parts) acc = acc === null ? x : this.concat(acc, x);
    return acc ?? EMPTY;
  }

  /** Links a's ends to b's starts; an edge is free when neither side passes an assertion. */
  private linkAll(a: Info, b: Info): void {
    const lastFree = new Set(a.lastFree);
    const firstFree = new Set(b.firstFree);
    for (const l of a.last) for (const f of b.first) this.link(l, f, lastFree.has(l) && firstFree.has(f));
  }

  private concat(a: Info, b: Info): Info {
    this.linkAll(a, b);
    return {
      nullable: a.nullable && b.nullable,
      nullableDollar: a.nullableDollar && b.nullableDollar,
      nullableFree: a.nullableFree && b.nullableFree,
      first: a.nullable ? [...a.first, ...b.first] : a.first,
      firstFree: a.nullableFree ? [...a.firstFree, ...b.firstFree] : a.firstFree,
      last: b.nullable ? [...b.last, ...a.last] : b.last,
      lastDollar: b.nullableDollar ? [...b.lastDollar, ...a.lastDollar] : b.lastDollar,
      lastFree: b.nullableFree ? [...b.lastFree, ...a.lastFree] : b.lastFree,
    };
  }

  link(from: number, to: number, free: boolean): void {
    const f = this.follow[from]!;
    if (f.has(to)) this.doubled.push([from, to]);
    else f.add(to);
    if (free) this.freeFollow[from]!.add(to);
  }

  add(set: Ranges, under: Ranges, start: number, end: number, loops: readonly Loop[]): number {
    if (this.positions.length >= MAX_POSITIONS) throw new TooComplex();
    this.positions.push({ set, under, blocked: this.blocking > 0, start, end, loops });
    this.follow.push(new Set());
    this.freeFollow.push(new Set());
    return this.positions.length - 1;
  }

  private leaf(p: number): Info {
    return { nullable: false, nullableDollar: false, nullableFree: false, first: [p], firstFree: [p], last: [p], lastDollar: [p], lastFree: [p] };
  }
}

const EMPTY: Info = { nullable: true, nullableDollar: true, nullableFree: true, first: [], firstFree: [], last: [], lastDollar: [], lastFree: [] };

function optional(x: Info): Info {
  return { ...x, nullable: true, nullableDollar: true, nullableFree: true };
}

/** The node read right to left, as the engine reads a lookbehind (nested lookarounds keep their own direction). */
function reversed(n: Node): Node {
  switch (n.k) {
    case 'seq': return { ...n, items: n.items.map(reversed).reverse() };
    case 'alt': return { ...n, alts: n.alts.map(reversed) };
    case 'group': case 'rep': return { ...n, body: reversed(n.body) };
    default: return n;
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

export class TooComplex extends Error {}

export function startsAnchored(n: Node): boolean {
  switch (n.k) {
    case 'assert': return n.caret;
    case 'group': return startsAnchored(n.body);
    case 'seq': return n.items.length > 0 && startsAnchored(n.items[0]!);
    case 'alt': return n.alts.every(startsAnchored);
    default: return false;
  }
}
