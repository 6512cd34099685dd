// Checks on what a path is, shared by the daemon's file tail, its directory sources and
// scan's batch source, so the three agree on which links stay inside a directory.

import path from 'node:path';

/** The same words as the configuration's refusals (util/small-file.ts). */
export { fileType } from '../util/small-file.js';

/** Is real (a resolved path) dir itself or under it? */
export function inside(real: string, dir: string): boolean {
  return real === dir || real.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}
