// Turns parsed records into matcher hits. Matchers are indexed by format and program, so
// an nginx line never runs an sshd regex; a literal prefilter runs before any regex.
// Connection context (fail2ban's multi-line sshd state) lives per source, keyed by
// host+program+pid, expires on event time and is bounded in entries.

import { normalizeIp } from './ip.js';
import { keep } from './split.js';
import { slotOf, stickyGateFor, subsetGateFor, type CompiledMatcher, type CompiledRuleSet } from './rules.js';
import type { FormatName, LogRecord } from './types.js';

export interface MatchHit {
  matcher: CompiledMatcher;
  ip: string | null;
  user: string | null;
  /** Named groups other than ip/user, when the matcher has any. */
  extra: Record<string, string> | null;
}

interface ConnectionContext {
  matcher: CompiledMatcher;
  host: string | null;
  program: string | null;
  pid: string | null;
  lastT: number;
  ip: string | null;
  /** Distinct users tried on the connection (at most MAX_CONTEXT_USERS); null before the first. */
  users: string[] | null;
  lastUser: string | null;
  /** Flag bits (CompiledPattern.setMask). */
  flags: number;
}

/** A connection trying thousands of names still holds a small list. */
const MAX_CONTEXT_USERS = 64;

/**
 * The contexts of one pid: almost always one, held without an array. Contexts live for
 * thousands of lines, so V8 promotes each to the old generation, where what they allocate
 * piles up until a full collection: an empty [] pushed once costs 17 slots (measured:
 * ~40% of the bytes promoted per line of an sshd flood were these arrays).
 */
type Entry = ConnectionContext | ConnectionContext[];

/**
 * Per-source match state: one per file or stream. Connection contexts live in two
 * generations: new and touched ones in `cur`; when it is full, `old` (what was not touched
 * for a whole generation) is dropped at once. That bounds memory like an LRU without
 * deleting from a Map's front entry by entry, which V8 makes slow (iteration has to skip
 * every deleted slot; measured: 19% of a scan's time).
 */
export class MatchState {
  /** By pid: a short key that tells connections apart; the list holds (host, program, matcher) variants. */
  private cur = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private curCount = 0;
  private oldCount = 0;
  evictedContexts = 0;
  /**
   * Per matcher, how many live contexts hold each flag bit: a pattern that requires a
   * flag no connection has cannot match, so such lines are rejected without a lookup.
   */
  private readonly flagCounts = new Map<CompiledMatcher, Int32Array>();
  private readonly liveMasks = new Map<CompiledMatcher, number>();

  get size(): number {
    return this.curCount + this.oldCount;
  }

  get(m: CompiledMatcher, rec: LogRecord): ConnectionContext | undefined {
    const k = rec.pid ?? '';
    const c = find(this.cur.get(k), m, rec);
    if (c !== undefined) return c;
    const entry = this.old.get(k);
    const o = find(entry, m, rec);
    if (o !== undefined) {
      // Touched: move it to the current generation.
      removeFrom(this.old, k, entry!, o);
      this.oldCount--;
      this.insert(k, o);
    }
    return o;
  }

  add(ctx: ConnectionContext, maxEntries: number): void {
    if (this.curCount >= Math.max(1, maxEntries >> 1)) {
      for (const entry of this.old.values()) {
        if (Array.isArray(entry)) for (const dropped of entry) this.uncount(dropped);
        else this.uncount(entry);
      }
      this.evictedContexts += this.oldCount;
      this.old = this.cur;
      this.oldCount = this.curCount;
      this.cur = new Map();
      this.curCount = 0;
    }
    this.insert(ctx.pid ?? '', ctx);
  }

  drop(ctx: ConnectionContext): void {
    const k = ctx.pid ?? '';
    const entry = this.cur.get(k);
    if (entry !== undefined && holds(entry, ctx)) {
      removeFrom(this.cur, k, entry, ctx);
      this.curCount--;
    } else {
      const olds = this.old.get(k);
      if (olds === undefined || !holds(olds, ctx)) return;
      removeFrom(this.old, k, olds, ctx);
      this.oldCount--;
    }
    this.uncount(ctx);
  }

