// The rule files: found by their globs, each read (a small regular file only, see
// util/small-file.ts), parsed and checked against the rule file schema, matchers and
// rules collected with unique names across files, windows in ms and "the cooldown follows
// the window unless given" applied in one place (retimed). It reads files and reports
// problems; it never compiles a pattern (core/rules.ts does).

import type { MatcherSpec, Problem, RuleSpec } from '../core/rules.js';
import type { Severity } from '../core/types.js';
import { expandGlob } from '../util/glob.js';
import { CONFIG_FILE_MAX_BYTES, fileLabel, readSmallFile } from '../util/small-file.js';
import { ruleFileSchema, zodProblems, type RawRuleFile } from './schema.js';
import { parseYaml } from './yaml.js';

export interface LoadedRule extends RuleSpec {
  readonly enabled: boolean;
  readonly explicitCooldown: boolean;
}

export function stripLoadFields(r: LoadedRule): RuleSpec {
  const { enabled: _e, explicitCooldown: _c, ...spec } = r;
  return spec;
}

export function loadRuleFiles(patterns: readonly string[], problems: Problem[]): { matchers: MatcherSpec[]; rules: LoadedRule[]; files: string[] } {
  const matchers: MatcherSpec[] = [];
  const rules: LoadedRule[] = [];
  const files: string[] = [];
  const seenMatchers = new Map<string, string>();
  const seenRules = new Map<string, string>();
  for (const pattern of patterns) {
    const found = expandGlob(pattern);
    if (found.length === 0) {
      problems.push({ path: `rules.files`, message: `no rule file matches ${pattern}; check the path (a relative path in a config file starts at that file's directory; \`logward validate\` shows the file used)` });
      continue;
    }
    for (const file of found) {
      if (files.includes(file)) continue;
      files.push(file);
      // A glob may match a link to a device or to a secret: only a small regular file is
      // read, and its problems name the file the link leads to.
      const read = readSmallFile(file, CONFIG_FILE_MAX_BYTES);
      const label = fileLabel(file, read.realPath);
      if (!read.ok) {
        problems.push({ path: label, message: `cannot read rule file (${read.reason})` });
        continue;
      }
      const doc = parseYaml(read.text, label, problems);
      const res = ruleFileSchema.safeParse(doc ?? {});
      if (!res.success) {
        problems.push(...zodProblems(res.error, label));
        continue;
      }
      addRuleFile(res.data, file, matchers, rules, seenMatchers, seenRules, problems);
    }
  }
  return { matchers, rules, files };
}

function addRuleFile(
  data: RawRuleFile, file: string, matchers: MatcherSpec[], rules: LoadedRule[],
  seenMatchers: Map<string, string>, seenRules: Map<string, string>, problems: Problem[],
): void {
  for (const m of data.matchers) {
    const prev = seenMatchers.get(m.name);
    if (prev !== undefined) {
      problems.push({ path: `${file}: matchers.${m.name}`, message: `matcher name already defined in ${prev}; names must be unique` });
      continue;
    }
    seenMatchers.set(m.name, file);
    matchers.push({
      name: m.name,
      description: m.description,
      formats: m.formats,
      programs: m.programs,
      excludePrograms: m.exclude_programs,
      statuses: m.statuses,
      requireFields: m.require_fields,
      prefilter: m.prefilter,
      caseInsensitive: m.case_insensitive,
      ignore: m.ignore,
      patterns: m.patterns.map((p) =>
        typeof p === 'string'
          ? { regex: p, emit: true, set: [], requires: [], minUsers: 0, clear: false }
          : { regex: p.regex, emit: p.emit, set: p.set, requires: p.requires, minUsers: p.min_users, clear: p.clear },
      ),
      maxSeverity: m.max_severity,
      context: m.context === null ? null : { ttlMs: m.context.ttl_secs * 1000, maxEntries: m.context.max_entries },
      origin: file,
    });
  }
  for (const r of data.rules) {
    const prev = seenRules.get(r.name);
    if (prev !== undefined) {
      problems.push({ path: `${file}: rules.${r.name}`, message: `rule name already defined in ${prev}; names must be unique` });
      continue;
    }
    seenRules.set(r.name, file);
    rules.push({
      name: r.name,
      description: r.description,
      matchers: typeof r.matcher === 'string' ? [r.matcher] : r.matcher,
      key: r.key,
      windowMs: r.window_secs * 1000,
      threshold: r.threshold,
      cooldownMs: (r.cooldown_secs ?? r.window_secs) * 1000,
      severity: r.severity as Severity,
      origin: file,
      enabled: r.enabled,
      explicitCooldown: r.cooldown_secs !== undefined,
    });
  }
}


/**
 * A rule with a new window, cooldown or threshold. The one place of the rule "the
 * cooldown follows the window unless given", so a burst stays one incident.
 */
export function retimed(r: LoadedRule, windowSecs: number | undefined, cooldownSecs: number | undefined, threshold: number | undefined): LoadedRule {
  const windowMs = windowSecs !== undefined ? windowSecs * 1000 : r.windowMs;
  const followsWindow = windowSecs !== undefined && !r.explicitCooldown;
  return {
    ...r,
    windowMs,
    cooldownMs: cooldownSecs !== undefined ? cooldownSecs * 1000 : followsWindow ? windowMs : r.cooldownMs,
    explicitCooldown: r.explicitCooldown || cooldownSecs !== undefined,
    threshold: threshold ?? r.threshold,
  };
}

