// The only module that reads the wall clock. Everything that needs "now" (report names,
// year inference for stdin, cache TTLs) receives a Clock, so tests can pin time.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

export function fixedClock(ms: number): Clock {
  return { now: () => ms };
}

/** A clock that moves only when told: retries and "warn once" are tested without sleeping. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(startMs: number): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