  private insert(k: string, ctx: ConnectionContext): void {
    const entry = this.cur.get(k);
    if (entry === undefined) this.cur.set(k, ctx);
    else if (Array.isArray(entry)) entry.push(ctx);
    else this.cur.set(k, [entry, ctx]);
    this.curCount++;
  }

  liveFlags(m: CompiledMatcher): number {
    return this.liveMasks.get(m) ?? 0;
  }

  addFlags(m: CompiledMatcher, ctx: ConnectionContext, mask: number): void {
    const added = mask & ~ctx.flags;
    if (added === 0) return;
    ctx.flags |= mask;
    let counts = this.flagCounts.get(m);
    if (counts === undefined) this.flagCounts.set(m, (counts = new Int32Array(31)));
    for (let b = 0; b < 31; b++) if ((added & (1 << b)) !== 0) counts[b]!++;
    this.liveMasks.set(m, (this.liveMasks.get(m) ?? 0) | added);
  }

  private uncount(ctx: ConnectionContext): void {
    if (ctx.flags === 0) return;
    const counts = this.flagCounts.get(ctx.matcher);
    if (counts === undefined) return;
    let live = this.liveMasks.get(ctx.matcher) ?? 0;
    for (let b = 0; b < 31; b++) {
      if ((ctx.flags & (1 << b)) !== 0 && --counts[b]! === 0) live &= ~(1 << b);
    }
    this.liveMasks.set(ctx.matcher, live);
  }
}

const PROGRAM_CACHE_MAX = 1024;

export class MatchEngine {
  private readonly matchers: readonly CompiledMatcher[];
  private readonly index = new Map<FormatName, Map<string, CompiledMatcher[]>>();

  constructor(ruleset: CompiledRuleSet) {
    this.matchers = ruleset.matchers;
  }

  private lastFormat: FormatName | null = null;
  private lastProgram: string | null = null;
  private lastList: CompiledMatcher[] = [];

  /** Matchers that may accept records of this format and program. */
  candidates(format: FormatName, program: string | null): CompiledMatcher[] {
    // Consecutive lines mostly come from the same program: skip the map lookups.
    if (program === this.lastProgram && format === this.lastFormat) return this.lastList;
    const list = this.lookup(format, program);
    this.lastFormat = format;
    this.lastProgram = program;
    this.lastList = list;
    return list;
  }

  private lookup(format: FormatName, program: string | null): CompiledMatcher[] {
    let byProgram = this.index.get(format);
    if (byProgram === undefined) {
      byProgram = new Map();
      this.index.set(format, byProgram);
    }
    const key = program ?? '';
    let list = byProgram.get(key);
    if (list === undefined) {
      list = this.matchers.filter(
        (m) => (m.formats === null || m.formats.has(format))
          && (m.programs === null || (program !== null && m.programs.has(program)))
          && (program === null || !m.excludePrograms.has(program)),
      );
      // Program names come from log text: cap the cache so crafted names cannot grow it.
      if (byProgram.size < PROGRAM_CACHE_MAX) byProgram.set(key, list);
    }
    return list;
  }

  private readonly plans = new Map<string, CompiledMatcher[][]>();
  private lastPlanProgram: string | null | undefined = undefined;
  private lastPlan: CompiledMatcher[][] = [];

  /**
   * For probed syslog lines (records without ip, user or status of their own): per first
   * character of the message, the matchers that could match at all. A line whose slot is
   * empty is rejected with one array lookup.
   */
  syslogPlan(program: string | null): CompiledMatcher[][] {
    if (program === this.lastPlanProgram) return this.lastPlan;
    const key = program ?? '';
    let plan = this.plans.get(key);
    if (plan === undefined) {
      const cands = this.candidates('syslog', program).filter(
        (m) => m.statuses === null && !m.requireFields.some((f) => f === 'ip' || f === 'user'),
      );
      plan = [];
      for (let slot = 0; slot <= 128; slot++) {
        plan.push(cands.filter((m) => m.maxSeverity !== null || m.dispatch[slot]!.length > 0));
      }
      if (this.plans.size < PROGRAM_CACHE_MAX) this.plans.set(key, plan);
    }
    this.lastPlanProgram = program;
    this.lastPlan = plan;
    return plan;
  }

