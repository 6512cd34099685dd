// What every sink of the pipeline can be told, in the order the detector tells it: each
// matched event, an incident when it opens (the alert) and when it closes, and a sample of
// parsed lines no rule matched. Types only. A sink must never throw on purpose to stop
// the others: the pipeline catches, counts and logs a failing sink and goes on.

import type { DetectionEvent, Incident } from '../core/types.js';

export interface Sink {
  /** For messages: "report", "events file", "alerts". */
  readonly name: string;
  event?(ev: DetectionEvent): void;
  opened?(incident: Incident): void;
  closed?(incident: Incident): void;
  /** One in UNMATCHED_SAMPLE parsed lines that gave no event, by source label. */
  unmatched?(source: string, message: string): void;
}
