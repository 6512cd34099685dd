// Which files a file source names: a file, a directory (its files) or a wildcard pattern,
// and whether a file found there is to be read. Both drivers use it: `run` to find the
// files to follow (and new ones as they appear), `scan` to list a directory or pattern
// it was given. It only looks (lstat, readdir, realpath); it never opens or reads a file,
// and it reports what it skips through a callback instead of logging.

import fs from 'node:fs';
import path from 'node:path';
import type { FormatName } from '../core/types.js';
import { hasWildcard, wildcardRegex } from '../util/glob.js';
import { inside } from './paths.js';

/** Names of rotated files: never followed as sources of their own (they are drained by fingerprint). */
export const ROTATED = /(?:\.\d+|[-.]\d{8}(?:\d{2})?|\.(?:gz|xz|bz2|zst|lz4|old))$/;

export interface SourceSpec {
  /** As configured, for messages. */
  readonly given: string;
  readonly kind: 'file' | 'dir' | 'pattern';
  /** The file (kind file) or the directory to look in. */
  readonly path: string;
  readonly match: RegExp | null;
  readonly format: FormatName | 'auto';
  readonly startAt: 'end' | 'beginning';
  /** Follow links in a directory or pattern source that lead outside its directory. */
  readonly followSymlinks: boolean;
}

export interface SourceRequest {
  readonly path: string;
  readonly format: FormatName | 'auto';
  readonly startAt: 'end' | 'beginning';
  readonly followSymlinks: boolean;
}

/** A path as configured becomes a file, directory or pattern source (a missing path is a file to wait for). */
export function sourceSpec(req: SourceRequest): SourceSpec {
  const abs = path.resolve(req.path);
  const base = { given: req.path, format: req.format, startAt: req.startAt, followSymlinks: req.followSymlinks };
  if (hasWildcard(abs)) return { ...base, kind: 'pattern', path: path.dirname(abs), match: wildcardRegex(path.basename(abs)) };
  if (isDirectory(abs)) return { ...base, kind: 'dir', path: abs, match: null };
  return { ...base, kind: 'file', path: abs, match: null };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** What a name found by listing a directory is. */
export type Listed =
  | { readonly kind: 'ok'; readonly stats: fs.Stats }
  /** A link that resolves outside the directory: not read unless links may lead anywhere. */
  | { readonly kind: 'outside'; readonly target: string }
  /** Gone meanwhile, or a dangling link: nothing to read. */
  | { readonly kind: 'none' };

/**
 * Whoever may write to a log directory must not make logward read, and copy into reports
 * and mails, a file elsewhere (/etc/shadow): a link found in a directory is followed only
 * when it stays inside that directory, unless followSymlinks allows more.
 */
export function listEntry(file: string, dir: string, followSymlinks: boolean): Listed {
  try {
    if (fs.lstatSync(file).isSymbolicLink()) {
      const real = fs.realpathSync(file);
      if (!followSymlinks && !inside(real, fs.realpathSync(dir))) return { kind: 'outside', target: real };
    }
    return { kind: 'ok', stats: fs.statSync(file) };
  } catch {
    return { kind: 'none' };
  }
}

/** Why a file of a directory or pattern source is not followed, for a warning once per file and reason. */
export type Skip = { readonly kind: 'outside'; readonly target: string } | { readonly kind: 'special'; readonly stats: fs.Stats };

/**
 * The files of a set of sources. `accepts` decides for one path; `list` returns what a
 * source holds now, sorted. Rotated names and dot files are never sources of their own.
 */
export class FileSet {
  /** Where configured files that are links lead (as found when built) -> the configured path. */
  private readonly linked = new Map<string, string>();

  constructor(readonly specs: readonly SourceSpec[], private readonly skipped: (file: string, why: Skip) => void) {
    for (const s of specs) {
      if (s.kind !== 'file') continue;
      try {
        const real = fs.realpathSync(s.path);
        if (real !== s.path) this.linked.set(real, s.path);
      } catch {
        // not there (yet): a later re-check finds it
      }
    }
  }

  /** The directories to watch: each source's directory, and where configured links lead. */
  watchDirs(): string[] {
    const dirs = this.specs.map((s) => (s.kind === 'file' ? path.dirname(s.path) : s.path));
    for (const real of this.linked.keys()) dirs.push(path.dirname(real));
    return [...new Set(dirs)].filter((dir) => fs.existsSync(dir));
  }

  /** The configured path of a changed file that is where a configured link leads, else the file. */
  configuredPath(file: string): string {
    return this.linked.get(file) ?? file;
  }

  /** The directory or pattern source a new file belongs to, or null. */
  sourceOf(file: string): SourceSpec | null {
    for (const spec of this.specs) if (spec.kind !== 'file' && this.accepts(spec, file)) return spec;
    return null;
  }

  /**
   * The files a source names now (a file source: its one path, even before it exists),
   * leaving out those `known` already holds without looking at them again.
   */
  list(spec: SourceSpec, onUnreadable: (dir: string, err: unknown) => void = () => {}, known: (file: string) => boolean = () => false): string[] {
    if (spec.kind === 'file') return [spec.path];
    let names: string[];
    try {
      names = fs.readdirSync(spec.path);
    } catch (err) {
      onUnreadable(spec.path, err);
      return [];
    }
    return names.sort().map((n) => path.join(spec.path, n)).filter((file) => !known(file) && this.accepts(spec, file));
  }

  accepts(spec: SourceSpec, file: string): boolean {
    if (spec.kind === 'file') return file === spec.path;
    if (path.dirname(file) !== spec.path) return false;
    const base = path.basename(file);
    if (base.startsWith('.') || ROTATED.test(base)) return false;
    if (spec.match !== null && !spec.match.test(base)) return false;
    const l = listEntry(file, spec.path, spec.followSymlinks);
    if (l.kind === 'none') return false;
    if (l.kind === 'outside') {
      this.skipped(file, l);
      return false;
    }
    if (l.stats.isFile()) return true;
    // Subdirectories are normal in log directories; a FIFO or a socket is worth a word.
    if (!l.stats.isDirectory()) this.skipped(file, { kind: 'special', stats: l.stats });
    return false;
  }
}
