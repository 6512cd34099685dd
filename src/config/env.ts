// `.env` holds secrets (SMTP password, API tokens) and nothing else. It is read quietly,
// never overrides the real environment, and its values are never logged.

import dotenv from 'dotenv';

export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): void {
  dotenv.config({ path: file, quiet: true, override: false, processEnv: env as Record<string, string> });
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
