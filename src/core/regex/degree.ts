// The third search of the backtracking check (see safety.ts), after the loop searches of
// ambiguity.ts: how many paths of the automaton can read one text into one state. With
// neither kind of loop ambiguity that number is finite, but optional and counted parts
// multiply it without any loop: (?:a?){24}a{24} reads a^36 in C(24,12) = 2.7 million ways,
// a string of (a|a) twenty times over in a million, and a failing line makes the engine
// walk them all. It bounds the number, never words the finding (safety.ts does). Pure: no IO.
//
// The bound, over the components of the automaton in topological order: ways(q) is at most
// the sum of ways(p) over predecessors p of q that some text reaches at the same time; "at
// the same time" is read off the pair automaton (two paths reading the same characters in
// lockstep), summed per connected group of such predecessors, which can only overcount.
// A loop has no ambiguity of its own here (ambiguity.ts refused that), so its states are
// reached once per entry: the entries at one time, times the entries at later times while
// an earlier one is still inside (an entering state some text reaches together with the
// loop; each such state fires at most as often as it can be active on one text, counted
// without looking at characters, a loop as often as it is entered: a loop that kept firing
// it while the earlier entry stays inside would be two loops reading the same text, which
// ambiguity.ts refused).

import type { Automaton } from './automaton.js';
import { TooComplex } from './automaton.js';
import { intersects, type Ranges } from './ranges.js';

/** Steps of the pair search before the pattern counts as too large to check. */
const PAIR_BUDGET = 4_000_000;

export interface Multiplied {
  /** A state more than `limit` paths reach on one text. */
  readonly state: number;
  /** States at least two paths reach on one text, and where those paths split: the offending part. */
  readonly involved: readonly number[];
}

/**
 * Returns a state that more than `limit` paths can reach reading one text, or null.
 * `succ` is the pruned transition graph over positions 0..n-1 plus the virtual initial
 * state n; `comp` its strongly connected components (Tarjan: reverse topological ids).
 */
export function multiplied(
  succ: readonly (readonly number[])[], sets: readonly Ranges[], a: Automaton, comp: Int32Array, limit: number,
): Multiplied | null {
  const total = succ.length;
  const initial = total - 1;
  const together = pairs(succ, sets, a, initial);
  const weight = new Map<number, number>();
  for (const [x, y] of a.doubled) weight.set(x * total + y, (weight.get(x * total + y) ?? 1) + 1);
  const pred: number[][] = Array.from({ length: total }, () => []);
  for (let s = 0; s < total; s++) for (const t of succ[s]!) pred[t]!.push(s);

  const ways = new Float64Array(total);
  const times = new Float64Array(total); // distinct offsets a state can be active at on one text
  ways[initial] = 1;
  times[initial] = 1;
  const byComp = new Map<number, number[]>();
  for (let s = 0; s < initial; s++) {
    const list = byComp.get(comp[s]!) ?? [];
    list.push(s);
    byComp.set(comp[s]!, list);
  }
  const cap = (v: number): number => Math.min(v, limit + 1);
  /** The largest sum of ways(p) x edges over predecessors some text reaches together. */
  const grouped = (preds: readonly number[], into: (p: number) => number): number => {
    const active = preds.filter((p) => ways[p]! > 0);
    const root = new Map(active.map((p) => [p, p]));
    const find = (x: number): number => {
      while (root.get(x) !== x) x = root.get(x)!;
      return x;
    };
    for (let i = 0; i < active.length; i++) {
      const partners = together.get(active[i]!);
      if (partners === undefined) continue;
      for (let j = i + 1; j < active.length; j++) if (partners.has(active[j]!)) root.set(find(active[i]!), find(active[j]!));
    }
    const sums = new Map<number, number>();
    for (const p of active) sums.set(find(p), (sums.get(find(p)) ?? 0) + ways[p]! * into(p));
    let best = 0;
    for (const v of sums.values()) best = Math.max(best, v);
    return best;
  };
  const edge = (p: number, q: number): number => weight.get(p * total + q) ?? 1;
  // Tarjan numbers components sinks first: the highest id is taken first.
  const ids = [...byComp.keys()].sort((x, y) => y - x);
  for (const id of ids) {
    const members = byComp.get(id)!;
    const cyclic = members.length > 1 || succ[members[0]!]!.includes(members[0]!);
    if (!cyclic) {
      const q = members[0]!;
      ways[q] = cap(grouped(pred[q]!, (p) => edge(p, q)));
      let t = 0;
      for (const p of pred[q]!) t += times[p]!;
      times[q] = cap(t);
    } else {
      // Inside a loop each entry has one path per text (no loop ambiguity, checked before),
      // so what counts is the entries: how many at one time, and how many more times an
      // entering state can fire while an earlier entry is still inside.
      const inside = new Set(members);
      const entries = [...new Set(members.flatMap((c) => pred[c]!.filter((p) => !inside.has(p))))];
      const into = (p: number): number => members.reduce((n, c) => n + (succ[p]!.includes(c) ? edge(p, c) : 0), 0);
      const base = grouped(entries, into);
      let again = 0;
      for (const p of entries) {
        if (ways[p]! > 0 && members.some((c) => together.get(p)?.has(c) === true)) again += ways[p]! * times[p]!;
      }
      const v = cap(base * (1 + again));
      let t = 0;
      for (const p of entries) t += times[p]!;
      for (const c of members) {
        ways[c] = v;
        times[c] = cap(t);
      }
    }
    for (const q of members) if (ways[q]! > limit) return { state: q, involved: involved(ways, pred, together) };
  }
  return null;
}

/** States two paths reach on one text, with the predecessors where such paths split off. */
function involved(ways: Float64Array, pred: readonly (readonly number[])[], together: Map<number, Set<number>>): number[] {
  const out = new Set<number>();
  for (let q = 0; q < ways.length - 1; q++) {
    if (ways[q]! < 2) continue;
    out.add(q);
    for (const p of pred[q]!) if (ways[p]! > 0 && p < ways.length - 1 && pred[q]!.some((r) => r !== p && together.get(p)?.has(r) === true)) out.add(p);
  }
  return [...out];
}

/** For each state, the other states some text reaches at the same time (pair automaton from the start). */
function pairs(succ: readonly (readonly number[])[], sets: readonly Ranges[], a: Automaton, initial: number): Map<number, Set<number>> {
  const total = succ.length;
  const seen = new Set<number>();
  const todo: number[] = [initial * total + initial];
  seen.add(todo[0]!);
  const together = new Map<number, Set<number>>();
  const note = (x: number, y: number): void => {
    let s = together.get(x);
    if (s === undefined) together.set(x, (s = new Set()));
    s.add(y);
  };
  let budget = PAIR_BUDGET;
  while (todo.length > 0) {
    const key = todo.pop()!;
    const x = Math.floor(key / total);
    const y = key % total;
    for (const x2 of succ[x]!) {
      for (const y2 of succ[y]!) {
        if (--budget < 0) throw new TooComplex();
        if (x === y && y2 < x2) continue; // a diagonal pair: each unordered successor pair once
        if (x2 !== y2 && (!intersects(sets[x2]!, sets[y2]!) || a.excluded(x2, y2))) continue;
        const lo = Math.min(x2, y2);
        const hi = Math.max(x2, y2);
        const k = lo * total + hi;
        if (seen.has(k)) continue;
        seen.add(k);
        todo.push(k);
        if (lo !== hi) {
          note(lo, hi);
          note(hi, lo);
        }
      }
    }
  }
  return together;
}
