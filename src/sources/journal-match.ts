// Which entries a journal source reads, as journalctl arguments. The units and the
// identifiers of one source are alternatives: `{ units: [ssh.service], identifiers: [sudo] }`
// reads sshd's entries and sudo's. journalctl ANDs its own -u and -t (that source would
// read nothing), so the matches are written out as terms: per unit what `journalctl -u`
// matches (systemd's add_matches_for_unit), per identifier SYSLOG_IDENTIFIER=, the groups
// joined by "+", which journalctl reads as OR. It only builds arguments and never runs
// journalctl: unit patterns (ssh*) are expanded against unit names the caller lists.

import type { JournalFilter } from '../config/types.js';
import { wildcardRegex } from '../util/glob.js';

/** The fields journalctl -u looks unit patterns up in. */
export const UNIT_FIELDS = ['_SYSTEMD_UNIT', 'COREDUMP_UNIT', 'UNIT', 'OBJECT_SYSTEMD_UNIT', '_SYSTEMD_SLICE'] as const;

/** systemd's message id of a coredump. */
const COREDUMP_MESSAGE = 'MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1';
const UNIT_TYPE = /\.(?:service|socket|device|mount|automount|swap|target|path|timer|slice|scope)$/;

/** The arguments that say which journal is read (--file, --directory). */
export function journalSourceArgs(f: JournalFilter): string[] {
  const args: string[] = [];
  for (const file of f.files) args.push(`--file=${file}`);
  if (f.directory !== null) args.push(`--directory=${f.directory}`);
  return args;
}

export function isUnitPattern(unit: string): boolean {
  return /[*?]/.test(unit);
}

/** A unit as journalctl -u names it: one without a type is a service (ssh: ssh.service). */
export function unitName(unit: string): string {
  return UNIT_TYPE.test(unit) || isUnitPattern(unit) ? unit : `${unit}.service`;
}

/**
 * The match terms for a filter, to pass after "--": [] reads every entry; null when it
 * names units only and each is a pattern no unit of the journal matches (journalctl -u
 * refuses that too: there is nothing to read yet). `unitsInJournal` lists the unit
 * names the journal holds; it is called only when a unit is a pattern.
 */
export function journalMatches(f: JournalFilter, unitsInJournal: () => readonly string[]): string[] | null {
  const units: string[] = [];
  let known: readonly string[] | null = null;
  for (const u of f.units.map(unitName)) {
    if (!isUnitPattern(u)) units.push(u);
    else {
      known ??= unitsInJournal();
      const re = wildcardRegex(u);
      units.push(...known.filter((name) => re.test(name)));
    }
  }
  const groups: string[][] = [];
  for (const u of new Set(units)) groups.push(...unitGroups(u));
  for (const id of f.identifiers) groups.push([`SYSLOG_IDENTIFIER=${id}`]);
  if (groups.length === 0) return f.units.length > 0 ? null : [];
  return groups.flatMap((g, i) => (i === 0 ? g : ['+', ...g]));
}

/** The entries of a unit, as journalctl -u reads them: each group ANDs its terms. */
function unitGroups(u: string): string[][] {
  const groups = [
    // the unit's own messages
    [`_SYSTEMD_UNIT=${u}`],
    // its coredumps
    [COREDUMP_MESSAGE, '_UID=0', `COREDUMP_UNIT=${u}`],
    // systemd's messages about it
    ['_PID=1', `UNIT=${u}`],
    // authorised daemons' messages about it
    ['_UID=0', `OBJECT_SYSTEMD_UNIT=${u}`],
  ];
  if (u.endsWith('.slice')) groups.push([`_SYSTEMD_SLICE=${u}`]);
  return groups;
}
