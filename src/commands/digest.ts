// `logward digest`: the daily digest on demand, from the daemon's incident journal and
// coverage counters: printed (--dry-run, the default) or sent now (--send). Incidents still
// open are shown as the daemon's last checkpoint holds them, and addresses with their
// origin (offline, as the scheduled digest), as the daemon's own digest would show them.

import os from 'node:os';
import path from 'node:path';
import { loadConfig, rulesOf } from '../config/load.js';
import { Detector, type DetectorSnapshot } from '../core/detector.js';
import type { CompiledRuleSet } from '../core/rules.js';
import type { Incident } from '../core/types.js';
import { buildDigest, digestMail, digestText, ruleFamilies } from '../digest/digest.js';
import { sendMailNow } from '../delivery/send-now.js';
import { Enricher, offlineOrigins } from '../enrich/index.js';
import { StateStore } from '../runtime/state.js';
import { JOURNAL_NAME, readJournal } from '../sinks/incident-journal.js';
import { AppError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { createLogger } from '../util/logger.js';
import { parseArgs, type OptionSpec } from './args.js';

export const DIGEST_OPTIONS: readonly OptionSpec[] = [
  { name: 'config', kind: 'string' },
  { name: 'state-dir', kind: 'string' },
  { name: 'hours', kind: 'string' },
  { name: 'dry-run', kind: 'boolean' },
  { name: 'send', kind: 'boolean' },
];

export const DIGEST_HELP = `usage: logward digest [--config FILE] [--state-dir DIR] [--hours N] [--dry-run | --send]

Builds the daily digest of the last N hours (default 24) from what \`logward run\` recorded
(the incident journal, the open incidents and the coverage counters in the state
directory), with the origins of the addresses when enrich.enabled.

  --dry-run          print the digest (plain text); the default
  --send             send it now, through the outbox (SMTP, or an .eml file without SMTP_HOST)
  --hours N          the period, ending now (default 24)
  --state-dir DIR    where logward run keeps its state (default: state.dir)
`;

export async function digestCommand(argv: readonly string[], io: { stdout: (s: string) => void; clock: Clock }): Promise<number> {
  const { values: v } = parseArgs(argv, DIGEST_OPTIONS, 'digest');
  if (v.send === true && v['dry-run'] === true) throw new AppError('USAGE', '--send and --dry-run exclude each other; pick one');
  const hours = v.hours === undefined ? 24 : Number(v.hours);
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 366) throw new AppError('USAGE', `--hours must be a number of hours above 0, not "${String(v.hours)}"`);
  const config = loadConfig((v.config as string | undefined) ?? null);
  const stateDir = (v['state-dir'] as string | undefined) ?? config.state.dir;
  const store = new StateStore(stateDir);
  const end = io.clock.now();
  // Read only: a damaged state file is the daemon's to keep aside; its good parts count here.
  const state = store.read(end)?.state ?? null;
  const ruleset = rulesOf(config);
  const enricher = config.enrich.enabled ? await Enricher.open(config, { log: createLogger({ level: 'warn', fd: 2 }), clock: io.clock, env: process.env }) : null;
  let digest;
  try {
    digest = buildDigest({
      host: os.hostname(),
      start: end - hours * 3_600_000,
      end,
      timeZone: config.run.timeZone,
      records: readJournal(path.join(stateDir, JOURNAL_NAME)),
      coverage: state?.coverage ?? null,
      families: ruleFamilies(ruleset),
      open: openIncidents(ruleset, state?.windows ?? null),
      ...(enricher === null ? {} : { origin: offlineOrigins(enricher) }),
    });
  } finally {
    await enricher?.close();
  }
  if (v.send !== true) {
    io.stdout(digestText(digest));
    return 0;
  }
  const mail = digestMail(digest);
  // Its own id: a digest sent by hand never stands in for the scheduled one.
  const stamp = new Date(end).toISOString().replace(/[-:]/g, '').slice(0, 15);
  mail.messageId = mail.messageId.replace('@', `.manual-${stamp}@`);
  const r = await sendMailNow(config, stateDir, mail.messageId.split('@')[0]!, mail, io.clock);
  io.stdout(`${r.line}\n`);
  return 0;
}

/** The incidents open at the daemon's last checkpoint, as its detector holds them. */
function openIncidents(ruleset: CompiledRuleSet, windows: DetectorSnapshot | null): Incident[] {
  if (windows === null) return [];
  const detector = new Detector(ruleset, { event() {}, opened() {}, closed() {} });
  detector.importState(windows);
  return detector.openIncidents();
}
