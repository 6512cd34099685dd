// The detection core that scan and run both drive: line -> parse -> match -> window ->
// incident. Pure: it is fed lines and calls a listener; it never reads a file or a clock.
// Line numbers, counters and connection context are per source; windows are per rule and
// shared by every source, so an attack spread over two files is one incident.

import { FormatChain, ParseContext, detectFormat, DETECT_LINES } from './parse/index.js';
import { MatchEngine, MatchState, quickReject, type MatchHit } from './matcher.js';
import { PROBE_INVALID, probeSyslog, type SyslogProbe } from './parse/syslog.js';
import { slotOf } from './rules.js';
import type { CompiledRuleSet } from './rules.js';
import type { DetectionEvent, FormatName, Incident, LogRecord, TimeContext } from './types.js';
import type { IncidentListener } from './incident.js';
import { RuleWindow } from './window.js';
import type { KeySnapshot } from './window-snapshot.js';

export interface DetectorSnapshot {
  /** Newest event time seen, or null before any event. */
  watermark: number | null;
  /** Open windows by rule name. */
  rules: Record<string, KeySnapshot[]>;
}
import { detach, keep } from './split.js';
import { visibleLine } from './visible.js';

export interface DetectorListener extends IncidentListener {
  event(ev: DetectionEvent): void;
  /** One in UNMATCHED_SAMPLE parsed lines that gave no event (for the digest's coverage). */
  unmatched?(source: DetectorSource, message: string): void;
}

/** Sampling of unmatched lines: shaping every line would cost the hot path. */
export const UNMATCHED_SAMPLE = 16;

export interface SourceOptions {
  /** The name reported for this source (the path exactly as the user gave it). */
  label: string;
  /** A format name, or 'auto' to detect it from the first lines. */
  format: FormatName | 'auto';
  time: TimeContext;
  /** Line number of the line before the first one fed (resuming a tailed file). */
  startLine?: number;
}

export interface SourceStats {
  lines: number;
  blank: number;
  parsed: number;
  unparsed: number;
  events: number;
  /** Parsed lines that gave at least one event. */
  matchedLines: number;
  format: FormatName | null;
  firstTime: number | null;
  lastTime: number | null;
}

export interface RuleStats {
  events: number;
  /** Events without a value for the rule's key (e.g. no ip): counted, not windowed. */
  unkeyed: number;
  incidents: number;
}

/** How often (event time) windows drop keys nothing can extend any more. */
const EXPIRE_EVERY_MS = 60_000;

export class Detector {
  readonly engine: MatchEngine;
  readonly windows: ReadonlyMap<string, RuleWindow>;
  readonly ruleStats = new Map<string, RuleStats>();
  private watermark = -Infinity;
  private nextExpire = -Infinity;

  constructor(
    readonly ruleset: CompiledRuleSet,
    /** @internal */ readonly listener: DetectorListener,
  ) {
    this.engine = new MatchEngine(ruleset);
    const windows = new Map<string, RuleWindow>();
    for (const rule of ruleset.rules) {
      windows.set(rule.spec.name, new RuleWindow(rule, ruleset.limits, listener));
      this.ruleStats.set(rule.spec.name, { events: 0, unkeyed: 0, incidents: 0 });
    }
    this.windows = windows;
  }

  source(opts: SourceOptions): DetectorSource {
    return new DetectorSource(this, opts);
  }

  /** Newest event time seen (event-time "now"), or -Infinity before any event. */
  get eventTime(): number {
    return this.watermark;
  }

