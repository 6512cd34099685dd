// What the live dashboard shows, kept up to date by the daemon as lines are detected: the
// incidents of the last while (open ones with live counts), events per minute per rule and
// the offenders behind the incidents. Everything is bounded, so an attack cannot grow it;
// times are event times, like the windows, so a backlog draws the minutes it happened in.
// An open incident's count, last time, addresses and users are asked of the detector
// (a LiveIncident lookup) when a picture is drawn, whatever its key (an address, a user, a
// custom field, or none: host-wide): counting events here could not tell which incident
// an event joins, and would cost every event a lookup.

import type { DetectionEvent, Incident } from '../core/types.js';
import type { SourceHealth, StatusProvider } from './status.js';

/** Incidents kept for the page (open or recently closed), newest first. */
export const BOARD_INCIDENTS = 200;
/** Minutes of events per rule drawn on the chart. */
export const BOARD_MINUTES = 60;
const TOP_OFFENDERS = 10;
/** A source that brought no line for this long is shown as quiet. */
const QUIET_MS = 15 * 60_000;
const LISTED_VALUES = 5;

export interface BoardIncident extends Pick<Incident, 'id' | 'rule' | 'severity' | 'key' | 'keyField' | 'first' | 'last' | 'count' | 'ips' | 'users'> {
  open: boolean;
  origin: string | null;
  /** The incident's last sample line at the time it opened. */
  sample: string | null;
}

export interface BoardSource {
  source: string;
  kind: 'file' | 'journal';
  lines: number;
  notParsed: number;
  events: number;
  lastLineAt: number | null;
  lagBytes: number | null;
  state: 'ok' | 'lagging' | 'quiet' | 'waiting';
}

export interface BoardOffender {
  ip: string;
  origin: string | null;
  incidents: number;
  events: number;
  rules: string[];
  last: number;
}

/** One picture of the daemon, as JSON for /api/dashboard and each server-sent event. */
export interface BoardView {
  host: string;
  now: number;
  startedAt: number;
  totals: { lines: number; notParsed: number; events: number; alerted: number; open: number; outbox: number };
  /** Minute starts (event time, ms) and each rule's counts per minute. */
  minutes: number[];
  series: Record<string, number[]>;
  rules: { rule: string; events: number }[];
  incidents: BoardIncident[];
  offenders: BoardOffender[];
  sources: BoardSource[];
}

type OriginOf = (ip: string) => string | null;

/**
 * The current state of the incident open for a rule and key (null: host-wide), or null
 * when none is open (the detector's openIncident()).
 */
export type LiveIncident = (rule: string, key: string | null) => Incident | null;

const MINUTE = 60_000;

export class LiveBoard {
  private readonly incidents: BoardIncident[] = [];
  private readonly perMinute = new Map<string, Map<number, number>>();
  private newestMinute = -Infinity;
  private readonly listeners = new Set<() => void>();

  /** Without `live`, an open incident shows the counts it opened with until it closes. */
  constructor(
    private readonly host: string,
    private readonly startedAt: number,
    private readonly originOf: OriginOf = () => null,
    private readonly live: LiveIncident | null = null,
  ) {}

  /** Called with every detection event. */
  event(ev: DetectionEvent): void {
    const minute = Math.floor(ev.time / MINUTE) * MINUTE;
    if (minute > this.newestMinute) {
      this.newestMinute = minute;
      const oldest = minute - (BOARD_MINUTES - 1) * MINUTE;
      for (const counts of this.perMinute.values()) for (const m of counts.keys()) if (m < oldest) counts.delete(m);
    }
    if (minute > this.newestMinute - BOARD_MINUTES * MINUTE) {
      let counts = this.perMinute.get(ev.rule);
      if (counts === undefined) this.perMinute.set(ev.rule, (counts = new Map()));
      counts.set(minute, (counts.get(minute) ?? 0) + 1);
    }
    this.changed();
  }

  /** Called when an incident reaches its threshold (alerted or not, e.g. after a restart). */
  opened(i: Incident): void {
    const firstIp = i.ips[0];
    const b: BoardIncident = {
      id: i.id, rule: i.rule, severity: i.severity, key: i.key, keyField: i.keyField,
      first: i.first, last: i.last, count: i.count, open: true,
      ips: i.ips.slice(0, LISTED_VALUES), users: i.users.slice(0, LISTED_VALUES),
      // A host-wide incident has many addresses: no single origin describes it.
      origin: firstIp === undefined || i.keyField !== 'ip' ? null : this.originOf(firstIp),
      sample: i.samples.at(-1)?.text ?? null,
    };
    const existing = this.incidents.findIndex((x) => x.id === i.id);
    if (existing >= 0) this.incidents.splice(existing, 1);
    this.incidents.unshift(b);
    if (this.incidents.length > BOARD_INCIDENTS) this.incidents.length = BOARD_INCIDENTS;
    this.changed();
  }

