// The incident a rule's window is building: its count, time span, distinct values and
// samples, the table that holds the open ones, and its stable id. It owns how an event
// joins an incident (caps on values and samples) and the plain Incident handed to
// listeners. It never decides when an incident opens or closes (window.ts does) and stays
// pure: no IO, no clock.

import { hash16 } from '../util/hash.js';
import type { DetectionLimits, RuleSpec } from './rules.js';
import type { DetectionEvent, Incident } from './types.js';

export interface OpenIncident {
  id: string;
  key: string;
  first: number;
  last: number;
  firedAt: number;
  count: number;
  ips: Set<string>;
  users: Set<string>;
  hosts: Set<string>;
  truncated: boolean;
  samples: Incident['samples'];
  lastIp: string | null;
  lastUser: string | null;
  lastHost: string | null;
}

export interface IncidentListener {
  opened(incident: Incident): void;
  closed(incident: Incident): void;
}

/** A new, empty incident of `key`; its events join it through absorb(). */
export function openIncident(rule: string, key: string, first: number, last: number, firedAt: number): OpenIncident {
  return {
    id: incidentId(rule, key, first),
    key,
    first,
    last,
    firedAt,
    count: 0,
    ips: new Set(),
    users: new Set(),
    hosts: new Set(),
    truncated: false,
    samples: [],
    lastIp: null,
    lastUser: null,
    lastHost: null,
  };
}

/** An event whose details left the ring: it still counts. */
export function absorbTime(inc: OpenIncident, t: number): void {
  inc.count++;
  if (t < inc.first) inc.first = t;
  if (t > inc.last) inc.last = t;
}

export function absorb(inc: OpenIncident, ev: DetectionEvent, limits: DetectionLimits): void {
  inc.count++;
  if (ev.time < inc.first) inc.first = ev.time;
  if (ev.time > inc.last) inc.last = ev.time;
  const cap = limits.maxValuesPerIncident;
  // A burst repeats its values: compare with the previous event before hashing.
  if (ev.ip !== inc.lastIp) {
    inc.truncated = addCapped(inc.ips, ev.ip, cap) || inc.truncated;
    inc.lastIp = ev.ip;
  }
  if (ev.user !== inc.lastUser) {
    inc.truncated = addCapped(inc.users, ev.user, cap) || inc.truncated;
    inc.lastUser = ev.user;
  }
  if (ev.host !== inc.lastHost) {
    inc.truncated = addCapped(inc.hosts, ev.host, cap) || inc.truncated;
    inc.lastHost = ev.host;
  }
  if (inc.samples.length < limits.maxSamplesPerIncident) {
    const max = limits.maxSampleChars;
    inc.samples.push({ source: ev.source, line: ev.line, time: ev.time, text: ev.text.length > max ? ev.text.slice(0, max) : ev.text });
  }
}

/** The incident as listeners and views see it: a copy, so later events never change it. */
export function incidentView(inc: OpenIncident, spec: RuleSpec): Incident {
  return {
    id: inc.id,
    rule: spec.name,
    severity: spec.severity,
    key: spec.key === null ? null : inc.key,
    keyField: spec.key,
    first: inc.first,
    last: inc.last,
    firedAt: inc.firedAt,
    count: inc.count,
    ips: [...inc.ips],
    users: [...inc.users],
    hosts: [...inc.hosts],
    truncated: inc.truncated,
    samples: inc.samples.slice(),
    windowMs: spec.windowMs,
    threshold: spec.threshold,
  };
}

/**
 * A rule's open incidents, referenced from their key's slot by index. Freed indexes are
 * reused, so the table stays as large as the most incidents ever open at once.
 */
export class IncidentTable {
  private incidents: (OpenIncident | null)[] = [];
  private free: number[] = [];

  get open(): number {
    return this.incidents.length - this.free.length;
  }

  add(inc: OpenIncident): number {
    const free = this.free.pop();
    if (free !== undefined) {
      this.incidents[free] = inc;
      return free;
    }
    this.incidents.push(inc);
    return this.incidents.length - 1;
  }

  get(i: number): OpenIncident {
    return this.incidents[i]!;
  }

  /** Removes incident i from the table and returns it. */
  take(i: number): OpenIncident {
    const inc = this.incidents[i]!;
    this.incidents[i] = null;
    this.free.push(i);
    return inc;
  }

  /** The open incidents in table order. */
  list(): OpenIncident[] {
    const out: OpenIncident[] = [];
    for (const inc of this.incidents) if (inc !== null) out.push(inc);
    return out;
  }

  clear(): void {
    this.incidents = [];
    this.free = [];
  }
}

/** Adds v unless null; returns true when v was new but the set was full. */
function addCapped(set: Set<string>, v: string | null, cap: number): boolean {
  if (v === null || set.has(v)) return false;
  if (set.size >= cap) return true;
  set.add(v);
  return false;
}

/** Same rule, key and first event time -> same id, across runs and restarts. */
export function incidentId(rule: string, key: string, first: number): string {
  return hash16(`${rule}\n${key}\n${first}`);
}
