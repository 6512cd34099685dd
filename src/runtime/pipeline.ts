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

type Hook = 'event' | 'opened' | 'closed';

/**
 * Calls `hook` of every sink that has one, in order, isolating each from the others'
 * failures. The list of sinks is filtered once, not at every call: event() is per line.
 */
function caller<T>(sinks: readonly Sink[], hook: Hook, onSinkError: SinkErrorHandler): (value: T) => void {
  const targets = sinks.filter((s) => s[hook] !== undefined);
  return (value: T): void => {
    for (const s of targets) {
      try {
        (s[hook] as (v: T) => void).call(s, value);
      } catch (err) {
        onSinkError(s.name, hook, err);
      }
    }
  };
}

/** One listener that calls every sink in order, isolating each from the others' failures. */
export function fanOut(sinks: readonly Sink[], onSinkError: SinkErrorHandler): DetectorListener {
  const listener: DetectorListener = {
    event: caller<DetectionEvent>(sinks, 'event', onSinkError),
    opened: caller<Incident>(sinks, 'opened', onSinkError),
    closed: caller<Incident>(sinks, 'closed', onSinkError),
  };
  const un = sinks.filter((s) => s.unmatched !== undefined);
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
