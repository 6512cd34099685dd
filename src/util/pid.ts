// Whether a process id names a process that still runs, for the files that record who
// holds them (the state directory's pid file, an outbox claim, a temp file). It only
// asks the kernel with signal 0: it never signals, waits for or kills a process.

/**
 * True when pid runs, here or under another user (EPERM: it exists, we may not signal
 * it). False for a pid that is gone (ESRCH) or not a plain positive number, which would
 * otherwise address a process group.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
