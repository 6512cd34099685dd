// Reading a small file an operator names (the configuration, a rule file, .env): only a
// regular file, at most a given size, its symbolic links resolved so a message can say
// which file was really read. It never blocks on a FIFO, never reads a device, and never
// holds more than the limit in memory, even when the file grows while it is read. It
// never puts any of the file's content into a refusal: the content may be a secret
// (a rule file that is a link to /etc/shadow).

import fs from 'node:fs';
import path from 'node:path';
import { describeSystemError } from './errors.js';

/** The limit of a configuration, rule or .env file: far above any real one. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Non-blocking and never through a link: the path opened is the resolved one, checked to
 * be a regular file just before; if a FIFO or a link is swapped in between, the open
 * neither waits for a writer nor follows the link, and the descriptor's check refuses it.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0);

export type SmallFile =
  | { readonly ok: true; readonly text: string; readonly realPath: string }
  /** `missing`: no entry at that path at all (a dangling link is not missing: it is refused). */
  | { readonly ok: false; readonly reason: string; readonly realPath: string | null; readonly missing: boolean };

/** What a path that is not a regular file is, for messages. */
export function fileType(st: fs.Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'not a regular file';
}

/** Reads `file` as UTF-8 if it is (or links to) a regular file of at most `maxBytes`. */
export function readSmallFile(file: string, maxBytes: number): SmallFile {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    return { ok: false, reason: describeSystemError(err), realPath: danglingTarget(file), missing: isMissing(file, err) };
  }
  const refuse = (reason: string): SmallFile => ({ ok: false, reason, realPath: real, missing: false });
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch (err) {
    return refuse(describeSystemError(err));
  }
  // Checked before the open: opening a FIFO or a device may block or act on the device.
  if (!st.isFile()) return refuse(notRegular(st));
  if (st.size > maxBytes) return refuse(tooLarge(st.size, maxBytes));
  let fd: number;
  try {
    fd = fs.openSync(real, OPEN_FLAGS);
  } catch (err) {
    return refuse(describeSystemError(err));
  }
  try {
    const fst = fs.fstatSync(fd);
    if (!fst.isFile()) return refuse(notRegular(fst));
    if (fst.size > maxBytes) return refuse(tooLarge(fst.size, maxBytes));
    // Read in slices, never past the limit and one byte: that byte tells a file that grew
    // past the limit since the fstat from one that fits.
    const slice = Buffer.alloc(64 * 1024);
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, slice, 0, Math.min(slice.length, maxBytes + 1 - got), null);
      if (n === 0) break;
      chunks.push(Buffer.from(slice.subarray(0, n)));
      got += n;
      if (got > maxBytes) return refuse(`it grew past ${sizeText(maxBytes)} while it was read`);
    }
    return { ok: true, text: Buffer.concat(chunks, got).toString('utf8'), realPath: real };
  } catch (err) {
    return refuse(describeSystemError(err));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * How a message names a file: as given, and where its links lead when that is elsewhere
 * as `ls -l` shows a link (`rules.yaml -> /dev/zero`), so the operator sees which file was refused.
 */
export function fileLabel(file: string, realPath: string | null): string {
  if (realPath === null || realPath === path.resolve(file)) return file;
  return `${file} -> ${realPath}`;
}

function notRegular(st: fs.Stats): string {
  const type = fileType(st);
  return `${type === 'not a regular file' ? 'it is' : `it is a ${type},`} not a regular file; only regular files are read`;
}

function tooLarge(size: number, maxBytes: number): string {
  return `it has ${size} bytes, over the limit of ${sizeText(maxBytes)}`;
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** No entry at all at `file` (not a dangling link, not a permission problem). */
function isMissing(file: string, err: unknown): boolean {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  try {
    fs.lstatSync(file);
    return false;
  } catch {
    return true;
  }
}

/** Where a link that cannot be resolved points, for the message; null if it is no link. */
function danglingTarget(file: string): string | null {
  try {
    return fs.lstatSync(file).isSymbolicLink() ? path.resolve(path.dirname(file), fs.readlinkSync(file)) : null;
  } catch {
    return null;
  }
}
