// `.env` holds secrets (SMTP password, API tokens) and nothing else. It is read quietly
// when it is there, never overrides the real environment, and its values are never logged.
// It is read like the configuration (util/small-file.ts): a regular file of at most 1 MiB,
// and a refusal names the file and where its link leads, never its content.

import dotenv from 'dotenv';
import { AppError } from '../util/errors.js';
import { CONFIG_FILE_MAX_BYTES, fileLabel, readSmallFile } from '../util/small-file.js';

export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): void {
  const read = readSmallFile(file, CONFIG_FILE_MAX_BYTES);
  if (!read.ok) {
    // No .env at all is the usual case: the environment alone. Anything else there that
    // cannot be read would leave the secrets out silently.
    if (read.missing) return;
    throw new AppError('CONFIG_NOT_FOUND', `cannot read ${fileLabel(file, read.realPath)} (${read.reason}); .env holds secrets as NAME=value lines: make it a regular file of at most 1 MiB, or remove it`);
  }
  dotenv.populate(env as Record<string, string>, dotenv.parse(read.text), { override: false });
}

/** Replaces ${NAME} and ${NAME:-default} in a string; unknown names are reported. */
export function interpolate(value: string, env: NodeJS.ProcessEnv, missing: (name: string) => void): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, key: string, def: string | undefined) => {
    const v = env[key];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing(key);
    return '';
  });
}
