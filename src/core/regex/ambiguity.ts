// The searches behind the backtracking check (see safety.ts), on the position automaton's
// transition graph: which states accept every rest of the line, the strongly connected
// components (the loops), and the two ambiguities that make backtracking blow up, one
// loop reading a text along two paths (exponential) and two loops reading the same text
// one after the other (polynomial). It finds states, never words them for the rule author
// (safety.ts does). Pure: no IO.

import type { Automaton, Position } from './automaton.js';
import { MAX_CP, contains, intersect, intersects, type Ranges } from './ranges.js';

/**
 * States from which every rest of the line is accepted (a subset construction over the
 * character classes, bounded). On a failing line such a state is never reached. It must
 * never call a state universal that is not: it follows only free edges (no assertion,
 * lookaround or backreference on them), reads only what each position surely matches
 * (`under`) and never enters a blocked position (see automaton.ts).
 */
export function universalStates(positions: readonly Position[], follow: readonly number[][], lastFree: ReadonlySet<number>, lastDollar: ReadonlySet<number>): boolean[] {
  const bounds = new Set<number>([0]);
  for (const p of positions) for (const [lo, hi] of p.under) {
    bounds.add(lo);
    if (hi < MAX_CP) bounds.add(hi + 1);
  }
  const reps = [...bounds].sort((x, y) => x - y);
  const out: boolean[] = [];
  const memo = new Map<string, boolean>();
  for (let s = 0; s < positions.length; s++) {
    // Only loops matter for ambiguity; a state without a self-loop is cheap to keep.
    if (!lastDollar.has(s) && !lastFree.has(s)) continue;
    if (positions[s]!.blocked) continue;
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
      for (const s of cur) {
        for (const t of follow[s]!) {
          const p = positions[t]!;
          if (!p.blocked && contains(p.under, c)) next.add(t);
        }
      }
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
export function scc(count: number, succ: readonly (readonly number[])[]): Int32Array {
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
export function exponential(members: readonly number[], succ: readonly (readonly number[])[], sets: readonly Ranges[], a: Automaton): [number, number, number] | null {
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
export function polynomial(
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
