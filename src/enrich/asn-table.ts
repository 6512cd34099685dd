// ASN and organisation of an address from the @ip-location-db/asn CSV files
// (start,end,asn,org; inclusive ranges sorted by start), held compactly: typed arrays
// searched by bisection, IPv4 bounds as one Uint32 each, IPv6 bounds as four, and every
// organisation name once in a single string with an offset table. About 500,000 ranges
// take some 15 MB instead of the several hundred a JS object per row would.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ipv4ToInt, ipv6ToWords, type ParsedIp } from './addr.js';

export interface AsnInfo {
  readonly asn: number;
  readonly org: string | null;
}

/** The bundled CSV files: IPv4 with numeric bounds (cheaper to parse), IPv6 as text. */
export function bundledAsnFiles(): { v4: string; v6: string } {
  const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
  return { v4: path.join(dir, 'asn-ipv4-num.csv'), v6: path.join(dir, 'asn-ipv6.csv') };
}

/** Growable typed array while loading; trimmed to its length at the end. */
class U32Builder {
  buf = new Uint32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  done(): Uint32Array {
    return this.buf.slice(0, this.length);
  }
}

class OrgTableBuilder {
  private readonly ids = new Map<string, number>();
  private readonly parts: string[] = [];
  private readonly offsets = new U32Builder();
  private size = 0;
  constructor() {
    this.offsets.push(0);
  }
  id(org: string): number {
    let id = this.ids.get(org);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(org, id);
      this.parts.push(org);
      this.size += org.length;
      this.offsets.push(this.size);
    }
    return id;
  }
  done(): { text: string; offsets: Uint32Array } {
    // One string (join builds it flat), not tens of thousands of small ones.
    return { text: this.parts.join(''), offsets: this.offsets.done() };
  }
}

/**
 * A cursor over CSV text of the files' shape: plain fields, the last one maybe quoted.
 * Numbers are read from character codes, so a row costs one slice (the organisation).
 */
class CsvCursor {
  at = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.at >= this.text.length;
  }
  /** A decimal number up to the next comma, or -1. */
  number(): number {
    const t = this.text;
    let n = 0;
    let digits = 0;
    let c = t.charCodeAt(this.at);
    while (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits++;
      c = t.charCodeAt(++this.at);
    }
    if (digits === 0 || digits > 16 || c !== 44 /* , */) return -1;
    this.at++;
    return n;
  }
  /** The raw text up to the next comma (not consumed past it), or null at a line end. */
  field(): string | null {
    const t = this.text;
    const start = this.at;
    let c = t.charCodeAt(this.at);
    while (c === c && c !== 44 && c !== 10) c = t.charCodeAt(++this.at);
    if (c !== 44) return null;
    this.at++;
    return t.slice(start, this.at - 1);
  }
  /** The rest of the line as the last field (unquoted), and moves to the next line. */
  lastField(): string {
    const t = this.text;
    let nl = t.indexOf('\n', this.at);
    if (nl < 0) nl = t.length;
    let end = nl;
    if (end > this.at && t.charCodeAt(end - 1) === 13) end--;
    let v: string;
    if (t.charCodeAt(this.at) === 34 /* " */) {
      v = t.slice(this.at + 1, t.charCodeAt(end - 1) === 34 && end - 1 > this.at ? end - 1 : end);
      if (v.includes('""')) v = v.replaceAll('""', '"');
    } else {
      v = t.slice(this.at, end);
    }
    this.at = nl + 1;
    return v;
  }
  skipLine(): void {
    const nl = this.text.indexOf('\n', this.at);
    this.at = nl < 0 ? this.text.length : nl + 1;
  }
}

/** a < b for 128-bit values as four words each. */
function lt128(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  for (let i = 0; i < 4; i++) {
    const x = a[ai + i]!;
    const y = b[bi + i]!;
    if (x !== y) return x < y;
  }
  return false;
}

const probe = new Uint32Array(4);

export class AsnTable {
  private constructor(
    private readonly v4Start: Uint32Array,
    private readonly v4End: Uint32Array,
    private readonly v4Asn: Uint32Array,
    private readonly v4Org: Uint32Array,
    private readonly v6Start: Uint32Array,
    private readonly v6End: Uint32Array,
    private readonly v6Asn: Uint32Array,
    private readonly v6Org: Uint32Array,
    private readonly orgText: string,
    private readonly orgOffsets: Uint32Array,
    /** Rows skipped at load because they could not be read. */
    readonly skipped: number,
  ) {}

  /** Reads the two CSV files (the bundled ones by default). */
  static async load(files: { v4: string; v6: string } = bundledAsnFiles()): Promise<AsnTable> {
    const [v4, v6] = await Promise.all([fs.promises.readFile(files.v4, 'utf8'), fs.promises.readFile(files.v6, 'utf8')]);
    return AsnTable.fromCsv(v4, v6);
  }

