// The strict schemas of logward.yaml and of rule files. Unknown keys are errors (a typo
// must never silently disable a setting). Shapes here are the YAML shapes, snake_case;
// load.ts turns them into the frozen camelCase Config.

import { z } from 'zod';
import { FORMAT_NAMES, SEVERITIES } from '../core/types.js';
import { MAX_WINDOW_MS } from '../core/window.js';
import type { Problem } from '../core/rules.js';
import { oneLine } from '../util/text.js';

const posInt = z.number().int().positive();
/** Windows up to core's limit (30 days): the window store keeps times as 32-bit millisecond offsets. */
const MAX_WINDOW_SECS = MAX_WINDOW_MS / 1000;
const windowSecs = posInt.max(MAX_WINDOW_SECS, `a window is at most ${MAX_WINDOW_SECS} seconds (${MAX_WINDOW_MS / 86_400_000} days)`);
const nonNegInt = z.number().int().nonnegative();
const name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower-case letters, digits and _ (starting with a letter)');

export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Online IP enrichment: none (offline data only), ipinfo.io or ipapi.co. */
export const ENRICH_PROVIDERS = ['none', 'ipinfo', 'ipapi'] as const;

export const ruleOverrideSchema = z.strictObject({
  enabled: z.boolean().optional(),
  window_secs: windowSecs.optional(),
  threshold: posInt.optional(),
  cooldown_secs: nonNegInt.optional(),
  severity: z.enum(SEVERITIES).optional(),
});

// A Host header name: letters, digits, dots and dashes, or an IP address (no scheme, no port).
const hostName = z.string().regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be a host name or address without scheme or port, e.g. logward.example.org');

const httpSchema = z.strictObject({
  enabled: z.boolean().default(false),
  host: z.string().min(1).default('127.0.0.1'),
  // 0: any free port (tests).
  port: z.number().int().min(0).max(65_535).default(9110),
  // A bearer token every request must carry, e.g. ${LOGWARD_HTTP_TOKEN}; a secret, never logged.
  token: z.string().nullable().default(null),
  allowed_hosts: z.array(hostName).max(100).default([]),
  max_connections: posInt.max(100_000).default(256),
  max_connections_per_client: posInt.max(100_000).default(64),
  header_timeout_secs: z.number().positive().max(3600).default(10),
  request_timeout_secs: z.number().positive().max(3600).default(30),
  // At least two of the dashboard's 5 s refreshes, so a healthy stream is never idle.
  idle_timeout_secs: z.number().min(10).max(3600).default(30),
  max_body_bytes: z.number().int().min(1024).max(1024 * 1024).default(8192),
  session_hours: z.number().positive().max(8760).default(12),
  login_failures_per_min: posInt.max(10_000).default(5),
}).prefault({});

/** The http block as an empty one parses: every default. */
export function httpDefaults(): z.infer<typeof httpSchema> {
  return httpSchema.parse({});
}