  /** @internal one matcher hit on one record: an event per rule fed by the matcher. */
  hit(hit: MatchHit, rec: LogRecord, src: DetectorSource, lineNo: number): void {
    const text = src.retainedText();
    const t = rec.time;
    if (t > this.watermark) {
      this.watermark = t;
      if (t >= this.nextExpire) {
        for (const w of this.windows.values()) w.expire(t);
        this.nextExpire = t + EXPIRE_EVERY_MS;
      }
    }
    // Captures are slices of the decoded chunk: detach what events keep (see detach()).
    const ip = keep(hit.ip);
    const user = keep(hit.user);
    const host = keep(rec.host);
    const program = keep(rec.program);
    let extra = hit.extra;
    if (extra !== null) {
      const copy: Record<string, string> = {};
      for (const k in extra) copy[k] = detach(extra[k]!);
      extra = copy;
    }
    for (const rule of hit.matcher.rules) {
      const spec = rule.spec;
      const ev: DetectionEvent = {
        rule: spec.name,
        matcher: hit.matcher.name,
        source: src.label,
        line: lineNo,
        time: t,
        ip,
        user,
        host,
        program,
        text,
      };
      src.stats.events++;
      const rs = this.ruleStats.get(spec.name)!;
      rs.events++;
      this.listener.event(ev);
      const key = spec.key === null ? '' : keyOf(spec.key, ev, extra);
      if (key === null) {
        rs.unkeyed++;
        continue;
      }
      this.windows.get(spec.name)!.add(key, ev);
    }
  }

  /** Every rule's open incidents, oldest fired first. */
  openIncidents(): Incident[] {
    const out: Incident[] = [];
    for (const w of this.windows.values()) out.push(...w.listOpenIncidents());
    return out.sort((a, b) => a.firedAt - b.firedAt);
  }

  /**
   * The current state of the open incident of `rule` and `key` (null: host-wide), or null
   * when none is open: views that show incidents live ask here instead of counting events.
   */
  openIncident(rule: string, key: string | null): Incident | null {
    return this.windows.get(rule)?.openIncidentOf(key ?? '') ?? null;
  }

  /** Open windows of every rule, plus the event-time clock, for a restart or reload. */
  exportState(): DetectorSnapshot {
    const rules: Record<string, KeySnapshot[]> = {};
    for (const [name, w] of this.windows) if (w.size > 0) rules[name] = w.exportState();
    return { watermark: Number.isFinite(this.watermark) ? this.watermark : null, rules };
  }

  /** Restores exportState() output; windows of rules that no longer exist are dropped. */
  importState(snap: DetectorSnapshot): void {
    if (snap.watermark !== null && snap.watermark > this.watermark) this.watermark = snap.watermark;
    for (const [name, keys] of Object.entries(snap.rules)) this.windows.get(name)?.importState(keys);
  }

  /** End of all input: every open incident is closed and reported. */
  flush(): void {
    for (const w of this.windows.values()) w.flush();
    for (const [name, w] of this.windows) this.ruleStats.get(name)!.incidents = w.stats.incidents;
  }
}

function keyOf(field: string, ev: DetectionEvent, extra: Record<string, string> | null): string | null {
  switch (field) {
    case 'ip': return ev.ip;
    case 'user': return ev.user;
    case 'host': return ev.host;
    case 'program': return ev.program;
    default: return extra?.[field] ?? null;
  }
}

export class DetectorSource {
  readonly label: string;
  readonly stats: SourceStats = { lines: 0, blank: 0, parsed: 0, unparsed: 0, events: 0, matchedLines: 0, format: null, firstTime: null, lastTime: null };
  private unmatchedTick = UNMATCHED_SAMPLE;
  readonly matchState = new MatchState();
  private readonly time: ParseContext;
  private readonly forced: FormatName | null;
  private chain: FormatChain | null = null;
  /** Lines held until the format is known. */
  private pending: string[] = [];
  /** Absolute line number of the last line processed (1-based lines). */
  private lineNo: number;
  private rec: LogRecord | null = null;
  private text = '';
  private detached: string | null = null;
  /** The syslog fast path is on (the source's format is RFC 3164). */
  private probing = false;
  private readonly probe: SyslogProbe = { time: 0, program: null };
  private readonly onHitAt = (hit: MatchHit): void => this.detector.hit(hit, this.rec!, this, this.lineNo);

  /** The current line as a string that may be kept (see detach()). */
  retainedText(): string {
    this.detached ??= detach(this.text);
    return this.detached;
  }

