// Diagnostics through pino: JSON lines (journald and docker collect them). Secrets never
// reach a log: known secret fields are redacted wherever they appear.

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { escapeJsonText } from './text.js';

export type { Logger };

export const REDACT_PATHS = [
  'password', 'pass', 'token', 'secret', 'authorization',
  '*.password', '*.pass', '*.token', '*.secret', '*.authorization',
  'smtp.pass', 'env.SMTP_PASS', 'env.IPINFO_TOKEN',
  // The config carries the SMTP password (Config.mail.smtp.pass), should one ever be logged.
  'mail.smtp.pass', '*.mail.smtp.pass',
];

export interface LoggerOptions {
  level: string;
  /** File descriptor to write to: 1 for the daemon (stdout), 2 for one-shot commands. */
  fd?: 1 | 2;
  /** Human-readable lines instead of JSON (a terminal). */
  pretty?: boolean;
  /** Write here instead of fd: a file path (appended) or a stream; e.g. to read log lines back in a test. */
  destination?: string | { write(line: string): unknown };
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = process.env.LOGWARD_LOG_LEVEL ?? opts.level;
  return pino(
    {
      name: 'logward',
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Log text carries attacker-written user names and URLs: JSON.stringify leaves line
      // separators, C1 and bidi characters raw, which some readers split or render on.
      hooks: { streamWrite: escapeJsonText },
    },
    opts.pretty === true
      ? pretty({
        destination: opts.destination ?? opts.fd ?? 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss',
        // A terminal gets one line per record: an alert's message says rule, time, count,
        // key and origin, and its full JSON (samples and all) stays in the JSON log and
        // the alert stream; other records keep their fields on the same line.
        singleLine: true, ignore: 'pid,hostname,name,alert',
      })
      : typeof opts.destination === 'string'
        ? pino.destination({ dest: opts.destination, sync: true, append: true, mkdir: true })
        : opts.destination ?? pino.destination({ fd: opts.fd ?? 2, sync: true }),
  );
}
