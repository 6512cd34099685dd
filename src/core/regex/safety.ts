// Load-time check that a rule's regex cannot backtrack catastrophically on a line an
// attacker writes. This file owns the verdict and its wording for the rule author; the
// parts are syntax.ts (parser), ranges.ts and unicode.ts (character sets), automaton.ts
// (positions), ambiguity.ts (the loop searches) and degree.ts (the path count). It never
// runs the pattern. It fails closed: what it cannot read (an exception of its own parser,
// a construct it does not model, nesting past 200 groups) or cannot finish is refused,
// naming the construct. Pure: no IO.
//
// V8's regex engine backtracks, so its worst case on a failing line grows with the number
// of ways the pattern can match a prefix of it. The pattern is parsed into a small syntax
// tree, turned into a position (Glushkov) automaton, and checked for the shapes of
// ambiguity that make backtracking blow up (Weideman et al., "Analyzing matching time
// behavior of backtracking regular expression matchers"):
//   - exponential: one loop can read the same text along two different paths, as in
//     (a+)+, (\w+\s?)+ or (a|a)* (the count doubles per repetition);
//   - polynomial: two loops one after the other can both read the same text, as in
//     \d+\d+, .*.* or an unanchored \s+$ (the engine retries at every start position, as
//     if the pattern began with [^]*?). 64 KiB against \s+$ took 4 s on Node 20;
//   - multiplied: without either, more than MAX_WAYS paths read one text into one state,
//     as optional, alternative or counted parts that overlap multiply: (?:a?){24}a{24}
//     took 10.8 s on an 89-byte line.
// Bounded repetition: a quantifier of up to 32 copies is unrolled, exactly, and the path
// count sees the product of overlapping copies; a larger bound is read as the loop it
// costs like (X{0,1000} as X*, X{5,} as X+), for the loop searches as for anything else.
// States from which every rest of the line is surely accepted are left out: on a line that
// fails they are never reached, so [^]*$ or an unanchored ending cannot be a failing
// suffix. "Surely" is an under-approximation (no assertion, lookaround, backreference or
// loop-read bound on the way, sets as they surely match); everything else over-approximates.
// The check is conservative: it may reject a pattern that is safe in practice, never the
// reverse within what it models. A lookaround is a side branch (its cost counts, what it
// excludes does not, except for tempered tokens, see Tempered in automaton.ts); a
// backreference counts as one character of any kind: it compares text, it does not branch.
// With the u or v flag, \p{...} classes are read exactly from the engine's tables; with i,
// case folding beyond ASCII takes every case partner (unicode.ts).

import { exponential, polynomial, scc, universalStates } from './ambiguity.js';
import { Automaton, TooComplex, startsAnchored, type Loop, type Position } from './automaton.js';
import { multiplied, type Multiplied } from './degree.js';
import { DOT, FULL, intersect, intersects, normalize, type Ranges } from './ranges.js';
import { Parser, Unsupported, type Node } from './syntax.js';

export type BacktrackKind = 'nested' | 'alternation' | 'ambiguous' | 'adjacent' | 'unanchored' | 'multiplied' | 'too-complex' | 'unsupported';

export interface BacktrackRisk {
  readonly kind: BacktrackKind;
  /** The offending part of the source, e.g. "(\w+\s?)+". */
  readonly part: string;
  /** One sentence for the rule author: what is wrong and how to rewrite it. */
  readonly message: string;
}

/** More paths than this reading one text into one state is refused (see degree.ts). */
export const MAX_WAYS = 32;

