// How the daemon is asked to stop and how long stopping may take. SIGTERM and SIGINT (or a
// test's stop promise) resolve the stop request; the stop itself is bounded by
// run.shutdown_timeout_secs, after which the exit code says it was cut short. It returns an
// exit code and never calls process.exit: only cli.ts exits.

import { EXIT } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export interface StopRequest {
  /** Resolves with the reason: the signal's name, "stop" or "once". */
  readonly reason: Promise<string>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/** Listens for SIGTERM and SIGINT (installed before reading starts, so a stop during a backlog is heard). */
export function stopRequest(extra?: Promise<void>): StopRequest {
  let on: ((sig: NodeJS.Signals) => void) | null = null;
  const reason = new Promise<string>((resolve) => {
    on = (sig): void => resolve(sig);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    void extra?.then(() => resolve('stop'));
  });
  return {
    reason,
    dispose: () => {
      if (on === null) return;
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}

/** Runs stop within timeoutMs: 0 when it finished, EXIT.SOFTWARE (70) when it did not. */
export async function boundedStop(stop: () => Promise<void>, timeoutMs: number, log: Logger): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      log.error({ timeoutMs }, 'Shutdown took too long; exiting without finishing it.');
      resolve(EXIT.SOFTWARE);
    }, timeoutMs);
  });
  try {
    return await Promise.race([stop().then(() => EXIT.OK), late]);
  } finally {
    clearTimeout(timer);
  }
}
