// Reading YAML for the config and the rule files: parse with every syntax error located
// (file:line:col), refuse alias tricks (an alias to a later anchor, expansion bombs, a node
// containing itself), and interpolate ${ENV} in every string. The one module that imports
// the yaml package. It never validates what the document means: the schema does.

import YAML from 'yaml';
import type { Problem } from '../core/rules.js';
import { interpolate } from './env.js';
import { oneLine } from '../util/text.js';

export function parseYaml(text: string, file: string, problems: Problem[]): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      problems.push({ path: pos === undefined ? file : `${file}:${pos.line}:${pos.col}`, message: `YAML syntax: ${excerpt((e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, ''))}` });
    }
    return {};
  }
  let value: unknown;
  try {
    // Throws on an alias to an anchor defined later, and on alias expansion past the
    // library's bound (a "billion laughs" file).
    value = doc.toJS();
  } catch (err) {
    problems.push({ path: file, message: `YAML: ${excerpt(err instanceof Error ? err.message : String(err))}` });
    return {};
  }
  if (isCyclic(value, new Set())) {
    problems.push({ path: file, message: 'YAML: an alias refers to a node that contains it; a config is a tree' });
    return {};
  }
  return value;
}

/**
 * A parser message quotes the text it stumbled on (a tag, an alias, a directive): one
 * line, escaped, short, since the file may be a link to a secret.
 */
function excerpt(message: string): string {
  return oneLine(message, 100);
}

function isCyclic(v: unknown, ancestors: Set<object>): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (ancestors.has(v)) return true;
  ancestors.add(v);
  for (const x of Object.values(v)) if (isCyclic(x, ancestors)) return true;
  ancestors.delete(v);
  return false;
}

export function interpolateTree(v: unknown, env: NodeJS.ProcessEnv, missing: (name: string, at: string) => void, at = ''): unknown {
  if (typeof v === 'string') return interpolate(v, env, (n) => missing(n, at || '(root)'));
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, env, missing, `${at}[${i}]`));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // defineProperty: a "__proto__" key must stay a key (and be reported as unknown), not
      // become the object's prototype, which would silently drop it.
      Object.defineProperty(out, k, { value: interpolateTree(x, env, missing, at === '' ? k : `${at}.${k}`), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

