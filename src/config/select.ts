// Builds the runtime rule set from the frozen Config plus command-line selection
// (--rules, --window, --threshold). Shared by scan, test-rules and run.

import type { Config } from '../config/types.js';
import { compileRuleSet, type CompiledRuleSet, type DetectionSpec } from '../core/rules.js';
import { AppError } from '../util/errors.js';

export interface Selection {
  rules?: readonly string[];
  windowSecs?: number;
  threshold?: number;
}

export function selectRuleSet(config: Config, sel: Selection, command: string): CompiledRuleSet {
  const all = config.detection.rules;
  const known = all.map((r) => r.name);
  const names = sel.rules ?? config.enabledRules;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new AppError('USAGE', `unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known rules: ${known.join(', ')}; see \`logward ${command} --help\``);
  }
  const chosen = all
    .filter((r) => names.includes(r.name))
    .map((r) => ({
      ...r,
      // The prototype's --window/--threshold apply to every selected rule; the cooldown
      // follows the window so a burst stays one incident.
      windowMs: sel.windowSecs !== undefined ? sel.windowSecs * 1000 : r.windowMs,
      cooldownMs: sel.windowSecs !== undefined ? sel.windowSecs * 1000 : r.cooldownMs,
      threshold: sel.threshold ?? r.threshold,
    }));
  const spec: DetectionSpec = { ...config.detection, rules: chosen };
  const { ruleset, problems } = compileRuleSet(spec);
  if (problems.length > 0) {
    throw new AppError('CONFIG_INVALID', 'the selected rules do not compile', { details: problems.map((p) => `${p.path}: ${p.message}`) });
  }
  return ruleset;
}
