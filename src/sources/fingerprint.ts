// A file's identity across renames: device + inode, plus a hash of its first bytes so an
// inode reused by a new file (delete then create) is not mistaken for the old one.

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

export function fingerprintOf(fd: number, st: fs.Stats): Fingerprint {
  const headLen = Math.min(HEAD_BYTES, st.size);
  return { dev: st.dev, ino: st.ino, head: hashHead(fd, headLen), headLen };
}

/** Does the open file still start with the bytes a fingerprint recorded? */
export function sameFile(fp: Fingerprint, fd: number, st: fs.Stats): boolean {
  if (st.dev !== fp.dev || st.ino !== fp.ino || st.size < fp.headLen) return false;
  return hashHead(fd, fp.headLen) === fp.head;
}
