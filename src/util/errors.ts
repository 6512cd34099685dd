// The one error catalogue. Every failure an operator can meet has a stable code, an exit
// status (sysexits.h) and a message that says what went wrong, where, and what to do.
// Only cli.ts turns an AppError into an exit; everything else throws or counts.

export const EXIT = Object.freeze({
  OK: 0,
  USAGE: 64,
  DATA: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  CONFIG: 78,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Stable error codes; the README's error table lists every one (a test checks it). */
export const ERROR_CODES = Object.freeze({
  USAGE: { exit: EXIT.USAGE, summary: 'the command line is wrong' },
  CONFIG_INVALID: { exit: EXIT.CONFIG, summary: 'the configuration or a rule file is invalid' },
  CONFIG_NOT_FOUND: { exit: EXIT.CONFIG, summary: 'the configuration file cannot be read' },
  INPUT_UNREADABLE: { exit: EXIT.IOERR, summary: 'a log file cannot be opened or read' },
  OUTPUT_UNWRITABLE: { exit: EXIT.CANTCREAT, summary: 'a report or events file cannot be written' },
  RULE_TEST_FAILED: { exit: EXIT.DATA, summary: 'test-rules found lines whose expectations disagree with the rules' },
  STATE_LOCKED: { exit: EXIT.TEMPFAIL, summary: 'another `logward run` is using the state directory' },
  MAIL_FAILED: { exit: EXIT.UNAVAILABLE, summary: 'a test message could not be sent (SMTP server unreachable, TLS or authentication failed, or refused)' },
  HTTP_UNAVAILABLE: { exit: EXIT.UNAVAILABLE, summary: 'logward run cannot listen on http.host:http.port (in use, or not allowed)' },
  INTERNAL: { exit: EXIT.SOFTWARE, summary: 'a bug in logward' },
} as const);

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  /** Extra lines printed after the one-line message (e.g. every config problem). */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
    this.details = options.details ?? [];
  }
}

/** A short description of a system error without stack or secrets: "ENOENT: no such file". */
export function describeSystemError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const text = code !== undefined ? SYSTEM_ERROR_TEXT[code] : undefined;
    if (code !== undefined && text !== undefined) return `${code}: ${text}`;
    return code !== undefined ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

const SYSTEM_ERROR_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};
