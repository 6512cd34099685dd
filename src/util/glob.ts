// Minimal file globbing: wildcards (* and ?) in the last path component only, which is
// all that rule files and log sources need ("config/rules/*.yaml", "/var/log/nginx/*.log").

import fs from 'node:fs';
import path from 'node:path';

export function hasWildcard(p: string): boolean {
  return /[*?]/.test(path.basename(p));
}

export function wildcardRegex(pattern: string): RegExp {
  const src = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${src}$`);
}

/** Files matching a pattern, sorted; a pattern without wildcards is returned as is. */
export function expandGlob(pattern: string): string[] {
  if (!hasWildcard(pattern)) return [pattern];
  const dir = path.dirname(pattern);
  const re = wildcardRegex(path.basename(pattern));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n));
}