  /**
   * Builds the table from CSV text. IPv4 bounds may be dotted quads or numbers, IPv6
   * bounds are addresses. Rows that cannot be read are skipped and counted.
   */
  static fromCsv(v4Text: string, v6Text: string): AsnTable {
    const orgs = new OrgTableBuilder();
    let skipped = 0;
    const s4 = new U32Builder(), e4 = new U32Builder(), a4 = new U32Builder(), o4 = new U32Builder();
    const c4 = new CsvCursor(v4Text);
    while (!c4.done) {
      const line = c4.at;
      let start = c4.number();
      let end = start < 0 ? -1 : c4.number();
      if (start < 0) {
        // Dotted quads instead of numbers.
        c4.at = line;
        const a = c4.field();
        const b = a === null ? null : c4.field();
        start = a === null ? -1 : ipv4ToInt(a);
        end = b === null ? -1 : ipv4ToInt(b);
      }
      const asn = end < 0 ? -1 : c4.number();
      if (start < 0 || end < start || end > 0xffffffff || asn < 0 || asn > 0xffffffff) {
        c4.at = line;
        c4.skipLine();
        if (c4.at - line > 1) skipped++;
        continue;
      }
      s4.push(start);
      e4.push(end);
      a4.push(asn);
      o4.push(orgs.id(c4.lastField()));
    }
    const s6 = new U32Builder(), e6 = new U32Builder(), a6 = new U32Builder(), o6 = new U32Builder();
    const w = new Uint32Array(8);
    const c6 = new CsvCursor(v6Text);
    while (!c6.done) {
      const line = c6.at;
      const a = c6.field();
      const b = a === null ? null : c6.field();
      const asn = b === null ? -1 : c6.number();
      if (asn < 0 || asn > 0xffffffff || !ipv6ToWords(a!, w, 0) || !ipv6ToWords(b!, w, 4) || lt128(w, 4, w, 0)) {
        c6.at = line;
        c6.skipLine();
        if (c6.at - line > 1) skipped++;
        continue;
      }
      for (let i = 0; i < 4; i++) s6.push(w[i]!);
      for (let i = 4; i < 8; i++) e6.push(w[i]!);
      a6.push(asn);
      o6.push(orgs.id(c6.lastField()));
    }
    const org = orgs.done();
    const t = new AsnTable(s4.done(), e4.done(), a4.done(), o4.done(), s6.done(), e6.done(), a6.done(), o6.done(), org.text, org.offsets, skipped);
    t.checkSorted();
    return t;
  }

  get rangeCount(): { v4: number; v6: number } {
    return { v4: this.v4Start.length, v6: this.v6Asn.length };
  }

  get orgCount(): number {
    return this.orgOffsets.length - 1;
  }

  /** Bytes held: the typed arrays plus the organisation string (at 2 bytes a character at most). */
  get byteLength(): number {
    const arrays = [this.v4Start, this.v4End, this.v4Asn, this.v4Org, this.v6Start, this.v6End, this.v6Asn, this.v6Org, this.orgOffsets];
    let n = 0;
    for (const a of arrays) n += a.byteLength;
    let wide = false;
    for (let i = 0; i < this.orgText.length && !wide; i++) wide = this.orgText.charCodeAt(i) > 0xff;
    return n + this.orgText.length * (wide ? 2 : 1);
  }

  /** ASN and organisation of an address, or null when no range holds it. */
  lookup(ip: ParsedIp): AsnInfo | null {
    return ip.family === 4 ? this.lookup4(ip.v4) : this.lookup6(ip.words);
  }

  lookup4(n: number): AsnInfo | null {
    const starts = this.v4Start;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= n) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    // A few ranges overlap an earlier, wider one: look back a little for one that holds n.
    for (let i = found; i >= 0 && i > found - 4; i--) {
      if (this.v4End[i]! >= n) return this.info(this.v4Asn[i]!, this.v4Org[i]!);
    }
    return null;
  }

  lookup6(words: Uint32Array): AsnInfo | null {
    probe.set(words.subarray(0, 4));
    let lo = 0;
    let hi = this.v6Asn.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (!lt128(probe, 0, this.v6Start, mid * 4)) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    for (let i = found; i >= 0 && i > found - 4; i--) {
      if (!lt128(this.v6End, i * 4, probe, 0)) return this.info(this.v6Asn[i]!, this.v6Org[i]!);
    }
    return null;
  }

  private info(asn: number, orgId: number): AsnInfo | null {
    if (asn === 0) return null; // AS0: "not routed"
    const org = this.orgText.slice(this.orgOffsets[orgId]!, this.orgOffsets[orgId + 1]!);
    return { asn, org: org === '' ? null : org };
  }

  /** Bisection needs rows sorted by start; a file that is not is a packaging error. */
  private checkSorted(): void {
    for (let i = 1; i < this.v4Start.length; i++) {
      if (this.v4Start[i]! < this.v4Start[i - 1]!) throw new Error(`ASN table: IPv4 row ${i + 1} starts before the row above it; the CSV must be sorted by start`);
    }
    for (let i = 1; i < this.v6Asn.length; i++) {
      if (lt128(this.v6Start, i * 4, this.v6Start, (i - 1) * 4)) throw new Error(`ASN table: IPv6 row ${i + 1} starts before the row above it; the CSV must be sorted by start`);
    }
  }
}
