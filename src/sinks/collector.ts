// Gathers what a report needs while the detector runs: incidents (by id, the last
// snapshot wins), a bounded list of events for the report's event table, and per-rule
// event summaries with bounded top-N counters. Memory stays flat whatever the input size.

import type { DetectorListener, SourceStats } from '../core/detector.js';
import type { DetectionEvent, Incident } from '../core/types.js';

/** Distinct values counted per rule for the "top" lists; beyond it new values are not counted. */
const MAX_COUNTED_VALUES = 100_000;

export interface RuleSummary {
  events: number;
  ips: Map<string, number>;
  users: Map<string, number>;
  /** Distinct values seen after the counters were full. */
  uncounted: number;
  first: number | null;
  last: number | null;
}

export interface SourceSummary {
  file: string;
  stats: SourceStats;
  cut: number;
}

export class ReportCollector implements DetectorListener {
  readonly incidents = new Map<string, Incident>();
  readonly events: DetectionEvent[] = [];
  eventsTotal = 0;
  readonly byRule = new Map<string, RuleSummary>();
  readonly sources: SourceSummary[] = [];

  constructor(private readonly maxEvents: number, private readonly onEvent?: (ev: DetectionEvent) => void) {}

  event(ev: DetectionEvent): void {
    this.eventsTotal++;
    if (this.events.length < this.maxEvents) this.events.push(ev);
    let s = this.byRule.get(ev.rule);
    if (s === undefined) {
      s = { events: 0, ips: new Map(), users: new Map(), uncounted: 0, first: null, last: null };
      this.byRule.set(ev.rule, s);
    }
    s.events++;
    if (s.first === null || ev.time < s.first) s.first = ev.time;
    if (s.last === null || ev.time > s.last) s.last = ev.time;
    if (ev.ip !== null) s.uncounted += bump(s.ips, ev.ip);
    if (ev.user !== null) s.uncounted += bump(s.users, ev.user);
    this.onEvent?.(ev);
  }

  opened(incident: Incident): void {
    this.incidents.set(incident.id, incident);
  }

  closed(incident: Incident): void {
    this.incidents.set(incident.id, incident);
  }

  /** Incidents in time order of their first event. */
  sortedIncidents(): Incident[] {
    return [...this.incidents.values()].sort((a, b) => a.first - b.first || a.rule.localeCompare(b.rule));
  }
}

function bump(m: Map<string, number>, k: string): number {
  const v = m.get(k);
  if (v !== undefined) {
    m.set(k, v + 1);
    return 0;
  }
  if (m.size >= MAX_COUNTED_VALUES) return 1;
  m.set(k, 1);
  return 0;
}

export function topN(m: ReadonlyMap<string, number>, n: number): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}