export const configSchema = z.strictObject({
  rules: z.strictObject({
    // null: the builtin rules of the package (config/paths.ts).
    files: z.array(z.string().min(1)).min(1).nullable().default(null),
    enabled: z.array(name).nullable().default(null),
    overrides: z.record(name, ruleOverrideSchema).default({}),
  }).default({ files: null, enabled: null, overrides: {} }),
  input: z.strictObject({
    format: z.enum(['auto', ...FORMAT_NAMES]).default('auto'),
    timezone: z.string().min(1).default('local'),
    year: z.number().int().min(1970).max(9999).nullable().default(null),
    max_line_bytes: z.number().int().min(256).max(64 * 1024 * 1024).default(65536),
  }).default({ format: 'auto', timezone: 'local', year: null, max_line_bytes: 65536 }),
  limits: z.strictObject({
    max_keys_per_rule: posInt.default(100_000),
    max_samples_per_incident: nonNegInt.max(1000).default(5),
    max_values_per_incident: posInt.max(100_000).default(100),
    max_sample_chars: posInt.max(1_000_000).default(1000),
  }).default({ max_keys_per_rule: 100_000, max_samples_per_incident: 5, max_values_per_incident: 100, max_sample_chars: 1000 }),
  reports: z.strictObject({
    // null: ./reports in the working directory, or $STATE_DIRECTORY/reports (config/paths.ts).
    dir: z.string().min(1).nullable().default(null),
    formats: z.array(z.enum(REPORT_FORMATS)).min(1).default(['json', 'csv']),
    max_events: nonNegInt.max(10_000_000).default(10_000),
  }).default({ dir: null, formats: ['json', 'csv'], max_events: 10_000 }),
  scan: z.strictObject({
    files: z.array(z.string().min(1)).default([]),
  }).default({ files: [] }),
  sources: z.array(z.strictObject({
    path: z.string().min(1).optional(),
    journal: z.strictObject({
      units: z.array(z.string().min(1)).default([]),
      identifiers: z.array(z.string().min(1)).default([]),
      files: z.array(z.string().min(1)).default([]),
      directory: z.string().min(1).optional(),
      journalctl: z.string().min(1).default('journalctl'),
    }).optional(),
    format: z.enum(['auto', ...FORMAT_NAMES]).optional(),
    start_at: z.enum(['end', 'beginning']).default('end'),
    follow_symlinks: z.boolean().optional(),
  }).superRefine((src, ctx) => {
    if ((src.path === undefined) === (src.journal === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a source needs exactly one of "path" (files) or "journal" (the systemd journal)' });
    }
    if (src.journal !== undefined && src.format !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['format'], message: 'a journal source has no format: entries are read as structured records' });
    }
    if (src.journal !== undefined && src.follow_symlinks !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['follow_symlinks'], message: 'follow_symlinks applies to path sources (a directory or a pattern), not to the journal' });
    }
  })).default([]),
  state: z.strictObject({
    // null: $STATE_DIRECTORY, or ./data in the working directory (config/paths.ts).
    dir: z.string().min(1).nullable().default(null),
  }).default({ dir: null }),
  // The mask of every file and directory scan and run create (reports, state, outbox). A
  // string: YAML reads an unquoted 027 as the number 27.
  umask: z.string({ error: 'must be a quoted octal mask such as "027" (YAML reads an unquoted 027 as the number 27)' })
    .regex(/^0?[0-7]{3}$/, 'must be an octal mask of three digits such as "027" or "077"')
    .refine((s) => (parseInt(s, 8) & 0o700) === 0, 'must leave the owner\'s permissions alone (first digit 0), or logward cannot write its own files')
    .default('027'),
  run: z.strictObject({
    poll_secs: z.number().positive().max(3600).default(5),
    checkpoint_secs: z.number().positive().max(3600).default(2),
    report_cron: z.string().min(1).default('0 * * * *'),
    digest_cron: z.string().min(1).default('0 7 * * *'),
    timezone: z.string().min(1).default('local'),
    shutdown_timeout_secs: z.number().positive().max(600).default(10),
  }).default({ poll_secs: 5, checkpoint_secs: 2, report_cron: '0 * * * *', digest_cron: '0 7 * * *', timezone: 'local', shutdown_timeout_secs: 10 }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS).default('info'),
  }).default({ level: 'info' }),
  mail: z.strictObject({
    // The SMTP server itself comes from the environment (.env): SMTP_HOST, SMTP_PORT, ...
    ca_file: z.string().min(1).nullable().default(null),
    connect_timeout_secs: z.number().positive().max(300).default(10),
    greeting_timeout_secs: z.number().positive().max(300).default(10),
    outbox_dir: z.string().min(1).nullable().default(null),
    digest: z.boolean().default(true),
    alert_min_severity: z.enum([...SEVERITIES, 'off']).default('high'),
    alerts_per_hour: nonNegInt.max(10_000).default(10),
  }).default({ ca_file: null, connect_timeout_secs: 10, greeting_timeout_secs: 10, outbox_dir: null, digest: true, alert_min_severity: 'high', alerts_per_hour: 10 }),
  webhook: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).nullable().default(null),
    secret: z.string().nullable().default(null),
    min_severity: z.enum(SEVERITIES).default('medium'),
    timeout_secs: z.number().positive().max(300).default(10),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string()).default({}),
  }).default({ url: null, secret: null, min_severity: 'medium', timeout_secs: 10, headers: {} }),
  delivery: z.strictObject({
    retry_min_secs: z.number().positive().max(86_400).default(30),
    retry_max_secs: z.number().positive().max(86_400).default(3600),
    max_pending: posInt.max(1_000_000).default(10_000),
    alert_stream: z.union([z.string().min(1), z.literal(false)]).nullable().default(null),
  }).default({ retry_min_secs: 30, retry_max_secs: 3600, max_pending: 10_000, alert_stream: null }),
  enrich: z.strictObject({
    enabled: z.boolean().default(true),
    provider: z.enum(ENRICH_PROVIDERS).default('none'),
    base_url: z.url({ protocol: /^https?$/ }).nullable().default(null),
    timeout_secs: z.number().positive().max(300).default(3),
    deadline_secs: z.number().positive().max(300).default(5),
    concurrency: posInt.max(64).default(4),
    cache_file: z.string().min(1).nullable().default(null),
    cache_ttl_hours: z.number().positive().max(87_600).default(168),
    negative_ttl_mins: z.number().positive().max(525_600).default(10),
    cache_max_entries: posInt.max(10_000_000).default(100_000),
    breaker_failures: posInt.max(1000).default(5),
    breaker_secs: z.number().positive().max(86_400).default(300),
  }).default({
    enabled: true, provider: 'none', base_url: null, timeout_secs: 3, deadline_secs: 5, concurrency: 4, cache_file: null,
    cache_ttl_hours: 168, negative_ttl_mins: 10, cache_max_entries: 100_000, breaker_failures: 5, breaker_secs: 300,
  }),
  http: httpSchema,
});

