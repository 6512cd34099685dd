// `logward digest`: the daily digest on demand, from the daemon's incident journal and
// coverage counters: printed (--dry-run, the default) or sent now (--send).

import os from 'node:os';
import path from 'node:path';
import { loadConfig, rulesOf } from '../config/load.js';
import { buildDigest, digestMail, digestText, ruleFamilies } from '../digest/digest.js';
import { sendMailNow } from '../delivery/send-now.js';
import { StateStore } from '../runtime/state.js';
import { JOURNAL_NAME, readJournal } from '../sinks/incident-journal.js';
import { AppError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
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
(the incident journal and the coverage counters in the state directory).

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
  const digest = buildDigest({
    host: os.hostname(),
    start: end - hours * 3_600_000,
    end,
    timeZone: config.run.timeZone,
    records: readJournal(path.join(stateDir, JOURNAL_NAME)),
    coverage: state?.coverage ?? null,
    families: ruleFamilies(rulesOf(config)),
  });
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
