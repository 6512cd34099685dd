#!/usr/bin/env node
// logward's command line: dispatch and the one place that exits. Every AppError becomes
// one line on stderr (what, where, what to do) plus its details, and its exit status;
// anything else is a bug (exit 70).

import { loadDotEnv } from './config/env.js';
import { scanCommand, SCAN_HELP } from './commands/scan.js';
import { validateCommand, VALIDATE_HELP } from './commands/validate.js';
import { testRulesCommand, TEST_RULES_HELP } from './commands/test-rules.js';
import { runCommand, RUN_HELP } from './commands/run.js';
import { mailCommand, MAIL_HELP } from './commands/mail.js';
import { digestCommand, DIGEST_HELP } from './commands/digest.js';
import { AppError, EXIT } from './util/errors.js';
import { systemClock } from './util/clock.js';
import { version } from './util/version.js';

const HELP = `usage: logward <command> [options]

Commands:
  run [FILE...]         follow the configured logs and alert as attacks happen (the daemon)
  scan [FILE...]        analyse log files once and write reports (the prototype's job)
  validate              check the configuration and rule files
  test-rules LOG...     show what each rule matches on each line; check "# expect:" annotations
  digest                print the daily digest now (--send: send it)
  mail test             send a test message through the configured SMTP server
  help [COMMAND]        show help
  --version             print the version

Run \`logward <command> --help\` for a command's options.
`;

const HELPS: Record<string, string> = { run: RUN_HELP, scan: SCAN_HELP, validate: VALIDATE_HELP, 'test-rules': TEST_RULES_HELP, mail: MAIL_HELP, digest: DIGEST_HELP };

async function main(argv: string[]): Promise<number> {
  const stdout = (s: string): void => void process.stdout.write(s);
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    stdout(topic !== undefined && HELPS[topic] !== undefined ? HELPS[topic] : HELP);
    return EXIT.OK;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    stdout(`logward ${version()}\n`);
    return EXIT.OK;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const help = HELPS[command];
    if (help !== undefined) {
      stdout(help);
      return EXIT.OK;
    }
  }
  loadDotEnv();
  switch (command) {
    case 'run': return runCommand(rest, { clock: systemClock });
    case 'scan': return scanCommand(rest, { stdout, clock: systemClock });
    case 'validate': return validateCommand(rest, { stdout });
    case 'test-rules': return testRulesCommand(rest, { stdout, clock: systemClock });
    case 'mail': return mailCommand(rest, { stdout, clock: systemClock });
    case 'digest': return digestCommand(rest, { stdout, clock: systemClock });
    default:
      throw new AppError('USAGE', `unknown command "${command}"; run \`logward help\` for the list`);
  }
}

function report(err: unknown): number {
  if (err instanceof AppError) {
    process.stderr.write(`logward: ${err.message}\n`);
    for (const d of err.details) process.stderr.write(`  ${d}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`logward: internal error: ${e.message}; this is a bug, please report it with the command you ran\n${e.stack ?? ''}\n`);
  return EXIT.SOFTWARE;
}

// `logward scan ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// The daemon exits as soon as its command returns: a watcher, a timer or a socket left
// behind by a failed start or a stop cut short by run.shutdown_timeout_secs must not keep
// a process alive that watches nothing (under systemd, Restart= must see the exit).
// One-shot commands end when their work is done, with their output flushed.
const exitNow = process.argv[2] === 'run';
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (exitNow) process.exit(code);
  },
  (err: unknown) => {
    process.exitCode = report(err);
    if (exitNow) process.exit(process.exitCode);
  },
);
