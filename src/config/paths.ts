// What a path in a configuration file means. A relative path written in a config file
// starts at that file's directory, so a config works whatever the working directory of
// the command (an npm -g install, systemd, a container). An option left unset takes its
// default: the builtin rules of the package, and for what logward writes, a place the
// user of the command can write: $STATE_DIRECTORY (systemd's StateDirectory=) if set,
// else the working directory. It turns paths into absolute ones; it never touches a file.

import path from 'node:path';
import { PACKAGED_RULES } from './locate.js';
import type { RawConfig } from './schema.js';

export interface PathBase {
  /** The directory of the config file (relative paths written in it start here). */
  readonly configDir: string;
  /** The working directory of the command (defaults of unset write paths start here). */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** systemd's first StateDirectory= (it sets a colon-separated list of absolute paths), or null. */
export function stateDirectoryOf(env: NodeJS.ProcessEnv): string | null {
  const first = (env.STATE_DIRECTORY ?? '').split(':')[0] ?? '';
  return first === '' ? null : path.resolve(first);
}

/** state.dir unset: $STATE_DIRECTORY, else ./data in the working directory. */
export function defaultStateDir(base: PathBase): string {
  return stateDirectoryOf(base.env) ?? path.resolve(base.cwd, 'data');
}

/**
 * reports.dir unset: ./reports in the working directory, as the prototype wrote its reports
 * where it was run; under systemd (read-only working directory) $STATE_DIRECTORY/reports.
 */
export function defaultReportsDir(base: PathBase): string {
  const state = stateDirectoryOf(base.env);
  return state === null ? path.resolve(base.cwd, 'reports') : path.join(state, 'reports');
}

/** The rule file patterns: the ones written (from the config's directory), or the builtin rules. */
export function rulePatterns(files: readonly string[] | null, base: PathBase): string[] {
  return files === null ? [PACKAGED_RULES] : files.map((f) => path.resolve(base.configDir, f));
}

/** The schema's output with every path absolute and every unset directory given its default. */
export function resolvePaths(raw: RawConfig, base: PathBase): ResolvedRaw {
  const at = (p: string): string => path.resolve(base.configDir, p);
  const atOrNull = (p: string | null): string | null => (p === null ? null : at(p));
  return {
    ...raw,
    rules: { ...raw.rules, files: rulePatterns(raw.rules.files, base) },
    reports: { ...raw.reports, dir: raw.reports.dir === null ? defaultReportsDir(base) : at(raw.reports.dir) },
    // "-" is stdin, not a file.
    scan: { files: raw.scan.files.map((f) => (f === '-' ? f : at(f))) },
    sources: raw.sources.map((s) => ({
      ...s,
      ...(s.path === undefined ? {} : { path: at(s.path) }),
      ...(s.journal === undefined ? {} : {
        journal: {
          ...s.journal,
          files: s.journal.files.map(at),
          ...(s.journal.directory === undefined ? {} : { directory: at(s.journal.directory) }),
          // A bare name is looked up in PATH; only a path is one.
          journalctl: s.journal.journalctl.includes('/') ? at(s.journal.journalctl) : s.journal.journalctl,
        },
      }),
    })),
    state: { dir: raw.state.dir === null ? defaultStateDir(base) : at(raw.state.dir) },
    mail: { ...raw.mail, ca_file: atOrNull(raw.mail.ca_file), outbox_dir: atOrNull(raw.mail.outbox_dir) },
    delivery: { ...raw.delivery, alert_stream: typeof raw.delivery.alert_stream === 'string' ? at(raw.delivery.alert_stream) : raw.delivery.alert_stream },
    enrich: { ...raw.enrich, cache_file: atOrNull(raw.enrich.cache_file) },
  };
}

/** RawConfig after resolvePaths: the directories are known. */
export type ResolvedRaw = Omit<RawConfig, 'rules' | 'reports' | 'state'> & {
  readonly rules: Omit<RawConfig['rules'], 'files'> & { readonly files: string[] };
  readonly reports: Omit<RawConfig['reports'], 'dir'> & { readonly dir: string };
  readonly state: { readonly dir: string };
};
