// Opening a followed file safely: only a regular file is opened (a FIFO's blocking open
// would freeze the daemon), never through a symbolic link leading outside the confining
// directory, and the open descriptor is checked again to be the file that was checked,
// so a swap between the check and the open is caught. It never reads a file's content
// and never keeps a descriptor it refused: each refusal is a TailProblem for the caller
// to report.

import fs from 'node:fs';
import path from 'node:path';
import { fileType, inside } from './paths.js';
import type { TailProblem } from './tail-types.js';

/**
 * Non-blocking open: the path is checked to be a regular file first, but it may become a
 * FIFO between the check and the open, and a blocking open of a FIFO without a writer
 * would freeze the daemon. It changes nothing for reads of a regular file.
 */
export const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export type Probe = { ok: true; fd: number; st: fs.Stats } | { ok: false; problem: TailProblem; st: fs.Stats | null };

/**
 * Opens p if it is a regular file logward may read. Checked before the open: a FIFO is
 * never opened and a link leaving `confine` never followed; checked again after it, on
 * the descriptor, so a swap between the two checks is caught too.
 */
export function probe(p: string, confine: string | null): Probe {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A dangling link is a missing file, as is a directory of the path that is gone.
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return { ok: false, problem: { kind: 'missing' }, st: null };
    return { ok: false, problem: { kind: 'unreadable', error: e }, st: null };
  }
  if (!st.isFile()) return { ok: false, problem: { kind: 'not-a-file', type: fileType(st) }, st };
  const out = outside(p, confine);
  if (out !== null) return { ok: false, problem: { kind: 'outside', target: out }, st };
  let fd: number;
  try {
    fd = fs.openSync(p, OPEN_FLAGS);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: false, problem: { kind: 'missing' }, st: null };
    return { ok: false, problem: { kind: 'unreadable', error: e }, st };
  }
  const fst = fs.fstatSync(fd);
  let problem: TailProblem | null = null;
  if (!fst.isFile()) problem = { kind: 'not-a-file', type: fileType(fst) };
  else if (confine !== null) {
    try {
      const real = fs.realpathSync(p);
      const rst = fs.statSync(real);
      if (rst.dev !== fst.dev || rst.ino !== fst.ino || !inside(real, confineDir(confine))) problem = { kind: 'outside', target: real };
    } catch {
      problem = { kind: 'missing' };
    }
  }
  if (problem !== null) {
    fs.closeSync(fd);
    return { ok: false, problem, st: fst };
  }
  return { ok: true, fd, st: fst };
}

/** Where a link at p leads when that is outside `confine`, else null. */
export function outside(p: string, confine: string | null): string | null {
  if (confine === null) return null;
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch {
    return null; // gone meanwhile: the open reports it
  }
  return inside(real, confineDir(confine)) ? null : real;
}

/** The confining directory resolved now (it may itself be a link, or be replaced). */
function confineDir(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}
