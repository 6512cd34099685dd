// Rule and matcher specifications (frozen plain data produced by the config loader) and
// their compilation. Every regex is compiled exactly once here; a rule's key must be a
// field every one of its matchers can produce, checked at load, not at the first event.

import type { FormatName, Severity } from './types.js';
import { firstChars } from './first-chars.js';
import { backtrackRisk } from './regex/safety.js';

export interface PatternSpec {
  readonly regex: string;
  /** false: remember the captures in the connection context, emit nothing. */
  readonly emit: boolean;
  readonly set: readonly string[];
  readonly requires: readonly string[];
  /** Emit only when the connection context has seen at least this many distinct users. */
  readonly minUsers: number;
  /** Forget the connection context after this match. */
  readonly clear: boolean;
}

export interface MatcherSpec {
  readonly name: string;
  readonly description: string;
  readonly formats: readonly FormatName[] | null;
  readonly programs: readonly string[] | null;
  /** Records of these programs are skipped (e.g. sudo's PAM lines in a generic PAM matcher). */
  readonly excludePrograms: readonly string[];
  /** Only records with one of these HTTP statuses (access logs). */
  readonly statuses: readonly number[] | null;
  /** Record fields that must be present (e.g. user: a 401 that carried a user name). */
  readonly requireFields: readonly ('ip' | 'user' | 'host' | 'program')[];
  readonly prefilter: readonly string[] | null;
  readonly caseInsensitive: boolean;
  readonly ignore: readonly string[];
  readonly patterns: readonly PatternSpec[];
  /** Records whose syslog severity is this or more severe (lower) match without a pattern. */
  readonly maxSeverity: number | null;
  readonly context: { readonly ttlMs: number; readonly maxEntries: number } | null;
  /** Where it was defined, for messages ("config/rules/ssh.yaml"). */
  readonly origin: string;
}

export interface RuleSpec {
  readonly name: string;
  readonly description: string;
  readonly matchers: readonly string[];
  /** null: one window for the whole host. */
  readonly key: string | null;
  readonly windowMs: number;
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly severity: Severity;
  readonly origin: string;
}

export interface DetectionLimits {
  /** Keys held per rule; the stalest is evicted first (counted). */
  readonly maxKeysPerRule: number;
  readonly maxSamplesPerIncident: number;
  /** Distinct ips/users/hosts kept per incident. */
  readonly maxValuesPerIncident: number;
  /** Longest sample text kept, in characters. */
  readonly maxSampleChars: number;
}

export interface DetectionSpec {
  readonly matchers: readonly MatcherSpec[];
  readonly rules: readonly RuleSpec[];
  readonly limits: DetectionLimits;
}

/** Fields every event carries; a rule may key on them without a named group. */
export const EVENT_FIELDS = ['ip', 'user', 'host', 'program'] as const;

export interface CompiledPattern {
  readonly re: RegExp;
  readonly emit: boolean;
  /** Connection flags as bits (a matcher has at most 31 distinct flag names). */
  readonly setMask: number;
  readonly requiresMask: number;
  readonly minUsers: number;
  readonly clear: boolean;
}

export interface CompiledRule {
  readonly spec: RuleSpec;
  readonly index: number;
}

export interface CompiledMatcher {
  readonly spec: MatcherSpec;
  readonly name: string;
  readonly formats: ReadonlySet<FormatName> | null;
  readonly programs: ReadonlySet<string> | null;
  readonly excludePrograms: ReadonlySet<string>;
  readonly statuses: ReadonlySet<number> | null;
  readonly requireFields: readonly ('ip' | 'user' | 'host' | 'program')[];
  readonly prefilter: readonly string[] | null;
  readonly ignore: readonly RegExp[];
  readonly patterns: readonly CompiledPattern[];
  readonly maxSeverity: number | null;
  readonly context: { readonly ttlMs: number; readonly maxEntries: number } | null;
  /** Named groups any pattern can capture besides ip and user. */
  readonly extraGroups: readonly string[];
  /** Enabled rules fed by this matcher. */
  readonly rules: readonly CompiledRule[];
  /**
   * Pattern indexes to try by the message's first character (index 128: any other
   * character): "^Failed ..." is never run on a message starting with "C".
   */
  readonly dispatch: readonly (readonly number[])[];
  /**
   * Per first character, the patterns of dispatch as one sticky alternation over the whole
   * line from the message offset (see buildStickyGate), so a line can be rejected before
   * its record is built; compiled on first use, null where not derivable.
   */
  readonly stickyGates: (RegExp | null | undefined)[];
  /** Sticky gates of subsets of a slot's patterns (those whose flags are live), by slot. */
  readonly subsetGates: (Map<number, RegExp | null> | undefined)[];
}

/** dispatch slot of a message's first character. */
export function slotOf(code: number): number {
  return code < 128 ? code : 128;
}

