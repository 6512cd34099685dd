// The checkpoint form of a rule's window state: one key's open window and incident as
// plain JSON-able data, and the conversions to and from the live structures, so a restart
// or reload continues a brute force that straddles it. It owns what a checkpoint keeps
// (how many keys, how much sample text); which keys are taken is RuleWindow's choice.
// It never writes or reads a file and stays pure: no IO, no clock.

import type { OpenIncident } from './incident.js';
import type { DetectionLimits } from './rules.js';
import type { DetectionEvent, Incident } from './types.js';

/** Keys per rule kept in a checkpoint (the most recent), and the sample text kept per hit. */
export const PERSIST_KEYS = 20_000;
const PERSIST_TEXT_CHARS = 300;

/** One key's open window and incident, as plain JSON-able data (see RuleWindow.exportState). */
export interface KeySnapshot {
  key: string;
  maxT: number;
  /** Hits below threshold: [time, source, line, ip, user, host, text]. */
  hits: HitSnapshot[];
  incident: IncidentSnapshot | null;
}

export type HitSnapshot = [number, string, number, string | null, string | null, string | null, string];

/** An open incident as a checkpoint keeps it. */
export type IncidentSnapshot = Pick<Incident, 'id' | 'first' | 'last' | 'firedAt' | 'count' | 'ips' | 'users' | 'hosts' | 'truncated' | 'samples'>;

/**
 * Sample text kept per hit. Checkpoints happen every few seconds: under a flood of keys
 * only the most recent are kept, and sample texts are short; an attack straddling a
 * restart is recent.
 */
export function persistTextChars(limits: DetectionLimits): number {
  return Math.min(limits.maxSampleChars, PERSIST_TEXT_CHARS);
}

/** One key as a checkpoint keeps it; a hit whose event left the ring keeps only its time. */
export function keySnapshot(
  key: string,
  maxT: number,
  hits: readonly { t: number; ev: DetectionEvent | undefined }[],
  inc: OpenIncident | null,
  max: number,
): KeySnapshot {
  return {
    key,
    maxT,
    hits: hits.map(({ t, ev }) => ev === undefined
      ? [t, '', 0, null, null, null, '']
      : [t, ev.source, ev.line, ev.ip, ev.user, ev.host, ev.text.length > max ? ev.text.slice(0, max) : ev.text]),
    incident: inc === null ? null : {
      id: inc.id, first: inc.first, last: inc.last, firedAt: inc.firedAt, count: inc.count,
      ips: [...inc.ips], users: [...inc.users], hosts: [...inc.hosts], truncated: inc.truncated, samples: inc.samples.slice(),
    },
  };
}

/**
 * The snapshot's hits still inside its window, in time order: at most `threshold - 1`
 * (the newest), as a live window holds. A slot has room for `threshold` times, and the
 * next event is added before the window fires: a restored full window (a threshold
 * lowered between runs, a damaged file) would write into the next key's slot.
 */
export function restoredHits(k: KeySnapshot, windowMs: number, threshold: number): HitSnapshot[] {
  const inside = k.hits.filter((h) => h[0] <= k.maxT && k.maxT - h[0] <= windowMs).sort((a, b) => a[0] - b[0]);
  return inside.slice(Math.max(0, inside.length - (threshold - 1)));
}

/** A restored hit as the event it was (its matcher and program are not kept). */
export function hitEvent(rule: string, [time, source, line, ip, user, host, text]: HitSnapshot): DetectionEvent {
  return { rule, matcher: '', source, line, time, ip, user, host, program: null, text };
}

export function restoredIncident(key: string, i: IncidentSnapshot): OpenIncident {
  return {
    id: i.id, key, first: i.first, last: i.last, firedAt: i.firedAt, count: i.count,
    ips: new Set(i.ips), users: new Set(i.users), hosts: new Set(i.hosts), truncated: i.truncated,
    samples: i.samples.slice(), lastIp: null, lastUser: null, lastHost: null,
  };
}
