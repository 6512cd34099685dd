// `logward validate [--config FILE]`: loads the configuration and every rule file exactly
// as scan and run would, checks the SMTP_* environment, mail.ca_file and what the host
// must have (journalctl, directories), and prints every problem with its path (exit 78)
// or a summary that names the file used and why.

import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { describeOrigin } from '../config/locate.js';
import { readSmtpSettings } from '../config/mail-env.js';
import type { Config } from '../config/types.js';
import { smtpMode } from '../delivery/smtp.js';
import { AppError } from '../util/errors.js';
import { parseArgs, type OptionSpec } from './args.js';

export const VALIDATE_OPTIONS: readonly OptionSpec[] = [{ name: 'config', kind: 'string' }, { name: 'quiet', kind: 'boolean' }];

export const VALIDATE_HELP = `usage: logward validate [--config FILE] [--quiet]

Checks the configuration, every rule file it loads, the mail settings (SMTP_* in the
environment or .env, mail.ca_file), and this host: journalctl for journal sources, the
state and report directories. Prints every problem with its file and path and exits 78,
or prints a summary (the file used and why, its rules and directories) and exits 0.

Without --config the file is $LOGWARD_CONFIG, else /etc/logward/logward.yaml, else
./config/logward.yaml, else the configuration shipped with logward.
`;

export function validateCommand(argv: readonly string[], io: { stdout: (s: string) => void; env?: NodeJS.ProcessEnv }): number {
  const { values: v, positionals } = parseArgs(argv, VALIDATE_OPTIONS, 'validate');
  const file = (v.config as string | undefined) ?? positionals[0] ?? null;
  const env = io.env ?? process.env;
  let config: Config;
  try {
    config = loadConfig(file, { env, checkHost: true });
  } catch (err) {
    // List the environment's mail problems too, so one run shows everything to fix.
    if (!(err instanceof AppError) || err.code !== 'CONFIG_INVALID') throw err;
    const mailProblems = readSmtpSettings(env, { source: null, mail: { caFile: null, connectTimeoutMs: 10_000, greetingTimeoutMs: 10_000 } }).problems;
    if (mailProblems.length === 0) throw err;
    const n = err.details.length + mailProblems.length;
    throw new AppError('CONFIG_INVALID', err.message.replace(/: \d+ problems?;/, `: ${n} problem${n === 1 ? '' : 's'};`), { details: [...err.details, ...mailProblems] });
  }
  const { smtp: settings, problems } = config.mail;
  if (problems.length > 0) {
    const n = problems.length;
    throw new AppError('CONFIG_INVALID', `invalid mail settings: ${n} problem${n === 1 ? '' : 's'}; fix them (SMTP_* in the environment or .env, mail.* in ${config.source ?? 'the configuration'}) and run \`logward validate\` again`, { details: problems });
  }
  if (v.quiet !== true) {
    const enabled = config.enabledRules;
    const mail = settings === null
      ? `no SMTP_HOST; messages are written to ${shown(config.mail.outboxDir)}`
      : `SMTP ${settings.host}:${settings.port} (${smtpMode(settings)}) to ${settings.to.length} recipient${settings.to.length === 1 ? '' : 's'}`;
    io.stdout(
      `configuration OK: ${config.source ?? '(built-in defaults)'} (${describeOrigin(config.sourceFrom)})\n` +
      `  rule files: ${config.ruleFiles.map(shown).join(', ')}\n` +
      `  rules enabled (${enabled.length}): ${enabled.join(', ')}\n` +
      `  time zone: ${config.input.timeZone}; format: ${config.input.format}; reports: ${shown(config.reports.dir)} (${config.reports.formats.join(', ')})\n` +
      `  state: ${shown(config.state.dir)}\n` +
      `  mail: ${mail}\n`,
    );
  }
  return 0;
}

/** A path as the operator reads it best: relative below the working directory, else absolute. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel) ? rel : p;
}
