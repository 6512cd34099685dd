// The only module that reads the wall clock. Everything that needs "now" (report names,
// year inference for stdin, cache TTLs) receives a Clock, so tests can pin time.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

export function fixedClock(ms: number): Clock {
  return { now: () => ms };
}