  constructor(
    private readonly detector: Detector,
    opts: SourceOptions,
  ) {
    this.label = opts.label;
    this.time = new ParseContext(opts.time);
    this.forced = opts.format === 'auto' ? null : opts.format;
    this.lineNo = opts.startLine ?? 0;
    if (this.forced !== null) {
      this.chain = new FormatChain(this.forced, true);
      this.stats.format = this.forced;
      this.probing = this.forced === 'syslog';
    }
  }

  /** Number of the next line fed (a tailer that switched files starts again at 1). */
  get nextLine(): number {
    return this.lineNo + this.pending.length + 1;
  }

  /** Sets the number of the next line fed. */
  setNextLine(n: number): void {
    this.settle();
    this.lineNo = n - 1 - this.pending.length;
  }

  /**
   * Feeds one line (without its newline). From here on, parsers, patterns and events see
   * it with separators and controls escaped (see visible.ts), whichever source fed it.
   */
  line(raw: string): void {
    const text = visibleLine(raw);
    if (this.chain === null) {
      this.pending.push(text);
      if (this.pending.length >= DETECT_LINES) this.settle();
      return;
    }
    this.process(text);
  }

  /**
   * Processes lines held for format detection now, with what has arrived so far.
   * scan calls it at the end; run calls it after each read so a short file is not held.
   */
  settle(): void {
    if (this.chain !== null) return;
    const sample = this.pending.filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const found = detectFormat(sample.slice(0, DETECT_LINES), this.time);
    if (found === null && sample.length === 0) return; // nothing to decide on yet
    this.chain = new FormatChain(found, false);
    this.stats.format = found;
    this.probing = found === 'syslog';
    const held = this.pending;
    this.pending = [];
    for (const l of held) this.process(l);
  }

  end(): void {
    if (this.chain === null) {
      const held = this.pending;
      if (held.every((l) => l.trim() === '' || l.startsWith('#'))) {
        // Only blank or comment lines: nothing to detect, still counted.
        this.pending = [];
        this.chain = new FormatChain(null, false);
        for (const l of held) this.process(l);
        return;
      }
      this.settle();
    }
  }

  private process(text: string): void {
    const st = this.stats;
    st.lines++;
    this.lineNo++;
    if (text.length === 0) {
      st.blank++;
      return;
    }
    if (this.probing) {
      // Most lines of an auth.log match no rule: validate them and reject them by their
      // program and the matchers' literals or sticky gates, without building a record.
      const probe = this.probe;
      const ms = probeSyslog(text, this.time, probe);
      if (ms >= 0) {
        const cands = this.detector.engine.syslogPlan(probe.program)[slotOf(text.charCodeAt(ms))]!;
        let rejected = true;
        for (let i = 0; i < cands.length; i++) {
          if (!quickReject(cands[i]!, text, ms, this.matchState)) {
            rejected = false;
            break;
          }
        }
        if (rejected) {
          st.parsed++;
          if (st.firstTime === null) st.firstTime = probe.time;
          st.lastTime = probe.time;
          if (--this.unmatchedTick === 0) this.sampleUnmatched(text.slice(ms));
          return;
        }
      } else if (ms === PROBE_INVALID && this.chain!.pinned) {
        st.unparsed++;
        return;
      }
    }
    const rec = this.chain!.parse(text, this.time);
    if (rec === null) {
      st.unparsed++;
      return;
    }
    st.parsed++;
    if (st.firstTime === null) st.firstTime = rec.time;
    st.lastTime = rec.time;
    this.rec = rec;
    this.text = text;
    this.detached = null;
    const before = st.events;
    this.detector.engine.match(rec, this.matchState, this.onHitAt);
    if (st.events !== before) st.matchedLines++;
    else if (--this.unmatchedTick === 0) this.sampleUnmatched(rec.message);
  }

  private sampleUnmatched(message: string): void {
    this.unmatchedTick = UNMATCHED_SAMPLE;
    this.detector.listener.unmatched?.(this, message);
  }
}

export type { Incident };
