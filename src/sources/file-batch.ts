// The batch source of `logward scan`: plain files, gzip files (recognised by their magic
// bytes, whatever the name), directories (their regular files, sorted), FIFOs named on the
// command line and stdin ("-"). Files are streamed in chunks through the line splitter:
// never read whole.
// Links: a path named on the command line is followed wherever it leads; a link found by
// listing a directory or expanding a pattern is read only if it resolves into that
// directory (as `logward run` does without follow_symlinks), so whoever may write to a log
// directory cannot make a scan copy /etc/shadow into its reports.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { LineSplitter, type SplitStats } from '../core/split.js';
import { listEntry } from './file-set.js';
import { AppError, describeSystemError } from '../util/errors.js';
import { expandGlob, hasWildcard } from '../util/glob.js';

export interface BatchInput {
  /** As given by the user ("-" for stdin); reports and events name the file by it. */
  label: string;
  /** Path to open, or null for stdin. */
  path: string | null;
  gzip: boolean;
  /** A FIFO (named pipe): read once as a stream, never probed, as its bytes can be read only once. */
  fifo?: boolean;
  /** Modification time (reference for yearless stamps); null for stdin. */
  mtimeMs: number | null;
}

// 64 KiB reads: decoded chunks stay in V8's young generation (measured faster than 1 MiB).
const CHUNK = 64 * 1024;

/**
 * Resolves command-line inputs; every unreadable one is reported at once (exit 74). warn
 * hears of what a directory or pattern held that is not read (links leading outside it,
 * FIFOs): skipped, not an error.
 */
export function resolveInputs(args: readonly string[], warn: (msg: string) => void = () => {}): BatchInput[] {
  const out: BatchInput[] = [];
  const problems: string[] = [];
  for (const arg of args) {
    if (arg === '-') {
      out.push({ label: '-', path: null, gzip: false, mtimeMs: null });
      continue;
    }
    const paths = hasWildcard(arg) ? expandGlob(arg) : [arg];
    if (paths.length === 0) problems.push(`${arg}: no file matches this pattern`);
    for (const p of paths) {
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch (err) {
        problems.push(`${p}: ${describeSystemError(err)}`);
        continue;
      }
      if (st.isDirectory()) {
        let names: string[];
        try {
          names = fs.readdirSync(p).filter((n) => !n.startsWith('.')).sort();
        } catch (err) {
          problems.push(`${p}: ${describeSystemError(err)}`);
          continue;
        }
        for (const n of names) {
          const child = path.join(p, n);
          const cst = listed(child, p, warn);
          if (cst?.isFile() === true) addFile(child, child, cst, out, problems);
          // Reading a FIFO met in a directory could wait forever for a writer.
          else if (cst !== null && !cst.isDirectory()) warn(`${child}: not a regular file (${kindOf(cst)}); skipped`);
        }
        continue;
      }
      if (hasWildcard(arg) && listed(p, path.dirname(p), warn) === null) continue;
      if (!st.isFile() && !st.isFIFO()) {
        problems.push(`${p}: not a regular file`);
        continue;
      }
      addFile(p, hasWildcard(arg) ? p : arg, st, out, problems);
    }
  }
  if (problems.length > 0) {
    throw new AppError('INPUT_UNREADABLE', `cannot read ${problems.length === 1 ? 'an input' : `${problems.length} inputs`}: ${problems[0]}; check the path and that logward may read it (e.g. run as a member of the adm group)`, {
      details: problems.length > 1 ? problems : [],
    });
  }
  return out;
}

/**
 * The stats of a file found in dir, or null when it is not to be read: gone, a dangling
 * link, or a link leading outside dir (warned about).
 */
function listed(file: string, dir: string, warn: (msg: string) => void): fs.Stats | null {
  const l = listEntry(file, dir, false);
  if (l.kind === 'outside') warn(`${file}: a symbolic link to ${l.target}, outside ${dir}; skipped (name the file itself to read it)`);
  return l.kind === 'ok' ? l.stats : null;
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

function addFile(p: string, label: string, st: fs.Stats, out: BatchInput[], problems: string[]): void {
  if (st.isFIFO()) {
    // Opening a FIFO to check it would wait for a writer and take bytes the real read
    // needs: check the permission only.
    try {
      fs.accessSync(p, fs.constants.R_OK);
    } catch (err) {
      problems.push(`${p}: ${describeSystemError(err)}`);
      return;
    }
    out.push({ label, path: p, gzip: false, fifo: true, mtimeMs: st.mtimeMs });
    return;
  }
  let fd: number;
  try {
    fd = fs.openSync(p, 'r');
  } catch (err) {
    problems.push(`${p}: ${describeSystemError(err)}`);
    return;
  }
  let gzip = false;
  try {
    if (st.isFile()) {
      const head = Buffer.alloc(2);
      gzip = fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
    }
  } finally {
    fs.closeSync(fd);
  }
  out.push({ label, path: p, gzip, mtimeMs: st.mtimeMs });
}

function openStream(input: BatchInput): Readable {
  if (input.path === null) return process.stdin;
  const raw = fs.createReadStream(input.path, { highWaterMark: CHUNK });
  if (!input.gzip) return raw;
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK });
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** Streams an input line by line; resolves with the splitter's counters. */
export async function readLines(input: BatchInput, maxLineBytes: number, onLine: (line: string) => void): Promise<SplitStats> {
  const splitter = new LineSplitter(maxLineBytes);
  try {
    for await (const chunk of openStream(input)) splitter.push(chunk as Buffer, onLine);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const what = input.gzip && (err as { code?: string }).code?.startsWith('Z_') ? 'is not a valid gzip file' : 'could not be read';
    throw new AppError('INPUT_UNREADABLE', `${input.label} ${what} (${describeSystemError(err)}); check the file`, { cause: err });
  }
  splitter.end(onLine);
  return splitter.stats;
}