/**
 * Returns why `source` can backtrack catastrophically, or why it cannot be checked
 * (kinds too-complex and unsupported), or null when it cannot backtrack catastrophically.
 * The pattern must already compile (call this after new RegExp succeeded).
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
  // Fail closed: whatever the check cannot read or finish refuses the pattern.
  try {
    const tree = new Parser(source, flags.includes('i'), flags.includes('u'), flags.includes('v')).parse();
    const anchored = startsAnchored(tree) && !flags.includes('m');
    return analyse(source, tree, !anchored, flags.includes('s'));
  } catch (err) {
    if (err instanceof TooComplex) {
      return { kind: 'too-complex', part: source, message: 'it is too large for the check; split it into smaller patterns or use fewer counted repetitions' };
    }
    if (err instanceof Unsupported) {
      const part = err.construct;
      return { kind: 'unsupported', part, message: `the check does not understand ${part} at offset ${err.at}; rewrite the pattern without it` };
    }
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { kind: 'unsupported', part: source, message: `the check failed on it (${reason}); simplify the pattern` };
  }
}

function analyse(source: string, tree: Node, unanchored: boolean, dotAll: boolean): BacktrackRisk | null {
  const a = new Automaton(source);
  a.findTempered(tree);
  // Position 0 stands for the engine retrying at every start: [^]*? before the pattern.
  const retry = a.add(FULL, FULL, 0, 0, [{ start: -1, end: -1 }]);
  if (unanchored) a.link(retry, retry, true);
  const info = a.build(dotAll ? withDotAll(tree) : tree, []);
  if (info.nullableFree) return null; // matches the empty string anywhere: never fails
  const n = a.positions.length;
  const initial = n; // a virtual state before anything is read
  if (unanchored) {
    const free = new Set(info.firstFree);
    for (const f of info.first) a.link(retry, f, free.has(f));
  }
  const follow: number[][] = a.freeFollow.map((s) => [...s]);
  follow.push(unanchored ? [retry, ...info.firstFree] : [...info.firstFree]);
  const lastFree = new Set(info.lastFree);
  const lastDollar = new Set(info.lastDollar);

  const universal = universalStates(a.positions, follow, lastFree, lastDollar);
  const dead = (p: number): boolean => universal[p] === true;

  // Reachable states, transitions without the universal ones.
  const succ: number[][] = a.follow.map((list) => [...list].filter((p) => !dead(p)));
  succ.push((unanchored ? [retry, ...info.first] : [...info.first]).filter((p) => !dead(p)));
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
  const many = multiplied(succ, sets, a, comp, MAX_WAYS);
  return many === null ? null : describeMultiplied(source, tree, a.positions, many, retry);
}

function withDotAll(n: Node): Node {
  switch (n.k) {
    case 'set': return n.set === DOT ? { ...n, set: FULL, under: FULL } : n;
    case 'seq': return { ...n, items: n.items.map(withDotAll) };
    case 'alt': return { ...n, alts: n.alts.map(withDotAll) };
    case 'group': case 'look': case 'rep': return { ...n, body: withDotAll(n.body) };
    default: return n;
  }
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

function describeMultiplied(source: string, tree: Node, positions: readonly Position[], many: Multiplied, retry: number): BacktrackRisk {
  const spots = [...many.involved, many.state].filter((s) => s !== retry).map((s) => positions[s]!);
  const lo = Math.min(...spots.map((p) => p.start));
  const hi = Math.max(...spots.map((p) => p.end));
  const part = enclosing(source, tree, lo, hi);
  return {
    kind: 'multiplied',
    part,
    message: `\`${part}\` can match the same text in more than ${MAX_WAYS} ways (optional, alternative or counted parts that overlap multiply them); rewrite it so each character has one place that reads it, e.g. a{2,4} instead of a?a?a{2}`,
  };
}

/** The source of the smallest part of the tree (a node, or a run of a sequence's items) holding lo..hi. */
function enclosing(source: string, n: Node, lo: number, hi: number): string {
  for (;;) {
    if (n.k === 'seq') {
      const items = n.items.filter((x) => spanOf(x)[1] > lo && spanOf(x)[0] < hi);
      if (items.length === 1) {
        n = items[0]!;
        continue;
      }
      if (items.length === 0) return source.slice(lo, hi);
      return source.slice(spanOf(items[0]!)[0], spanOf(items[items.length - 1]!)[1]);
    }
    if (n.k === 'group' || n.k === 'look') {
      const [s, e] = spanOf(n.body);
      if (s <= lo && e >= hi) {
        n = n.body;
        continue;
      }
    }
    if (n.k === 'alt') {
      const inner = n.alts.find((x) => spanOf(x)[0] <= lo && spanOf(x)[1] >= hi);
      if (inner !== undefined) {
        n = inner;
        continue;
      }
    }
    const [s, e] = spanOf(n);
    return source.slice(Math.min(s, lo), Math.max(e, hi));
  }
}

function spanOf(n: Node): [number, number] {
  if (n.k === 'seq') return n.items.length === 0 ? [0, 0] : [spanOf(n.items[0]!)[0], spanOf(n.items[n.items.length - 1]!)[1]];
  return [n.start, n.end];
}
