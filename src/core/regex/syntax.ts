// The regex side of the backtracking check (see safety.ts): a parser of JavaScript
// regex source into a small syntax tree whose leaves are character sets. It models what
// matters for backtracking (sets, sequences, alternatives, quantifiers, groups,
// lookarounds, anchors, backreferences), not everything the engine does: the source has
// already compiled, and what this parser cannot read is accepted. Pure: no IO.

import { DIGIT, DOT, FULL, SPACE, WORD, complement, foldCase, normalize, type Ranges } from './ranges.js';

export type Node =
  | { readonly k: 'set'; readonly set: Ranges; readonly start: number; readonly end: number }
  | { readonly k: 'seq'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly alts: readonly Node[]; readonly start: number; readonly end: number }
  | { readonly k: 'group'; readonly body: Node; readonly start: number; readonly end: number }
  | { readonly k: 'look'; readonly body: Node; readonly negAhead: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'assert'; readonly dollar: boolean; readonly caret: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'rep'; readonly body: Node; readonly min: number; readonly max: number; readonly start: number; readonly end: number }
  | { readonly k: 'backref'; readonly start: number; readonly end: number };

export class Parser {
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