export interface CompiledRuleSet {
  readonly matchers: readonly CompiledMatcher[];
  readonly rules: readonly CompiledRule[];
  readonly limits: DetectionLimits;
}

export interface Problem {
  readonly path: string;
  readonly message: string;
}

const GROUP_NAME = /\(\?<([A-Za-z_$][\w$]*)>/g;

export function groupNames(source: string): string[] {
  return [...source.matchAll(GROUP_NAME)].map((m) => m[1]!);
}

/** Compiles one regex, or returns the engine's reason it is invalid. */
export function tryCompile(source: string, flags: string): RegExp | string {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
  }
}

/**
 * Compiles a rule's regex and refuses one that can backtrack catastrophically (see
 * regex/safety.ts): patterns run on text an attacker writes, and one such line could stall
 * the daemon for seconds. Returns the problem as text for the caller's path.
 */
export function compileSafe(source: string, flags: string): RegExp | string {
  const re = tryCompile(source, flags);
  if (typeof re === 'string') return `invalid regular expression: ${re}`;
  const risk = backtrackRisk(source, flags);
  if (risk === null) return re;
  const shown = source.length > 200 ? `${source.slice(0, 200)}...` : source;
  // The check fails closed: a pattern it cannot read or finish is refused, with why.
  const verdict = risk.kind === 'unsupported' || risk.kind === 'too-complex' ? 'cannot be checked for catastrophic backtracking' : 'can backtrack catastrophically';
  return `pattern \`${shown}\` ${verdict}: ${risk.message}`;
}

/**
 * Compiles a validated spec. Problems (bad regexes, unknown matchers, key fields no
 * matcher produces) are all collected; the rule set is usable only when there are none.
 */
/**
 * Checks every rule and matcher of spec and compiles the rules named in `enabled` (all
 * when omitted) into the runtime set: a disabled rule's mistakes are still problems.
 */
export function compileRuleSet(spec: DetectionSpec, enabled?: readonly string[]): { ruleset: CompiledRuleSet; problems: Problem[] } {
  const problems: Problem[] = [];
  const on = enabled === undefined ? null : new Set(enabled);
  const rules: CompiledRule[] = [];
  const compiled = new Map<RuleSpec, CompiledRule>();
  for (const r of spec.rules) {
    if (on !== null && !on.has(r.name)) continue;
    const c = { spec: r, index: rules.length };
    rules.push(c);
    compiled.set(r, c);
  }
  const byMatcher = new Map<string, CompiledRule[]>();
  const matcherSpecs = new Map(spec.matchers.map((m) => [m.name, m]));

  for (const r of spec.rules) {
    const rule = compiled.get(r);
    for (const name of r.matchers) {
      const m = matcherSpecs.get(name);
      if (m === undefined) {
        problems.push({ path: `${r.origin}: rules.${r.name}.matcher`, message: `unknown matcher "${name}"; define it under matchers: or use one of: ${[...matcherSpecs.keys()].join(', ') || '(none)'}` });
        continue;
      }
      if (rule !== undefined) {
        const list = byMatcher.get(name) ?? [];
        list.push(rule);
        byMatcher.set(name, list);
      }
      if (r.key !== null && !(EVENT_FIELDS as readonly string[]).includes(r.key)) {
        const missing = m.patterns.length === 0 || m.patterns.some((p) => p.emit && !groupNames(p.regex).includes(r.key!));
        if (missing) {
          problems.push({ path: `${r.origin}: rules.${r.name}.key`, message: `key "${r.key}" is not a named group of every emitting pattern of matcher "${name}"; use ip, user, host, program or a group such as (?<${r.key}>...)` });
        }
      }
    }
  }

  const matchers: CompiledMatcher[] = [];
  for (const m of spec.matchers) {
    const flags = m.caseInsensitive ? 'i' : '';
    const at = `${m.origin}: matchers.${m.name}`;
    const patterns: CompiledPattern[] = [];
    const extra = new Set<string>();
    const flagBits = new Map<string, number>();
    const maskOf = (names: readonly string[]): number => {
      let mask = 0;
      for (const n of names) {
        if (!flagBits.has(n)) flagBits.set(n, flagBits.size < 31 ? 1 << flagBits.size : 0);
        mask |= flagBits.get(n)!;
      }
      return mask;
    };
    m.patterns.forEach((p, i) => {
      const re = compileSafe(p.regex, flags);
      if (typeof re === 'string') {
        problems.push({ path: `${at}.patterns[${i}]`, message: re });
        return;
      }
      for (const g of groupNames(p.regex)) if (g !== 'ip' && g !== 'user') extra.add(g);
      patterns.push({ re, emit: p.emit, setMask: maskOf(p.set), requiresMask: maskOf(p.requires), minUsers: p.minUsers, clear: p.clear });
      if ((p.set.length > 0 || p.requires.length > 0 || p.minUsers > 0 || p.clear) && m.context === null) {
        problems.push({ path: `${at}.patterns[${i}]`, message: 'set/requires/min_users/clear need a connection context; add context: { ttl_secs: 600 } to the matcher' });
      }
    });
    const ignore: RegExp[] = [];
    m.ignore.forEach((src, i) => {
      const re = compileSafe(src, flags);
      if (typeof re === 'string') problems.push({ path: `${at}.ignore[${i}]`, message: re });
      else ignore.push(re);
    });
    if (flagBits.size > 31) problems.push({ path: at, message: `at most 31 distinct context flags per matcher (found ${flagBits.size})` });
    if (m.patterns.length === 0 && m.maxSeverity === null) {
      problems.push({ path: at, message: 'a matcher needs patterns, max_severity, or both' });
    }
    const fed = byMatcher.get(m.name);
    if (fed === undefined) continue; // no enabled rule uses it: never run it
    // A refused pattern makes the set unusable; the dispatch below would parse it again.
    if (patterns.length !== m.patterns.length) continue;
    matchers.push({
      spec: m,
      name: m.name,
      formats: m.formats === null ? null : new Set(m.formats),
      programs: m.programs === null ? null : new Set(m.programs),
      excludePrograms: new Set(m.excludePrograms),
      statuses: m.statuses === null ? null : new Set(m.statuses),
      requireFields: m.requireFields,
      prefilter: m.prefilter,
      ignore,
      patterns,
      maxSeverity: m.maxSeverity,
      context: m.context,
      extraGroups: [...extra],
      rules: fed,
      dispatch: buildDispatch(m.patterns.map((p) => p.regex), m.caseInsensitive),
      stickyGates: [],
      subsetGates: [],
    });
  }
  return { ruleset: { matchers, rules, limits: spec.limits }, problems };
}

