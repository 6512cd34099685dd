// The regex side of the backtracking check (see safety.ts): a parser of JavaScript
// regex source into a small syntax tree whose leaves are character sets. It models what
// matters for backtracking (sets, sequences, alternatives, quantifiers, groups,
// lookarounds, anchors, backreferences), not everything the engine does. It must never
// guess: a construct it does not model exactly, or over-approximates where that would be
// unsafe, throws Unsupported naming it, and the pattern is refused. Each set comes twice:
// `set` holds every code point the engine may match there (for the ambiguity searches),
// `under` only code points it surely matches (for "every rest of the line is accepted").
// Without the u or v flag the engine reads UTF-16 code units, and so does this model.
// Pure: no IO.

import { DIGIT, DOT, SPACE, WORD, complement, foldCase, normalize, type Ranges } from './ranges.js';
import { foldOver, propertySet } from './unicode.js';

export type Node =
  | { readonly k: 'set'; readonly set: Ranges; readonly under: Ranges; readonly start: number; readonly end: number }
  | { readonly k: 'seq'; readonly items: readonly Node[] }
  | { readonly k: 'alt'; readonly alts: readonly Node[]; readonly start: number; readonly end: number }
  | { readonly k: 'group'; readonly body: Node; readonly start: number; readonly end: number }
  | { readonly k: 'look'; readonly body: Node; readonly negAhead: boolean; readonly behind: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'assert'; readonly dollar: boolean; readonly caret: boolean; readonly start: number; readonly end: number }
  | { readonly k: 'rep'; readonly body: Node; readonly min: number; readonly max: number; readonly start: number; readonly end: number }
  | { readonly k: 'backref'; readonly start: number; readonly end: number };

/** A construct the check does not model: the pattern is refused, naming it. */
export class Unsupported extends Error {
  constructor(readonly construct: string, readonly at: number) {
    super(`${construct} at offset ${at}`);
  }
}

/** Deeper nesting is refused: the parser and the automaton recurse once per level. */
const MAX_DEPTH = 200;

/** A character set as over- and under-approximation (see the file's opening paragraph). */
interface Cls {
  readonly over: Ranges;
  readonly under: Ranges;
}

export class Parser {
  private i = 0;
  private depth = 0;
  private readonly groups: number;
  private readonly named: boolean;
  private readonly unicode: boolean;

  constructor(private readonly src: string, private readonly icase: boolean, unicode: boolean, private readonly sets = false) {
    this.unicode = unicode || sets;
    [this.groups, this.named] = countGroups(src);
  }

  parse(): Node {
    const n = this.disjunction();
    if (this.i < this.src.length) throw new Unsupported(`"${this.src[this.i]}"`, this.i);
    return n;
  }

