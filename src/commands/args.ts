// Command-line parsing. Besides the usual --opt VALUE / --opt=VALUE / --flag forms it
// keeps the prototype's multi-value options ("--format json csv", "--rules a b c"):
// a multi option takes the following words while they look like its values, so
// "--rules failed_logins errors auth.log" still leaves auth.log as a file.

import fs from 'node:fs';
import { AppError } from '../util/errors.js';

export interface OptionSpec {
  readonly name: string;
  /** string: one value; multi: one or more values (also comma-separated); list: repeatable, one value each. */
  readonly kind: 'string' | 'boolean' | 'multi' | 'list';
  /** For multi: does this word look like a value (and not a file name)? */
  readonly accepts?: (word: string) => boolean;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw usage(`unknown option ${arg}`, command);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = byName.get(name);
    if (spec === undefined) throw usage(`unknown option --${name}`, command);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (spec.kind === 'boolean') {
      if (inline !== undefined) throw usage(`--${name} takes no value`, command);
      values[name] = true;
      continue;
    }
    const takeOne = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw usage(`--${name} needs a value`, command);
      i++;
      return next;
    };
    if (spec.kind === 'string') {
      values[name] = takeOne();
    } else if (spec.kind === 'list') {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), takeOne()];
    } else {
      const got: string[] = [];
      const split = (w: string): string[] => w.split(',').map((x) => x.trim()).filter((x) => x !== '');
      got.push(...split(takeOne()));
      if (inline === undefined) {
        while (i + 1 < argv.length) {
          const next = argv[i + 1]!;
          if (next.startsWith('-') || !(spec.accepts?.(next) ?? true)) break;
          got.push(...split(next));
          i++;
        }
      }
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), ...got];
    }
  }
  return { values, positionals };
}

export function usage(message: string, command: string): AppError {
  return new AppError('USAGE', `${message}; see \`logward ${command} --help\``);
}

/** A rule-name-looking word that is not an existing file. */
export function looksLikeRuleName(word: string): boolean {
  return /^[a-z][a-z0-9_]*$/.test(word) && !fs.existsSync(word);
}

export function intOption(v: unknown, name: string, command: string, min: number, max: number, why = ''): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(`--${name} must be a whole number from ${min} to ${max}${why} (got "${String(v)}")`, command);
  }
  return n;
}
