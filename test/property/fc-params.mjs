// Shared fast-check settings for the property tests: a fixed seed so CI runs are
// reproducible, FC_SEED to replay or explore another seed, FC_RUNS to run longer (or
// shorter) than each property's default. fast-check prints the seed and the shrunk
// counterexample when a property fails; pass both back through FC_SEED to replay.

import fc from 'fast-check';

const DEFAULT_SEED = 20_251_108;

const seed = process.env.FC_SEED !== undefined && process.env.FC_SEED !== '' ? Number(process.env.FC_SEED) : DEFAULT_SEED;
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
const runsOverride = process.env.FC_RUNS !== undefined && process.env.FC_RUNS !== '' ? Number(process.env.FC_RUNS) : null;
if (runsOverride !== null && !(Number.isInteger(runsOverride) && runsOverride > 0)) throw new Error(`FC_RUNS must be a positive integer, got ${process.env.FC_RUNS}`);

/** Parameters for fc.assert: the shared seed, and FC_RUNS or the property's own default. */
export function params(defaultRuns) {
  // includeErrorInReport: the failed assertion's message, not only the counterexample.
  return { seed, numRuns: runsOverride ?? defaultRuns, includeErrorInReport: true };
}

export { fc };
