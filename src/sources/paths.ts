// Checks on what a path is, shared by the daemon's file tail, its directory sources and
// scan's batch source, so the three agree on which links stay inside a directory.

import type fs from 'node:fs';
import path from 'node:path';

/** What a path that is not a regular file is, for messages. */
export function fileType(st: fs.Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'not a regular file';
}

/** Is real (a resolved path) dir itself or under it? */
export function inside(real: string, dir: string): boolean {
  return real === dir || real.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}
