// `logward validate [--config FILE]`: loads the configuration and every rule file exactly
// as scan and run would, and prints every problem with its path (exit 78) or a summary.

import { loadConfig } from '../config/load.js';
import { parseArgs, type OptionSpec } from './args.js';

export const VALIDATE_OPTIONS: readonly OptionSpec[] = [{ name: 'config', kind: 'string' }, { name: 'quiet', kind: 'boolean' }];

export const VALIDATE_HELP = `usage: logward validate [--config FILE] [--quiet]

Checks the configuration and every rule file it loads. Prints every problem with its
file and path and exits 78, or prints a summary and exits 0.
`;

export function validateCommand(argv: readonly string[], io: { stdout: (s: string) => void }): number {
  const { values: v, positionals } = parseArgs(argv, VALIDATE_OPTIONS, 'validate');
  const file = (v.config as string | undefined) ?? positionals[0] ?? null;
  const config = loadConfig(file);
  if (v.quiet !== true) {
    const enabled = config.enabledRules;
    io.stdout(
      `configuration OK: ${config.source ?? '(built-in defaults)'}\n` +
      `  rule files: ${config.ruleFiles.join(', ')}\n` +
      `  rules enabled (${enabled.length}): ${enabled.join(', ')}\n` +
      `  time zone: ${config.input.timeZone}; format: ${config.input.format}; reports: ${config.reports.dir} (${config.reports.formats.join(', ')})\n`,
    );
  }
  return 0;
}
