// Gathers what a report needs while the detector runs: incidents (by id, the last
// snapshot wins), a bounded list of events for the report's event table, and per-rule
// event summaries with bounded top-N counters. Memory stays flat whatever the input size.
// An incident is told when it opens and when it closes, not as it grows: a report written
// while incidents are open takes their current state through refresh(), so a 30-event
// burst is reported as 30 events, not as the count it opened with. It never asks the
// detector itself: the driver hands it the open incidents at flush time.

import type { Sink } from './types.js';
import type { DetectorListener, SourceStats } from '../core/detector.js';
import type { DetectionEvent, Incident } from '../core/types.js';

/** Distinct values counted per rule for the "top" lists; beyond it new values are not counted. */
const MAX_COUNTED_VALUES = 100_000;
/** Minutes kept per rule for the time chart (two weeks); events of later new minutes are not charted. */
const MAX_MINUTES = 20_160;

export interface RuleSummary {
  events: number;
  ips: Map<string, number>;
  users: Map<string, number>;
  /** Distinct values seen after the counters were full. */
  uncounted: number;
  /** Runs of the same ip/user (a brute force) are counted here before touching the maps. */
  runIp: string | null;
  runIpCount: number;
  runUser: string | null;
  runUserCount: number;
  first: number | null;
  last: number | null;
}

export interface SourceSummary {
  file: string;
  stats: SourceStats;
  cut: number;
}

export class ReportCollector implements DetectorListener, Sink {
  readonly name = 'report';
  readonly incidents = new Map<string, Incident>();
  readonly events: DetectionEvent[] = [];
  eventsTotal = 0;
  readonly byRule = new Map<string, RuleSummary>();
  readonly sources: SourceSummary[] = [];
  /** Events per rule per minute of event time (for the HTML report's chart); bounded. */
  readonly minutes = new Map<string, Map<number, number>>();

  /** Counts of the incidents open when the previous report was written (see refresh()). */
  private readonly carried: ReadonlyMap<string, number>;

  /**
   * `carried`: the incidents open when the previous report was written; one that grows
   * during this report's period is listed in it too, though it neither opened nor closed.
   */
  constructor(private readonly maxEvents: number, carried: readonly Incident[] = []) {
    this.carried = new Map(carried.map((i) => [i.id, i.count]));
  }

  event(ev: DetectionEvent): void {
    this.eventsTotal++;
    if (this.events.length < this.maxEvents) this.events.push(ev);
    let s = this.byRule.get(ev.rule);
    if (s === undefined) {
      s = { events: 0, ips: new Map(), users: new Map(), uncounted: 0, first: null, last: null, runIp: null, runIpCount: 0, runUser: null, runUserCount: 0 };
      this.byRule.set(ev.rule, s);
    }
    s.events++;
    this.countMinute(ev.rule, ev.time);
    if (s.first === null || ev.time < s.first) s.first = ev.time;
    if (s.last === null || ev.time > s.last) s.last = ev.time;
    if (ev.ip !== s.runIp) {
      if (s.runIp !== null) s.uncounted += bump(s.ips, s.runIp, s.runIpCount);
      s.runIp = ev.ip;
      s.runIpCount = 0;
    }
    s.runIpCount++;
    if (ev.user !== s.runUser) {
      if (s.runUser !== null) s.uncounted += bump(s.users, s.runUser, s.runUserCount);
      s.runUser = ev.user;
      s.runUserCount = 0;
    }
    s.runUserCount++;
  }

  private countMinute(rule: string, t: number): void {
    const minute = t - (t % 60_000);
    let m = this.minutes.get(rule);
    if (m === undefined) this.minutes.set(rule, (m = new Map()));
    const v = m.get(minute);
    if (v !== undefined) m.set(minute, v + 1);
    else if (m.size < MAX_MINUTES) m.set(minute, 1);
  }

  opened(incident: Incident): void {
    this.incidents.set(incident.id, incident);
  }

  closed(incident: Incident): void {
    this.incidents.set(incident.id, incident);
  }

  /**
   * Takes the current state of the incidents still open (the detector's openIncidents(),
   * at flush time): those this report holds, and those carried over that grew since.
   */
  refresh(open: readonly Incident[]): void {
    for (const i of open) {
      if (this.incidents.has(i.id) || (this.carried.get(i.id) ?? Infinity) < i.count) this.incidents.set(i.id, i);
    }
  }

  /** Rule summaries with every pending run counted (call before reading the maps). */
  summaries(): Map<string, RuleSummary> {
    for (const s of this.byRule.values()) {
      if (s.runIp !== null) s.uncounted += bump(s.ips, s.runIp, s.runIpCount);
      if (s.runUser !== null) s.uncounted += bump(s.users, s.runUser, s.runUserCount);
      s.runIp = null;
      s.runUser = null;
      s.runIpCount = 0;
      s.runUserCount = 0;
    }
    return this.byRule;
  }

  /** Incidents in time order of their first event. */
  sortedIncidents(): Incident[] {
    return [...this.incidents.values()].sort((a, b) => a.first - b.first || a.rule.localeCompare(b.rule));
  }
}

function bump(m: Map<string, number>, k: string, n: number): number {
  const v = m.get(k);
  if (v !== undefined) {
    m.set(k, v + n);
    return 0;
  }
  if (m.size >= MAX_COUNTED_VALUES) return 1;
  m.set(k, n);
  return 0;
}

export function topN(m: ReadonlyMap<string, number>, n: number): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}
