// Which configuration file a command reads, and where the package itself lives. The one
// lookup every command goes through (loadConfig calls it): --config, then $LOGWARD_CONFIG,
// then /etc/logward/logward.yaml, then ./config/logward.yaml, then the configuration the
// package ships. It only looks at the file system; it never reads or parses a file.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package: two levels above this module (dist/config/locate.js, or
 * src/config/locate.ts under a test runner), wherever npm put it. The builtin rules and
 * the packaged default config are found from here, never from the working directory.
 */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The configuration shipped with the package (config/logward.yaml). */
export const PACKAGED_CONFIG = path.join(PACKAGE_ROOT, 'config', 'logward.yaml');

/** The builtin rules: the default of rules.files. */
export const PACKAGED_RULES = path.join(PACKAGE_ROOT, 'config', 'rules', '*.yaml');

/** The host-wide configuration (systemd/logward.yaml is its template). */
export const SYSTEM_CONFIG = '/etc/logward/logward.yaml';

/** The configuration of a checkout or a copy of the project, relative to the working directory. */
export const LOCAL_CONFIG = path.join('config', 'logward.yaml');

/** How the file was chosen; `logward validate` says it. */
export type ConfigOrigin = 'option' | 'env' | 'system' | 'local' | 'packaged' | 'none';

export interface LocatedConfig {
  /** The file to read (as given or found), or null: no file at all, schema defaults only. */
  readonly file: string | null;
  readonly origin: ConfigOrigin;
}

export interface LocateOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Tests move /etc/logward/logward.yaml elsewhere. */
  readonly systemFile?: string;
  readonly packagedFile?: string;
}

/**
 * The configuration file to read. A file named by --config or $LOGWARD_CONFIG is returned
 * even when it does not exist (reading it then fails with its name); the other places are
 * only used when they exist.
 */
export function locateConfig(explicit: string | null, opts: LocateOptions = {}): LocatedConfig {
  if (explicit !== null) return { file: explicit, origin: 'option' };
  const fromEnv = (opts.env ?? process.env).LOGWARD_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return { file: fromEnv, origin: 'env' };
  const system = opts.systemFile ?? SYSTEM_CONFIG;
  if (isFile(system)) return { file: system, origin: 'system' };
  const local = opts.cwd === undefined ? LOCAL_CONFIG : path.join(opts.cwd, LOCAL_CONFIG);
  if (isFile(local)) return { file: local, origin: 'local' };
  const packaged = opts.packagedFile ?? PACKAGED_CONFIG;
  if (isFile(packaged)) return { file: packaged, origin: 'packaged' };
  return { file: null, origin: 'none' };
}

/** Why this file, in words, for `logward validate`. */
export function describeOrigin(origin: ConfigOrigin): string {
  switch (origin) {
    case 'option': return 'named by --config';
    case 'env': return 'named by $LOGWARD_CONFIG';
    case 'system': return `found at ${SYSTEM_CONFIG}`;
    case 'local': return `found as ./${LOCAL_CONFIG} in the working directory`;
    case 'packaged': return `the packaged default: no --config, no $LOGWARD_CONFIG, no ${SYSTEM_CONFIG}, no ./${LOCAL_CONFIG}`;
    case 'none': return 'no configuration file anywhere';
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
