// A file's identity across renames: device + inode, plus a hash of its first bytes so an
// inode reused by a new file (delete then create) is not mistaken for the old one; and,
// for a file replaced by a byte-identical copy under another inode, what tells that copy
// from a new file: the same first bytes, at least the bytes read, and the same bytes just
// before the position. It only reads and hashes; it never decides where reading goes on.

import fs from 'node:fs';
import { hash16 } from '../util/hash.js';

/** Bytes hashed from the start of a file. A shorter file is hashed as far as it goes. */
export const HEAD_BYTES = 256;

export interface Fingerprint {
  dev: number;
  ino: number;
  /** sha256 (hex, 16 chars) of the first headLen bytes. */
  head: string;
  headLen: number;
}

export function hashHead(fd: number, len: number): string {
  const buf = Buffer.alloc(len);
  const n = len === 0 ? 0 : fs.readSync(fd, buf, 0, len, 0);
  return hash16(buf.subarray(0, n));
}

/** sha256 (hex, 16 chars) of the up to HEAD_BYTES bytes that end at offset. */
export function hashBefore(fd: number, offset: number): string {
  const len = Math.min(HEAD_BYTES, offset);
  const buf = Buffer.alloc(len);
  const n = len === 0 ? 0 : fs.readSync(fd, buf, 0, len, offset - len);
  return hash16(buf.subarray(0, n));
}

export function fingerprintOf(fd: number, st: fs.Stats): Fingerprint {
  const headLen = Math.min(HEAD_BYTES, st.size);
  return { dev: st.dev, ino: st.ino, head: hashHead(fd, headLen), headLen };
}

/** Does the open file still start with the bytes a fingerprint recorded? */
export function sameFile(fp: Fingerprint, fd: number, st: fs.Stats): boolean {
  if (st.dev !== fp.dev || st.ino !== fp.ino || st.size < fp.headLen) return false;
  return hashHead(fd, fp.headLen) === fp.head;
}

/**
 * Is the open file, under another inode, a byte-identical copy of the file a position was
 * taken in (`cp auth.log tmp && mv tmp auth.log`), so that reading goes on at the
 * position? It starts with the fingerprint's bytes, is at least `offset` long, and holds
 * the same bytes just before offset (`before`: hashBefore of the original; a position
 * saved without it is matched by first bytes and size). A file that held no byte has
 * nothing to be a copy of: what is there is a new file (and a missed rotation is looked for).
 */
export function isCopyAt(fp: Fingerprint, offset: number, before: string | undefined, fd: number, st: fs.Stats): boolean {
  if (fp.headLen === 0 || (st.dev === fp.dev && st.ino === fp.ino) || st.size < offset) return false;
  if (hashHead(fd, fp.headLen) !== fp.head) return false;
  return typeof before !== 'string' || hashBefore(fd, offset) === before;
}