  /** Called when an incident's window has passed: its final counts. */
  closed(i: Incident): void {
    const b = this.incidents.find((x) => x.id === i.id);
    if (b === undefined) return;
    b.open = false;
    takeCounts(b, i);
    this.changed();
  }

  /** Registers a callback for any change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  view(status: StatusProvider, now: number): BoardView {
    this.refreshOpen();
    const sources = status.sources().map((s) => boardSource(s, now));
    const ruleEvents = status.ruleEvents();
    const incidents = status.incidents();
    const last = Number.isFinite(this.newestMinute) ? this.newestMinute : Math.floor(now / MINUTE) * MINUTE;
    const minutes = Array.from({ length: BOARD_MINUTES }, (_, k) => last - (BOARD_MINUTES - 1 - k) * MINUTE);
    const series: Record<string, number[]> = {};
    for (const rule of new Set([...Object.keys(ruleEvents), ...this.perMinute.keys()])) {
      const counts = this.perMinute.get(rule);
      series[rule] = minutes.map((m) => counts?.get(m) ?? 0);
    }
    return {
      host: this.host,
      now,
      startedAt: this.startedAt,
      totals: {
        lines: sum(sources, (s) => s.lines),
        notParsed: sum(sources, (s) => s.notParsed),
        events: sum(Object.values(ruleEvents), (n) => n),
        alerted: incidents.alerted,
        open: incidents.open,
        outbox: status.outboxDepth(),
      },
      minutes,
      series,
      rules: Object.entries(ruleEvents).map(([rule, events]) => ({ rule, events })).sort((a, b) => b.events - a.events || a.rule.localeCompare(b.rule)),
      incidents: this.incidents.map((i) => ({ ...i, ips: [...i.ips], users: [...i.users] })),
      offenders: this.offenders(),
      sources,
    };
  }

  private offenders(): BoardOffender[] {
    const by = new Map<string, BoardOffender & { ruleSet: Set<string> }>();
    // Only incidents keyed by address: a host-wide one's count is not any one address's doing.
    for (const i of this.incidents) {
      if (i.keyField !== 'ip' || i.key === null) continue;
      {
        const ip = i.key;
        let o = by.get(ip);
        if (o === undefined) {
          o = { ip, origin: i.origin, incidents: 0, events: 0, rules: [], last: i.last, ruleSet: new Set() };
          by.set(ip, o);
        }
        o.incidents++;
        o.events += i.count;
        o.ruleSet.add(i.rule);
        if (i.last > o.last) o.last = i.last;
      }
    }
    return [...by.values()]
      .sort((a, b) => b.incidents - a.incidents || b.events - a.events || b.last - a.last)
      .slice(0, TOP_OFFENDERS)
      .map(({ ruleSet, ...o }) => ({ ...o, rules: [...ruleSet].sort() }));
  }

  /**
   * Open incidents as the detector holds them now. One it no longer holds open closed
   * without a word (its rule left the configuration on a reload): it is shown as closed.
   */
  private refreshOpen(): void {
    if (this.live === null) return;
    for (const b of this.incidents) {
      if (!b.open) continue;
      const cur = this.live(b.rule, b.key);
      if (cur !== null && cur.id === b.id) takeCounts(b, cur);
      else b.open = false;
    }
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}

function takeCounts(b: BoardIncident, i: Incident): void {
  b.count = i.count;
  b.last = i.last;
  b.ips = i.ips.slice(0, LISTED_VALUES);
  b.users = i.users.slice(0, LISTED_VALUES);
}

function boardSource(s: SourceHealth, now: number): BoardSource {
  let state: BoardSource['state'] = 'ok';
  if (s.lagBytes !== null && s.lagBytes > 1024 * 1024) state = 'lagging';
  else if (s.lastLineAt === null) state = 'waiting';
  else if (now - s.lastLineAt > QUIET_MS) state = 'quiet';
  return { source: s.source, kind: s.kind, lines: s.lines, notParsed: s.notParsed, events: s.events, lastLineAt: s.lastLineAt, lagBytes: s.lagBytes, state };
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let n = 0;
  for (const x of xs) n += f(x);
  return n;
}
