// Wall-clock schedules (report flush, daily digest) through node-cron, in a configured
// zone. The detector never sees these: windows run on event time.

import cron from 'node-cron';

export interface Schedule {
  stop(): void;
}

export function validateCron(expr: string): boolean {
  return cron.validate(expr);
}

/** Runs task on the cron expression in the zone; a failing task is reported, never fatal. */
export function schedule(expr: string, timeZone: string, task: () => void | Promise<void>, onError: (err: unknown) => void): Schedule {
  const job = cron.schedule(expr, async () => {
    try {
      await task();
    } catch (err) {
      onError(err);
    }
  }, { timezone: timeZone, noOverlap: true });
  return { stop: () => void job.stop() };
}
