// Which characters can start a match of an anchored pattern ("^Failed ..." can only
// start with F). Matchers use it to try only the patterns a message's first character
// allows, instead of every regex on every line. Conservative: anything it does not fully
// understand yields null ("any character"), which is always correct.

/** Char codes (< 128) that can start a match of `^src`, or null when unknown / any. */
export function firstChars(src: string, caseInsensitive: boolean): Set<number> | null {
  if (!src.startsWith('^')) return null;
  const r = seqFirst(src, 1, src.length);
  if (r === null || r.nullable) return null; // a pattern that may match "" starts with anything
  if (caseInsensitive) {
    for (const c of [...r.set]) {
      const ch = String.fromCharCode(c);
      r.set.add(ch.toLowerCase().charCodeAt(0));
      r.set.add(ch.toUpperCase().charCodeAt(0));
    }
  }
  return r.set;
}

interface First {
  set: Set<number>;
  /** The sequence can match the empty string. */
  nullable: boolean;
}

const META = new Set('\\^$.|?*+()[]{}'.split('').map((c) => c.charCodeAt(0)));

/** First chars of the sequence src[i, end) (no top-level '|' expected here). */
function seqFirst(src: string, i: number, end: number): First | null {
  const alts = splitTopLevel(src, i, end);
  if (alts === null) return null;
  if (alts.length > 1) {
    const set = new Set<number>();
    let nullable = false;
    for (const [s, e] of alts) {
      const f = seqFirst(src, s, e);
      if (f === null) return null;
      for (const c of f.set) set.add(c);
      nullable ||= f.nullable;
    }
    return { set, nullable };
  }
  const set = new Set<number>();
  let p = i;
  while (p < end) {
    const item = itemFirst(src, p, end);
    if (item === null) return null;
    let q = item.next;
    let optional = false;
    const quant = src[q];
    if (quant === '?' || quant === '*') {
      optional = true;
      q++;
    } else if (quant === '+') {
      q++;
    } else if (quant === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(src.slice(q, end));
      if (m === null) return null;
      optional = Number(m[1]) === 0;
      q += m[0].length;
    }
    if (src[q] === '?') q++; // lazy
    for (const c of item.set) set.add(c);
    if (!optional && !item.nullable) return { set, nullable: false };
    p = q;
  }
  return { set, nullable: true };
}

/** One atom at src[p]: its first chars and where it ends. */
function itemFirst(src: string, p: number, end: number): (First & { next: number }) | null {
  const c = src.charCodeAt(p);
  if (src[p] === '\\') {
    const e = src[p + 1];
    if (e === undefined || /[dDsSwWbBpPuxck0-9]/.test(e)) return null;
    const lit = e === 'n' ? 10 : e === 't' ? 9 : e === 'r' ? 13 : e.charCodeAt(0);
    return { set: new Set([lit]), nullable: false, next: p + 2 };
  }
  if (src[p] === '[') {
    const close = classEnd(src, p);
    if (close === -1 || src[p + 1] === '^') return null;
    const set = new Set<number>();
    for (let k = p + 1; k < close; k++) {
      if (src[k] === '\\') {
        const e = src[k + 1];
        if (e === undefined || /[dDsSwWpPux]/.test(e)) return null;
        set.add(e.charCodeAt(0));
        k++;
      } else if (src[k + 1] === '-' && k + 2 < close) {
        for (let x = src.charCodeAt(k); x <= src.charCodeAt(k + 2); x++) set.add(x);
        k += 2;
      } else {
        set.add(src.charCodeAt(k));
      }
    }
    return { set, nullable: false, next: close + 1 };
  }
  if (src[p] === '(') {
    const close = groupEnd(src, p);
    if (close === -1) return null;
    let s = p + 1;
    if (src[s] === '?') {
      if (src[s + 1] === ':') s += 2;
      else if (src[s + 1] === '<' && src[s + 2] !== '=' && src[s + 2] !== '!') s = src.indexOf('>', s) + 1;
      else return null; // lookaround
    }
    const f = seqFirst(src, s, close);
    if (f === null) return null;
    return { ...f, next: close + 1 };
  }
  if (META.has(c)) return null; // . $ and friends
  return { set: new Set([c]), nullable: false, next: p + 1 };
}

function classEnd(src: string, p: number): number {
  for (let k = p + 1; k < src.length; k++) {
    if (src[k] === '\\') k++;
    else if (src[k] === ']') return k;
  }
  return -1;
}

function groupEnd(src: string, p: number): number {
  let depth = 0;
  for (let k = p; k < src.length; k++) {
    const ch = src[k];
    if (ch === '\\') k++;
    else if (ch === '[') {
      k = classEnd(src, k);
      if (k === -1) return -1;
    } else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return k;
  }
  return -1;
}

/** Top-level alternatives of src[i, end) as [start, end) pairs. */
function splitTopLevel(src: string, i: number, end: number): [number, number][] | null {
  const out: [number, number][] = [];
  let depth = 0;
  let start = i;
  for (let k = i; k < end; k++) {
    const ch = src[k];
    if (ch === '\\') k++;
    else if (ch === '[') {
      k = classEnd(src, k);
      if (k === -1) return null;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      out.push([start, k]);
      start = k + 1;
    }
  }
  out.push([start, end]);
  return out;
}
