// The one pipeline both drivers use: the detector, and the fan-out of what it finds into
// the sinks (reports, events file, incident journal and alerts, dashboard, coverage). `scan`
// and `run` differ only in the source they feed it and in what triggers a flush. A sink
// that throws is reported through onSinkError and the others still hear of the event; the
// pipeline never reads a file, a clock or the network itself.

import { Detector, type DetectorListener } from '../core/detector.js';
import type { CompiledRuleSet } from '../core/rules.js';
import type { DetectionEvent, Incident } from '../core/types.js';
import type { Sink } from '../sinks/types.js';

export type SinkErrorHandler = (sink: string, what: 'event' | 'opened' | 'closed' | 'unmatched', err: unknown) => void;

export class Pipeline {
  readonly detector: Detector;

  constructor(ruleset: CompiledRuleSet, sinks: readonly Sink[], onSinkError: SinkErrorHandler) {
    this.detector = new Detector(ruleset, fanOut(sinks, onSinkError));
  }
}

/** One listener that calls every sink in order, isolating each from the others' failures. */
export function fanOut(sinks: readonly Sink[], onSinkError: SinkErrorHandler): DetectorListener {
  const ev = sinks.filter((s) => s.event !== undefined);
  const op = sinks.filter((s) => s.opened !== undefined);
  const cl = sinks.filter((s) => s.closed !== undefined);
  const un = sinks.filter((s) => s.unmatched !== undefined);
  const listener: DetectorListener = {
    event(e: DetectionEvent): void {
      for (const s of ev) {
        try {
          s.event!(e);
        } catch (err) {
          onSinkError(s.name, 'event', err);
        }
      }
    },
    opened(i: Incident): void {
      for (const s of op) {
        try {
          s.opened!(i);
        } catch (err) {
          onSinkError(s.name, 'opened', err);
        }
      }
    },
    closed(i: Incident): void {
      for (const s of cl) {
        try {
          s.closed!(i);
        } catch (err) {
          onSinkError(s.name, 'closed', err);
        }
      }
    },
  };
  if (un.length > 0) {
    listener.unmatched = (src, message): void => {
      for (const s of un) {
        try {
          s.unmatched!(src.label, message);
        } catch (err) {
          onSinkError(s.name, 'unmatched', err);
        }
      }
    };
  }
  return listener;
}