  /** Runs every candidate matcher on the record; calls onHit for each emitted hit. */
  match(rec: LogRecord, state: MatchState, onHit: (hit: MatchHit) => void): void {
    const list = this.candidates(rec.format, rec.program);
    if (list.length === 0) return;
    const msg = rec.message;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      if (m.maxSeverity !== null) {
        if (rec.severity === null || rec.severity > m.maxSeverity) {
          if (m.patterns.length === 0) continue;
        } else if (m.patterns.length === 0) {
          onHit({ matcher: m, ip: rec.ip, user: rec.user, extra: null });
          continue;
        }
      }
      if (m.statuses !== null && (rec.status === null || !m.statuses.has(rec.status))) continue;
      if (m.requireFields.length > 0 && !hasFields(rec, m.requireFields)) continue;
      if (m.dispatch[slotOf(msg.charCodeAt(0))]!.length === 0) continue;
      if (m.prefilter !== null && !hasAny(msg, m.prefilter)) continue;
      if (m.ignore.length > 0 && testAny(msg, m.ignore)) continue;
      this.runPatterns(m, rec, state, onHit);
    }
  }

  private runPatterns(m: CompiledMatcher, rec: LogRecord, state: MatchState, onHit: (hit: MatchHit) => void): void {
    const msg = rec.message;
    let ctx: ConnectionContext | undefined;
    let looked = false;
    const ctxConf = m.context;
    const list = m.dispatch[slotOf(msg.charCodeAt(0))]!;
    for (let k = 0; k < list.length; k++) {
      const p = m.patterns[list[k]!]!;
      if (p.requiresMask !== 0) {
        if (ctxConf === null) continue;
        if (!looked) {
          ctx = liveContext(state, m, rec, ctxConf.ttlMs);
          looked = true;
        }
        if (ctx === undefined || (ctx.flags & p.requiresMask) !== p.requiresMask) continue;
      }
      const g = p.re.exec(msg);
      if (g === null) continue;
      const groups = g.groups;
      let ip = groups?.ip !== undefined && groups.ip !== '' ? normalizeIp(groups.ip) : null;
      let user = groups?.user !== undefined && groups.user !== '' ? groups.user : null;
      if (ctxConf !== null) {
        if (!looked) {
          ctx = liveContext(state, m, rec, ctxConf.ttlMs);
          looked = true;
        }
        if (ctx === undefined) ctx = newContext(m, state, rec, ctxConf.maxEntries);
        ctx.lastT = rec.time;
        // Captures are slices of a decoded chunk: keep copies, or each context pins 64 KiB.
        if (ip !== null) ctx.ip = keep(ip);
        if (user !== null) {
          if (ctx.users === null) ctx.users = [keep(user)!];
          else if (ctx.users.length < MAX_CONTEXT_USERS && !ctx.users.includes(user)) ctx.users.push(keep(user)!);
          ctx.lastUser = keep(user);
        }
        if (p.setMask !== 0) state.addFlags(m, ctx, p.setMask);
      }
      if (p.emit && (p.minUsers === 0 || (ctx !== undefined && (ctx.users?.length ?? 0) >= p.minUsers))) {
        ip ??= rec.ip ?? ctx?.ip ?? null;
        user ??= rec.user ?? ctx?.lastUser ?? null;
        let extra: Record<string, string> | null = null;
        if (m.extraGroups.length > 0 && groups !== undefined) {
          extra = {};
          for (const name of m.extraGroups) {
            const v = groups[name];
            if (v !== undefined) extra[name] = v;
          }
        }
        onHit({ matcher: m, ip, user, extra });
      }
      if (p.clear && ctx !== undefined) state.drop(ctx);
      return;
    }
  }
}

