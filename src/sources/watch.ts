// The one module that knows chokidar. It watches the directories of the configured
// sources (chokidar 5 has no globs) and reports which watched path changed; the tailers
// decide what that means. Rotated .gz files never reach a tailer: they match no source.

import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';

export interface DirWatcher {
  close(): Promise<void>;
}

/**
 * Calls onChange(file) for every add/change/unlink of a file directly in one of dirs
 * (not in subdirectories), onError for watcher errors (logged, never fatal), and onReady
 * once the watches are in place.
 */
export function watchDirs(dirs: readonly string[], onChange: (file: string) => void, onError: (err: Error) => void, onReady: () => void = () => {}): DirWatcher {
  const unique = [...new Set(dirs.map((d) => path.resolve(d)))];
  const w: FSWatcher = watch(unique, {
    ignoreInitial: true,
    depth: 0,
    persistent: true,
    // fs.watch (inotify) events, no polling: an idle host costs nothing.
    usePolling: false,
    alwaysStat: false,
  });
  const fire = (p: string): void => onChange(path.resolve(p));
  w.on('add', fire).on('change', fire).on('unlink', fire).on('error', (e) => onError(e instanceof Error ? e : new Error(String(e))));
  // Until the watches are set up, changes go unreported: the caller re-reads once here.
  w.on('ready', onReady);
  return { close: () => w.close() };
}
