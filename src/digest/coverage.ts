// What the daemon read since the last digest, per source: lines, lines not parsed, lines
// no rule matched (with their most frequent shapes, so rule coverage is visible) and when
// the source last grew. Kept in the state file, so a restart does not blank the digest.
// Bounded: at most MAX_SHAPES shapes per source; later new shapes are counted as other.

import { UNMATCHED_SAMPLE } from '../core/detector.js';

export interface SourceCoverage {
  kind: 'file' | 'journal';
  lines: number;
  notParsed: number;
  /** Parsed lines that gave no event. */
  unmatched: number;
  events: number;
  /** Wall-clock ms of the last read that brought lines, or null. */
  lastGrowth: number | null;
  /** Unmatched message shapes -> sampled count (see SHAPE_SAMPLE). */
  shapes: Record<string, number>;
  otherShapes: number;
}

export interface CoverageSnapshot {
  /** Wall-clock ms the counting started (the previous digest). */
  since: number;
  sources: Record<string, SourceCoverage>;
}

/** The detector shapes one unmatched line in this many: each stands for that many. */
export const SHAPE_SAMPLE = UNMATCHED_SAMPLE;
const MAX_SHAPES = 200;
const MAX_SHAPE_CHARS = 100;

/** Absolute counters of one reader, as the detector keeps them. */
export interface ReaderCounts {
  lines: number;
  unparsed: number;
  parsed: number;
  events: number;
  matchedLines: number;
}

export class Coverage {
  private snap: CoverageSnapshot;
  /** Last absolute counts seen per source (counters restart when a reader is rebuilt). */
  private readonly prev = new Map<string, ReaderCounts>();
  /** Shapes per source, so a new shape does not count the object's keys. */
  private readonly shapeCounts = new Map<string, number>();

  constructor(since: number, restored: CoverageSnapshot | null = null) {
    this.snap = restored ?? { since, sources: {} };
  }

  get since(): number {
    return this.snap.since;
  }

  /** Adds what a reader counted since the last observe(). */
  observe(label: string, kind: 'file' | 'journal', now: ReaderCounts, wallMs: number): void {
    const before = this.prev.get(label);
    const d = (k: keyof ReaderCounts): number => {
      const b = before?.[k] ?? 0;
      return now[k] >= b ? now[k] - b : now[k];
    };
    this.prev.set(label, { ...now });
    const dl = d('lines');
    const s = this.source(label, kind);
    if (dl === 0) return;
    s.lines += dl;
    s.notParsed += d('unparsed');
    s.unmatched += Math.max(0, d('parsed') - d('matchedLines'));
    s.events += d('events');
    s.lastGrowth = wallMs;
  }

  /** A sampled unmatched message (see SHAPE_SAMPLE). */
  unmatched(label: string, kind: 'file' | 'journal', message: string): void {
    const s = this.source(label, kind);
    const shape = shapeOf(message);
    if (s.shapes[shape] !== undefined) {
      s.shapes[shape] += SHAPE_SAMPLE;
      return;
    }
    const n = this.shapeCounts.get(label) ?? Object.keys(s.shapes).length;
    if (n < MAX_SHAPES) {
      s.shapes[shape] = SHAPE_SAMPLE;
      this.shapeCounts.set(label, n + 1);
    } else {
      s.otherShapes += SHAPE_SAMPLE;
    }
  }

  /** Makes sure a source is listed (a source that read nothing is news in a digest). */
  source(label: string, kind: 'file' | 'journal'): SourceCoverage {
    let s = this.snap.sources[label];
    if (s === undefined) {
      s = { kind, lines: 0, notParsed: 0, unmatched: 0, events: 0, lastGrowth: null, shapes: {}, otherShapes: 0 };
      this.snap.sources[label] = s;
    }
    return s;
  }

  /** Wall-clock ms of the last read that brought lines to a source, or null (no copy made). */
  lastGrowth(label: string): number | null {
    return this.snap.sources[label]?.lastGrowth ?? null;
  }

  snapshot(): CoverageSnapshot {
    return structuredClone(this.snap);
  }

  /** Starts a new period; the last growth of each source is kept (it is not per period). */
  reset(wallMs: number): void {
    const sources: Record<string, SourceCoverage> = {};
    for (const [label, s] of Object.entries(this.snap.sources)) {
      sources[label] = { kind: s.kind, lines: 0, notParsed: 0, unmatched: 0, events: 0, lastGrowth: s.lastGrowth, shapes: {}, otherShapes: 0 };
    }
    this.snap = { since: wallMs, sources };
    this.shapeCounts.clear();
  }
}

/**
 * The shape of a message: what stays when the variable parts go. Addresses, numbers and
 * hex ids become placeholders, so "Connection closed by 192.0.2.7 port 51234" and every
 * other such line count as one shape.
 */
export function shapeOf(message: string): string {
  let s = message.length > 400 ? message.slice(0, 400) : message;
  s = s
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>')
    .replace(/\b[0-9a-f]*:[0-9a-f:]*:[0-9a-f:.]*\b/gi, '<ip>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > MAX_SHAPE_CHARS ? `${s.slice(0, MAX_SHAPE_CHARS)}…` : s;
}
