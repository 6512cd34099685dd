// Files other programs read (reports, state) appear whole or not at all: written to a
// temporary file in the same directory, fsynced, then renamed (or hard-linked, when an
// existing file must never be replaced). A crash leaves at worst a stray .tmp file.

import fs from 'node:fs';
import path from 'node:path';

let seq = 0;

function tempPath(target: string): string {
  seq++;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${seq}.tmp`);
}

/** File content: all at once, or produced piece by piece (a large report is never one string). */
export type Content = string | Uint8Array | ((write: (piece: string) => void) => void);

function writeTemp(target: string, data: Content, mode: number): string {
  const tmp = tempPath(target);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    if (typeof data === 'function') {
      let buf: string[] = [];
      let size = 0;
      data((piece) => {
        buf.push(piece);
        size += piece.length;
        if (size >= 1 << 20) {
          fs.writeSync(fd, buf.join(''));
          buf = [];
          size = 0;
        }
      });
      if (buf.length > 0) fs.writeSync(fd, buf.join(''));
    } else {
      fs.writeFileSync(fd, data);
    }
    fs.fsyncSync(fd);
  } catch (err) {
    // A full disk (ENOSPC) or a quota (EDQUOT) fails here: the partial temp file goes, so
    // it neither holds the space nor shadows the complete previous file.
    closeQuietly(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    // Network file systems may report a failed write only at close.
    fs.closeSync(fd);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return tmp;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // The write already failed; that error is the one to report.
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems refuse a directory fsync; the rename itself is still atomic.
  }
}

/** Atomically replaces target with data. */
export function writeFileAtomic(target: string, data: Content, mode = 0o640): void {
  const tmp = writeTemp(target, data, mode);
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(target));
}

/**
 * Publishes a group of files under the first free name: `name(suffix)` is tried with
 * suffix "", "_2", "_3", ... and no existing file is ever replaced (link(2) fails with
 * EEXIST instead). Returns the suffix used.
 */
export function publishFilesExclusive(files: readonly { name: (suffix: string) => string; data: Content }[], mode = 0o640): string {
  const temps = files.map((f) => writeTemp(f.name(''), f.data, mode));
  try {
    for (let n = 1; n < 10_000; n++) {
      const suffix = n === 1 ? '' : `_${n}`;
      const linked: string[] = [];
      let clash = false;
      for (let i = 0; i < files.length; i++) {
        const target = files[i]!.name(suffix);
        try {
          fs.linkSync(temps[i]!, target);
          linked.push(target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
            for (const l of linked) fs.rmSync(l, { force: true });
            throw err;
          }
          clash = true;
          break;
        }
      }
      if (!clash) {
        fsyncDir(path.dirname(files[0]!.name(suffix)));
        return suffix;
      }
      for (const l of linked) fs.rmSync(l, { force: true });
    }
    throw new Error('no free report name after 10000 attempts');
  } finally {
    for (const t of temps) fs.rmSync(t, { force: true });
  }
}