/** See CompiledMatcher.gate. Backreferences would change meaning once groups are merged. */
export function buildGate(sources: readonly string[], flags: string): RegExp | null {
  if (sources.some((src) => /\\[1-9]|\\k</.test(src))) return null;
  const parts = sources.map((src) => src.replace(/\(\?<([A-Za-z_$][\w$]*)>/g, '(?:'));
  const re = tryCompile(parts.map((p) => `(?:${p})`).join('|'), flags);
  return typeof re === 'string' ? null : re;
}

/**
 * See CompiledMatcher.stickyGate. Only for patterns that start with ^, have no top-level
 * alternation (where ^ would bind one branch only) and no lookbehind (which would see the
 * line's header): then "sticky at the message offset" means exactly "anchored at the
 * message start".
 */
export function buildStickyGate(sources: readonly string[], flags: string): RegExp | null {
  const bodies: string[] = [];
  for (const src of sources) {
    if (!src.startsWith('^') || src.includes('(?<=') || src.includes('(?<!') || hasTopLevelAlternation(src)) return null;
    bodies.push(src.slice(1));
  }
  const gate = buildGate(bodies, `${flags}y`);
  return gate;
}

function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (c === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

function buildDispatch(sources: readonly string[], caseInsensitive: boolean): number[][] {
  const sets = sources.map((src) => firstChars(src, caseInsensitive));
  const slots: number[][] = [];
  for (let c = 0; c <= 128; c++) {
    const list: number[] = [];
    sets.forEach((set, i) => {
      if (set === null || (c < 128 && set.has(c))) list.push(i);
    });
    slots.push(list);
  }
  return slots;
}

/** The sticky gate of the patterns at the set bits of `subset` (positions in dispatch[slot]). */
export function subsetGateFor(m: CompiledMatcher, slot: number, subset: number): RegExp | null {
  let cache = m.subsetGates[slot];
  if (cache === undefined) m.subsetGates[slot] = cache = new Map();
  let g = cache.get(subset);
  if (g === undefined) {
    const list = m.dispatch[slot]!.filter((_, k) => (subset & (1 << k)) !== 0);
    g = list.length === 0 ? null : buildStickyGate(list.map((i) => m.spec.patterns[i]!.regex), m.spec.caseInsensitive ? 'i' : '');
    if (cache.size < 1024) cache.set(subset, g);
  }
  return g;
}

/** The sticky gate of one dispatch slot (see CompiledMatcher.stickyGates), cached. */
export function stickyGateFor(m: CompiledMatcher, slot: number): RegExp | null {
  let g = m.stickyGates[slot];
  if (g === undefined) {
    const list = m.dispatch[slot]!;
    g = list.length === 0 ? null : buildStickyGate(list.map((i) => m.spec.patterns[i]!.regex), m.spec.caseInsensitive ? 'i' : '');
    m.stickyGates[slot] = g;
  }
  return g;
}