  private disjunction(): Node {
    if (++this.depth > MAX_DEPTH) throw new Unsupported(`groups nested deeper than ${MAX_DEPTH}`, this.i);
    const start = this.i;
    const alts = [this.alternative()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.alternative());
    }
    this.depth--;
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
    if (atom.k === 'assert' || atom.k === 'look') return atom; // Annex B: a quantified lookahead runs once
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
    if (c === '(') return this.group();
    if (c === '[') return this.set(this.charClass(), start);
    if (c === '.') {
      this.i++;
      return this.set({ over: DOT, under: DOT }, start);
    }
    if (c === '\\') {
      const e = src[this.i + 1];
      if (e === 'b' || e === 'B') {
        this.i += 2;
        return { k: 'assert', dollar: false, caret: false, start, end: this.i };
      }
      if (e !== undefined && /[1-9]/.test(e)) {
        const digits = /^\d+/.exec(src.slice(this.i + 1))![0];
        if (this.unicode || Number(digits) <= this.groups) {
          this.i += 1 + digits.length;
          return { k: 'backref', start, end: this.i };
        }
      }
      if (e === 'k' && (this.unicode || this.named)) {
        const close = src.indexOf('>', this.i);
        if (src[this.i + 2] !== '<' || close < 0) throw new Unsupported('"\\k" without a group name', start);
        this.i = close + 1;
        return { k: 'backref', start, end: this.i };
      }
      return this.set(this.escape(false), start);
    }
    const cp = this.char();
    return this.set(this.cls([[cp, cp]]), start);
  }

  private group(): Node {
    const src = this.src;
    const start = this.i;
    let look: 'ahead' | 'behind' | null = null;
    const negAhead = src.startsWith('(?!', this.i);
    if (src.startsWith('(?:', this.i)) this.i += 3;
    else if (src.startsWith('(?=', this.i) || src.startsWith('(?!', this.i)) {
      this.i += 3;
      look = 'ahead';
    } else if (src.startsWith('(?<=', this.i) || src.startsWith('(?<!', this.i)) {
      this.i += 4;
      look = 'behind';
    } else if (src.startsWith('(?<', this.i)) {
      const close = src.indexOf('>', this.i);
      if (close < 0) throw new Unsupported('"(?<" without a group name', start);
      this.i = close + 1;
    } else if (src[this.i + 1] === '?') {
      throw new Unsupported(`the group syntax \`${src.slice(this.i, this.i + 4)}\``, start);
    } else this.i++;
    const body = this.disjunction();
    if (src[this.i] !== ')') throw new Unsupported('an unterminated group', start);
    this.i++;
    if (look !== null) return { k: 'look', body, negAhead, behind: look === 'behind', start, end: this.i };
    return { k: 'group', body, start, end: this.i };
  }

  /** One literal character: a code point with the u flag, a UTF-16 code unit without. */
  private char(): number {
    const cp = this.unicode ? this.src.codePointAt(this.i)! : this.src.charCodeAt(this.i);
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** A positive set as the engine matches it, case folded when the i flag is on. */
  private cls(r: Ranges): Cls {
    return this.icase ? { over: foldOver(r), under: foldCase(r) } : { over: r, under: r };
  }

  private set(c: Cls, start: number): Node {
    return { k: 'set', set: c.over, under: c.under, start, end: this.i };
  }

  /** At a backslash; consumes the escape and returns what it matches. */
  private escape(inClass: boolean): Cls {
    const e = this.rawEscape(inClass);
    return typeof e === 'number' ? this.cls([[e, e]]) : e;
  }

  /** An escape as its code point when it stands for one character, else as a set. */
  private rawEscape(inClass: boolean): Cls | number {
    const src = this.src;
    const at = this.i;
    const e = src[this.i + 1];
    if (e === undefined) throw new Unsupported('a trailing backslash', at);
    this.i += 2;
    switch (e) {
      case 'd': return this.cls(DIGIT);
      case 'D': return negate(this.cls(DIGIT));
      case 'w': return this.cls(WORD);
      case 'W': return negate(this.cls(WORD));
      case 's': return this.cls(SPACE);
      case 'S': return negate(this.cls(SPACE));
      case 't': return 9;
      case 'n': return 10;
      case 'v': return 11;
      case 'f': return 12;
      case 'r': return 13;
      case 'b':
        if (inClass) return 8;
        throw new Unsupported('"\\b"', at);
      case 'c': {
        if (/[A-Za-z]/.test(src[this.i] ?? '') || (inClass && !this.unicode && /[0-9_]/.test(src[this.i] ?? ''))) {
          return src.charCodeAt(this.i++) % 32;
        }
        this.i--; // Annex B: a backslash, then "c" read as a literal
        return 0x5c;
      }
      case 'x': {
        const m = /^[0-9A-Fa-f]{2}/.exec(src.slice(this.i));
        if (m === null) return 0x78;
        this.i += 2;
        return parseInt(m[0], 16);
      }
      case 'u': return this.unicodeEscape();
      case 'p':
      case 'P': {
        if (!this.unicode) return e.charCodeAt(0);
        const close = src.indexOf('}', this.i);
        if (src[this.i] !== '{' || close < 0) throw new Unsupported(`"\\${e}" without a property`, at);
        const body = src.slice(this.i + 1, close);
        this.i = close + 1;
        const r = this.cls(propertySet(body));
        return e === 'p' ? r : negate(r);
      }
      case 'q':
        if (this.sets && inClass) throw new Unsupported('"\\q{...}" of the v flag', at);
        return 0x71;
      default: {
        if (/[0-7]/.test(e) && !this.unicode && (e !== '0' || /[0-7]/.test(src[this.i] ?? ''))) {
          // Annex B legacy octal: \0 followed by digits, or \1 to \7 that names no group.
          const m = /^[0-7]{1,3}/.exec(src.slice(this.i - 1))![0];
          const digits = Number.parseInt(m, 8) > 0o377 ? m.slice(0, 2) : m;
          this.i += digits.length - 1;
          return Number.parseInt(digits, 8);
        }
        if (e === '0') return 0;
        this.i--;
        return this.char();
      }
    }
  }

  /** After "\u": \uXXXX, a surrogate pair of two such escapes, or \u{...} (u flag). */
  private unicodeEscape(): number {
    const src = this.src;
    if (this.unicode && src[this.i] === '{') {
      const m = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(this.i));
      if (m === null) throw new Unsupported('a malformed "\\u{...}"', this.i - 2);
      this.i += m[0].length;
      return parseInt(m[1]!, 16);
    }
    const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(this.i));
    if (m === null) return 0x75;
    this.i += 4;
    const cu = parseInt(m[0], 16);
    const low = /^\\u([Dd][C-Fc-f][0-9A-Fa-f]{2})/.exec(src.slice(this.i));
    if (this.unicode && cu >= 0xd800 && cu <= 0xdbff && low !== null) {
      this.i += 6;
      return 0x10000 + ((cu - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00);
    }
    return cu;
  }

  private charClass(): Cls {
    const src = this.src;
    const start = this.i;
    this.i++;
    let negated = false;
    if (src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const over: (readonly [number, number])[] = [];
    const under: (readonly [number, number])[] = [];
    const add = (c: Cls): void => {
      over.push(...c.over);
      under.push(...c.under);
    };
    const atomAt = (): { c: Cls; single: number | null } => {
      if (this.sets && (src[this.i] === '[' || src.startsWith('&&', this.i) || src.startsWith('--', this.i))) {
        throw new Unsupported('set operations of the v flag', this.i);
      }
      if (src[this.i] === '\\') {
        const e = this.rawEscape(true);
        return typeof e === 'number' ? { c: this.cls([[e, e]]), single: e } : { c: e, single: null };
      }
      const cp = this.char();
      return { c: this.cls([[cp, cp]]), single: cp };
    };
    while (this.i < src.length && src[this.i] !== ']') {
      const a = atomAt();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && this.i + 1 < src.length && a.single !== null) {
        this.i++;
        const b = atomAt();
        if (b.single !== null && b.single >= a.single) {
          add(this.cls([[a.single, b.single]]));
          continue;
        }
        if (this.unicode || b.single !== null) throw new Unsupported('a class range out of order', this.i);
        add(a.c);
        add(this.cls([[0x2d, 0x2d]]));
        add(b.c);
        continue;
      }
      add(a.c);
    }
    if (src[this.i] !== ']') throw new Unsupported('an unterminated class', start);
    this.i++;
    const c = { over: normalize(over), under: normalize(under) };
    return negated ? negate(c) : c;
  }
}

/** A negated set: whatever surely matches the positive set surely does not match it, and the reverse. */
function negate(c: Cls): Cls {
  return { over: complement(c.under), under: complement(c.over) };
}

/** Capturing groups of the source (for \N: backreference or Annex B octal) and whether any is named. */
function countGroups(src: string): [number, boolean] {
  let n = 0;
  let named = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') {
      if (src[i + 1] !== '?') n++;
      else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
        n++;
        named = true;
      }
    }
  }
  return [n, named];
}
