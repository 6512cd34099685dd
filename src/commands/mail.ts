// `logward mail test [--config FILE] [--to ADDR]`: sends one message straight through the
// configured SMTP server (not the outbox), so an operator sees at once whether host,
// port, TLS, credentials and recipients work. Without SMTP_HOST the message is written
// as an .eml file into mail.outbox_dir, as the daemon would.

import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { AppError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { version } from '../util/version.js';
import { readMailAddressing } from '../config/mail-env.js';
import { classifySmtpError, createTransport, smtpMode, toMailOptions, writeEml } from '../delivery/smtp.js';
import type { MailContent } from '../delivery/types.js';
import { parseArgs, usage, type OptionSpec } from './args.js';

export const MAIL_OPTIONS: readonly OptionSpec[] = [{ name: 'config', kind: 'string' }, { name: 'to', kind: 'string' }];

export const MAIL_HELP = `usage: logward mail test [--config FILE] [--to ADDR]

Sends one test message through the SMTP server set by SMTP_HOST, SMTP_PORT, SMTP_USER,
SMTP_PASS, SMTP_FROM, SMTP_TO, SMTP_TLS and SMTP_SSL (and mail.ca_file), to SMTP_TO or
--to ADDR, and says how it went. Without SMTP_HOST it writes the message as an .eml file
into mail.outbox_dir and prints its path. A failure exits 69 with what to fix.
`;

export async function mailCommand(
  argv: readonly string[],
  io: { stdout: (s: string) => void; clock: Clock; env?: NodeJS.ProcessEnv },
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'test') throw usage(sub === undefined ? 'missing subcommand: logward mail test' : `unknown subcommand "mail ${sub}"; the only one is "mail test"`, 'mail');
  const { values: v, positionals } = parseArgs(rest, MAIL_OPTIONS, 'mail');
  if (positionals.length > 0) throw usage(`unexpected argument "${positionals[0]}"`, 'mail');
  const env = io.env ?? process.env;
  const config = loadConfig((v.config as string | undefined) ?? null, { env });
  const { smtp: settings, problems } = config.mail;
  if (problems.length > 0) {
    throw new AppError('CONFIG_INVALID', `invalid mail settings: ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix them and run \`logward mail test\` again`, { details: problems });
  }
  const to = v.to as string | undefined;
  const addressing = config.mail;
  const recipients = to !== undefined ? [to] : [...addressing.to];
  if (to !== undefined && readMailAddressing({ SMTP_TO: to }).to.length !== 1) throw usage(`--to "${to}" is not one mail address`, 'mail');

  const now = io.clock.now();
  const host = os.hostname();
  const via = settings === null ? `no SMTP server (SMTP_HOST is empty): written to ${config.mail.outboxDir}` : `${settings.host}:${settings.port} (${smtpMode(settings)})`;
  const mail: MailContent = {
    messageId: `test-${now}-${randomBytes(4).toString('hex')}.${host.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}@logward`,
    subject: `logward test message from ${host}`,
    text: [
      `This is a test message from logward ${version()} on ${host}.`,
      '',
      `Sent ${new Date(now).toISOString()} via ${via}.`,
      'If you read this, alert mails and the daily digest will reach you the same way.',
      '',
    ].join('\n'),
    date: now,
  };

  if (settings === null) {
    const file = await writeEml(config.mail.outboxDir, mail, { from: addressing.from, to: recipients });
    io.stdout(`no SMTP_HOST: test message written to ${file}\n`);
    return 0;
  }
  if (recipients.length === 0) throw usage('no recipient: set SMTP_TO or give --to ADDR', 'mail');
  const transport = createTransport(settings);
  try {
    await transport.sendMail(toMailOptions(mail, { from: settings.from, to: recipients }));
  } catch (err) {
    throw new AppError('MAIL_FAILED', `test message not sent: ${classifySmtpError(err, settings).message}`);
  } finally {
    transport.close();
  }
  io.stdout(`test message sent to ${recipients.join(', ')} via ${settings.host}:${settings.port} (${smtpMode(settings)})\n`);
  return 0;
}