/**
 * True when the matcher certainly cannot match a line whose message starts at msgStart:
 * its literals are absent, or its sticky gate fails. False means "parse and see".
 */
export function quickReject(m: CompiledMatcher, line: string, msgStart: number, state: MatchState): boolean {
  if (m.maxSeverity !== null) return false;
  const slot = slotOf(line.charCodeAt(msgStart));
  const list = m.dispatch[slot]!;
  if (list.length === 0) return true;
  // Patterns that need a flag no live connection has cannot match: leave them out.
  let subset = -1;
  if (m.context !== null && list.length <= 30) {
    const live = state.liveFlags(m);
    subset = 0;
    for (let k = 0; k < list.length; k++) {
      const need = m.patterns[list[k]!]!.requiresMask;
      if ((need & ~live) === 0) subset |= 1 << k;
    }
    if (subset === 0) return true;
    if (subset === (1 << list.length) - 1) subset = -1; // all of them: the slot's own gate
  }
  if (m.prefilter !== null) {
    let found = false;
    for (const lit of m.prefilter) {
      if (line.indexOf(lit, msgStart) !== -1) {
        found = true;
        break;
      }
    }
    if (!found) return true;
  }
  const g = subset === -1 ? stickyGateFor(m, slot) : subsetGateFor(m, slot, subset);
  if (g === null) return false;
  g.lastIndex = msgStart;
  return !g.test(line);
}

function hasFields(rec: LogRecord, fields: readonly string[]): boolean {
  for (const f of fields) {
    if ((f === 'ip' ? rec.ip : f === 'user' ? rec.user : f === 'host' ? rec.host : rec.program) === null) return false;
  }
  return true;
}

function hasAny(msg: string, lits: readonly string[]): boolean {
  for (let i = 0; i < lits.length; i++) if (msg.includes(lits[i]!)) return true;
  return false;
}

function testAny(msg: string, res: readonly RegExp[]): boolean {
  for (let i = 0; i < res.length; i++) if (res[i]!.test(msg)) return true;
  return false;
}


function liveContext(state: MatchState, m: CompiledMatcher, rec: LogRecord, ttlMs: number): ConnectionContext | undefined {
  const ctx = state.get(m, rec);
  if (ctx === undefined) return undefined;
  if (Math.abs(rec.time - ctx.lastT) > ttlMs) {
    state.drop(ctx);
    return undefined;
  }
  return ctx;
}

function newContext(m: CompiledMatcher, state: MatchState, rec: LogRecord, maxEntries: number): ConnectionContext {
  const ctx: ConnectionContext = { matcher: m, host: keep(rec.host), program: keep(rec.program), pid: keep(rec.pid), lastT: rec.time, ip: null, users: null, lastUser: null, flags: 0 };
  state.add(ctx, maxEntries);
  return ctx;
}

function find(entry: Entry | undefined, m: CompiledMatcher, rec: LogRecord): ConnectionContext | undefined {
  if (entry === undefined) return undefined;
  if (!Array.isArray(entry)) return entry.matcher === m && entry.host === rec.host && entry.program === rec.program ? entry : undefined;
  const list = entry;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c.matcher === m && c.host === rec.host && c.program === rec.program) return c;
  }
  return undefined;
}

function holds(entry: Entry, ctx: ConnectionContext): boolean {
  return Array.isArray(entry) ? entry.includes(ctx) : entry === ctx;
}

function removeFrom(map: Map<string, Entry>, k: string, entry: Entry, ctx: ConnectionContext): void {
  if (!Array.isArray(entry)) map.delete(k);
  else if (entry.length === 2) map.set(k, entry[0] === ctx ? entry[1]! : entry[0]!);
  else entry.splice(entry.indexOf(ctx), 1);
}