export type RawConfig = z.infer<typeof configSchema>;

/**
 * The parts of a document that pass the schema, with defaults for the rest: each section
 * on its own, then each key of a section that fails (each entry of sources), so the checks
 * after the schema still run on everything valid and one `logward validate` lists every
 * problem. The caller has the schema's own problems already; this adds none.
 */
export function salvage(doc: unknown): RawConfig {
  const top = asRecord(doc);
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(configSchema.shape) as [string, z.ZodType][]) {
    const value = top[key];
    if (schema.safeParse(value).success) {
      out[key] = value;
      continue;
    }
    const inner = schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : schema;
    if (inner instanceof z.ZodObject) {
      const section = asRecord(value);
      const kept: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        if (Object.hasOwn(section, k) && s.safeParse(section[k]).success) kept[k] = section[k];
      }
      out[key] = kept;
    } else if (inner instanceof z.ZodArray && Array.isArray(value)) {
      const element = inner.element as z.ZodType;
      out[key] = value.filter((v) => element.safeParse(v).success);
    }
  }
  const res = configSchema.safeParse(out);
  return res.success ? res.data : configSchema.parse({});
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const patternSchema = z.union([
  z.string().min(1),
  z.strictObject({
    regex: z.string().min(1),
    emit: z.boolean().default(true),
    set: z.array(name).default([]),
    requires: z.array(name).default([]),
    min_users: nonNegInt.default(0),
    clear: z.boolean().default(false),
  }),
]);

export const matcherSchema = z.strictObject({
  name,
  description: z.string().default(''),
  formats: z.array(z.enum(FORMAT_NAMES)).min(1).nullable().default(null),
  programs: z.array(z.string().min(1)).min(1).nullable().default(null),
  exclude_programs: z.array(z.string().min(1)).default([]),
  statuses: z.array(z.number().int().min(100).max(599)).min(1).nullable().default(null),
  require_fields: z.array(z.enum(['ip', 'user', 'host', 'program'])).default([]),
  prefilter: z.array(z.string().min(1)).min(1).nullable().default(null),
  case_insensitive: z.boolean().default(false),
  ignore: z.array(z.string().min(1)).default([]),
  patterns: z.array(patternSchema).default([]),
  max_severity: z.number().int().min(0).max(7).nullable().default(null),
  context: z.strictObject({
    ttl_secs: posInt.default(600),
    max_entries: posInt.default(10_000),
  }).nullable().default(null),
});

export const ruleSchema = z.strictObject({
  name,
  description: z.string().default(''),
  matcher: z.union([name, z.array(name).min(1)]),
  key: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be ip, user, host, program or a named group').nullable().default(null),
  window_secs: windowSecs,
  threshold: posInt,
  cooldown_secs: nonNegInt.optional(),
  severity: z.enum(SEVERITIES).default('medium'),
  enabled: z.boolean().default(true),
});

export const ruleFileSchema = z.strictObject({
  matchers: z.array(matcherSchema).default([]),
  rules: z.array(ruleSchema).default([]),
});

export type RawRuleFile = z.infer<typeof ruleFileSchema>;

/** Unknown keys named in one problem; a file that is no config at all has hundreds. */
const MAX_KEYS_SHOWN = 3;

/** Schema issues as problems with their config path (`rules[2].pattern`) and a hint for unknown keys. */
export function zodProblems(error: z.ZodError, file: string): Problem[] {
  return error.issues.map((issue) => {
    const p = issue.path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? keyText(String(seg)) : `.${keyText(String(seg))}`)).join('');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const shown = issue.keys.slice(0, MAX_KEYS_SHOWN).map((k) => `"${keyText(k)}"`);
      const more = issue.keys.length - shown.length;
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}; check the spelling against config/logward.yaml`;
    }
    return { path: `${file}: ${p === '' ? '(top level)' : p}`, message };
  });
}

/**
 * A key of the file as a message shows it. A key is text of the file, and the file may be
 * a link to a secret (/etc/shadow's "root:$6$...:" lines are YAML keys): a key that is not
 * a plain name shows only its leading name characters, and no key more than 40.
 */
function keyText(key: string): string {
  if (/^[A-Za-z0-9_.-]{1,40}$/.test(key)) return key;
  const lead = /^[A-Za-z0-9_.-]{0,40}/.exec(key)?.[0] ?? '';
  return `${oneLine(lead, 40)}…`;
}

