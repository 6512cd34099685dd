// What `logward validate` checks of this host beyond the file itself: that each journal
// source has a journalctl to run, and that the state and report directories are
// directories (or do not exist yet: scan and run create them). Problems are returned with
// their config path; nothing here creates, changes or runs anything.

import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../core/rules.js';
import { describeSystemError } from '../util/errors.js';
import type { ResolvedRaw } from './paths.js';

export function hostProblems(raw: ResolvedRaw, where: string, env: NodeJS.ProcessEnv): Problem[] {
  const problems: Problem[] = [];
  raw.sources.forEach((s, i) => {
    if (s.journal === undefined) return;
    const bin = s.journal.journalctl;
    const at = `${where}: sources[${i}].journal.journalctl`;
    if (bin.includes('/')) {
      const why = notExecutable(bin);
      if (why !== null) problems.push({ path: at, message: `${bin} cannot be run (${why}); give the path of journalctl, or install it (Debian/Ubuntu: apt-get install systemd)` });
    } else if (findInPath(bin, env) === null) {
      problems.push({ path: at, message: `"${bin}" is not found in PATH; a journal source reads the journal through journalctl: install it (Debian/Ubuntu: apt-get install systemd), or set its full path here` });
    }
  });
  for (const [key, dir] of [['state.dir', raw.state.dir], ['reports.dir', raw.reports.dir]] as const) {
    const why = notDirectory(dir);
    if (why !== null) problems.push({ path: `${where}: ${key}`, message: `${dir} ${why}; point ${key} at a directory (it is created if missing)` });
  }
  return problems;
}

/** Why `file` cannot be executed, or null when it can. */
function notExecutable(file: string): string | null {
  try {
    if (!fs.statSync(file).isFile()) return 'not a file';
    fs.accessSync(file, fs.constants.X_OK);
    return null;
  } catch (err) {
    return describeSystemError(err);
  }
}

function findInPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    if (notExecutable(file) === null) return file;
  }
  return null;
}

/** Why `dir` cannot be used as a directory, or null when it is one or does not exist yet. */
function notDirectory(dir: string): string | null {
  try {
    return fs.statSync(dir).isDirectory() ? null : 'exists and is not a directory';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT: created at start. EACCES: validate may run as another user than the service.
    return code === 'ENOTDIR' ? 'cannot be a directory: a part of its path is a file' : null;
  }
}
