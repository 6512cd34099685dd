// Opening the daemon's state directory: the state file (checked, its damage reported) and
// the incident journal, each failure turned into one error that names the file and what
// to do, each damaged file reported once. The lock on the directory is taken before this
// (lock.ts); nothing here decides what is read or alerted.

import path from 'node:path';
import type { Detector } from '../core/detector.js';
import type { LiveBoard } from '../http/live-board.js';
import { IncidentJournal, journaledIncident } from '../sinks/incident-journal.js';
import type { Clock } from '../util/clock.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { StateStore, damageReport, type LoadedState } from './state.js';

export interface OpenedStateDir {
  readonly store: StateStore;
  readonly loaded: LoadedState;
  readonly incidents: IncidentJournal;
}

/** `recent`: how many of the journal's newest incidents to keep for the dashboard. */
export function openStateDir(dir: string, { clock, log, recent }: { clock: Clock; log: Logger; recent: number }): OpenedStateDir {
  const store = new StateStore(dir);
  const stateDir = path.dirname(store.file);
  let loaded: LoadedState;
  try {
    loaded = store.load(clock.now());
  } catch (err) {
    throw new AppError('OUTPUT_UNWRITABLE', `cannot read the state file ${store.file} (${describeSystemError(err)}); check the permissions of the state directory or pass --state-dir`);
  }
  let incidents: IncidentJournal;
  try {
    incidents = new IncidentJournal(stateDir, { recent, clock });
  } catch (err) {
    throw new AppError('OUTPUT_UNWRITABLE', `cannot open the incident journal in ${stateDir} (${describeSystemError(err)}); check the permissions of the state directory or pass --state-dir`);
  }
  for (const damage of [damageReport(store.file, loaded), incidents.damageReport()]) if (damage !== null) log.warn(damage.fields, damage.message);
  return { store, loaded, incidents };
}

/**
 * The dashboard lists the journal's newest incidents from the start, and those still open
 * at the last stop as they stand (one the journal holds open but the detector does not is
 * shown closed), not only once they next change.
 */
export function seedBoard(board: LiveBoard, incidents: IncidentJournal, detector: Detector): void {
  for (const j of incidents.recent) {
    const i = journaledIncident(j);
    board.opened(i);
    if (j.closed !== null) board.closed(i);
  }
  for (const i of detector.openIncidents()) board.opened(i);
}
