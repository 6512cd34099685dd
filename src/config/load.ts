// Config loading: find the file (locate.ts) -> read YAML -> interpolate ${ENV} -> validate
// strictly -> resolve paths against the file's directory (paths.ts) -> load rule files ->
// apply overrides -> compile-check every rule -> frozen Config. Every problem is
// collected with its file and path, then reported at once (exit 78): an operator fixes
// the whole file in one go instead of one error per restart. A part that fails the schema
// does not stop the checks of the others (salvage).

import path from 'node:path';
import { AppError } from '../util/errors.js';
import { CONFIG_FILE_MAX_BYTES, fileLabel, readSmallFile } from '../util/small-file.js';
import { oneLine } from '../util/text.js';
import { compileRuleSet, type CompiledRuleSet, type DetectionSpec, type Problem } from '../core/rules.js';
import { checkTimeZone } from '../core/time.js';
import type { Config, SourceConfig } from './types.js';

export type { Config, SourceConfig };
import { readMailEnv } from './mail-env.js';
import { validateCron } from '../util/cron.js';
import { normaliseHttp } from './http.js';
import { configSchema, salvage, zodProblems } from './schema.js';
import { loadRuleFiles, retimed, stripLoadFields } from './rule-files.js';
import { interpolateTree, parseYaml } from './yaml.js';
import { locateConfig, PACKAGED_CONFIG, type ConfigOrigin } from './locate.js';
import { resolvePaths } from './paths.js';
import { hostProblems } from './host-checks.js';

/** The prototype's command-line choice of rules, applied to every selected rule. */
export interface RuleSelection {
  readonly rules?: readonly string[] | undefined;
  readonly windowSecs?: number | undefined;
  readonly threshold?: number | undefined;
  /** The command, for the usage message of an unknown rule name. */
  readonly command: string;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** --rules, --window, --threshold: which rules run and how (scan). */
  selection?: RuleSelection;
  /** Rule files to load instead of the config's rules.files (test-rules --rules). */
  ruleFiles?: readonly string[];
  /** Also check the host: journalctl for journal sources, state and report directories (validate). */
  checkHost?: boolean;
}

/**
 * Loads a config file. `file` null means the lookup of locate.ts ($LOGWARD_CONFIG,
 * /etc/logward/logward.yaml, ./config/logward.yaml, the packaged config).
 * Throws AppError CONFIG_NOT_FOUND / CONFIG_INVALID listing every problem.
 */
export function loadConfig(file: string | null, opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const located = locateConfig(file, { env });
  const source = located.file;
  let doc: unknown = {};
  const problems: Problem[] = [];
  // The file and, when it is a link, the file it leads to: the one an operator edits.
  let label = source;
  if (source !== null) {
    // A regular file of at most 1 MiB: never a device, a FIFO, or a secret's content echoed.
    const read = readSmallFile(source, CONFIG_FILE_MAX_BYTES);
    if (!read.ok) throw new AppError('CONFIG_NOT_FOUND', `cannot read config file ${fileLabel(source, read.realPath)} (${read.reason}); ${READ_HINT[located.origin]}`);
    label = fileLabel(source, read.realPath);
    doc = parseYaml(read.text, source, problems);
    // Nothing more can be checked in a file that does not parse.
    if (problems.length > 0) throw invalid(label, problems);
    doc = interpolateTree(doc, env, (name, at) => problems.push({ path: `${source}: ${at}`, message: `environment variable ${name} is not set; set it or write \${${name}:-default}` }));
  }
  const where = source ?? '(defaults)';
  const parsed = configSchema.safeParse(doc ?? {});
  // Still check the rest (rule files, zones, crons, ...), so one run lists every problem.
  if (!parsed.success) problems.push(...zodProblems(parsed.error, where));
  const cwd = process.cwd();
  const raw = resolvePaths(parsed.success ? parsed.data : salvage(doc), {
    configDir: path.dirname(source === null ? PACKAGED_CONFIG : path.resolve(cwd, source)), cwd, env,
  });

  let timeZone = raw.input.timezone;
  if (timeZone === 'local') timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  try {
    checkTimeZone(timeZone);
  } catch {
    problems.push({ path: `${where}: input.timezone`, message: `unknown time zone "${oneLine(raw.input.timezone, 60)}"; use an IANA name such as UTC or Europe/Berlin, or "local"` });
  }

  let runZone = raw.run.timezone === 'local' ? Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' : raw.run.timezone;
  try {
    checkTimeZone(runZone);
  } catch {
    problems.push({ path: `${where}: run.timezone`, message: `unknown time zone "${oneLine(raw.run.timezone, 60)}"; use an IANA name such as UTC or Europe/Berlin, or "local"` });
    runZone = 'UTC';
  }
  for (const [key, expr] of [['report_cron', raw.run.report_cron], ['digest_cron', raw.run.digest_cron]] as const) {
    if (!validateCron(expr)) problems.push({ path: `${where}: run.${key}`, message: `"${oneLine(expr, 60)}" is not a cron expression; use five fields such as "0 * * * *" (minute hour day month weekday)` });
  }

  const http = normaliseHttp(raw.http, where, problems);

  const { matchers, rules, files } = loadRuleFiles(opts.ruleFiles ?? raw.rules.files, problems);
  const byName = new Map(rules.map((r) => [r.name, r]));
  for (const [ruleName, ov] of Object.entries(raw.rules.overrides)) {
    const r = byName.get(ruleName);
    if (r === undefined) {
      problems.push({ path: `${where}: rules.overrides.${ruleName}`, message: `no rule named "${ruleName}" in the rule files; known rules: ${[...byName.keys()].join(', ')}` });
      continue;
    }
    byName.set(ruleName, { ...retimed(r, ov.window_secs, ov.cooldown_secs, ov.threshold), enabled: ov.enabled ?? r.enabled, severity: ov.severity ?? r.severity });
  }
  let enabled = [...byName.values()].filter((r) => r.enabled).map((r) => r.name);
  if (raw.rules.enabled !== null && opts.ruleFiles === undefined) {
    raw.rules.enabled.forEach((n, i) => {
      if (!byName.has(n)) problems.push({ path: `${where}: rules.enabled[${i}]`, message: `no rule named "${n}"; known rules: ${[...byName.keys()].join(', ')}` });
    });
    enabled = raw.rules.enabled.filter((n) => byName.has(n));
  }
  // Rule files named for testing are tested whole, whatever their rules' enabled flags.
  if (opts.ruleFiles !== undefined) enabled = [...byName.keys()];
  const sel = opts.selection;
  // On an invalid file the rule names may be incomplete: its problems are the answer.
  if (sel !== undefined && parsed.success) {
    if (sel.rules !== undefined) {
      const unknown = sel.rules.filter((n) => !byName.has(n));
      if (unknown.length > 0) {
        throw new AppError('USAGE', `unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known rules: ${[...byName.keys()].join(', ')}; see \`logward ${sel.command} --help\``);
      }
      enabled = [...sel.rules];
    }
    for (const n of enabled) byName.set(n, retimed(byName.get(n)!, sel.windowSecs, undefined, sel.threshold));
  }

  const detection: DetectionSpec = {
    matchers,
    rules: [...byName.values()].map(stripLoadFields),
    limits: {
      maxKeysPerRule: raw.limits.max_keys_per_rule,
      maxSamplesPerIncident: raw.limits.max_samples_per_incident,
      maxValuesPerIncident: raw.limits.max_values_per_incident,
      maxSampleChars: raw.limits.max_sample_chars,
    },
  };
  const { ruleset, problems: ruleProblems } = compileRuleSet(detection, enabled);
  problems.push(...ruleProblems);
  if (opts.checkHost === true) problems.push(...hostProblems(raw, where, env));
  if (problems.length > 0) throw invalid(label, problems);

  const config: Config = deepFreeze({
    source,
    sourceFrom: located.origin,
    detection,
    enabledRules: enabled,
    ruleFiles: files,
    input: { format: raw.input.format, timeZone, year: raw.input.year, maxLineBytes: raw.input.max_line_bytes },
    reports: { dir: raw.reports.dir, formats: [...new Set(raw.reports.formats)], maxEvents: raw.reports.max_events },
    scan: { files: raw.scan.files },
    sources: raw.sources.map((src): SourceConfig => src.journal !== undefined
      ? { kind: 'journal', journal: { units: src.journal.units, identifiers: src.journal.identifiers, files: src.journal.files, directory: src.journal.directory ?? null, journalctl: src.journal.journalctl }, startAt: src.start_at }
      : { kind: 'file', path: src.path!, format: src.format ?? null, startAt: src.start_at, followSymlinks: src.follow_symlinks ?? false }),
    state: { dir: raw.state.dir },
    umask: parseInt(raw.umask, 8),
    run: {
      pollMs: raw.run.poll_secs * 1000,
      checkpointMs: raw.run.checkpoint_secs * 1000,
      reportCron: raw.run.report_cron,
      digestCron: raw.run.digest_cron,
      timeZone: runZone,
      shutdownTimeoutMs: raw.run.shutdown_timeout_secs * 1000,
    },
    log: { level: raw.log.level },
    mail: {
      caFile: raw.mail.ca_file,
      connectTimeoutMs: raw.mail.connect_timeout_secs * 1000,
      greetingTimeoutMs: raw.mail.greeting_timeout_secs * 1000,
      outboxDir: raw.mail.outbox_dir ?? path.join(raw.reports.dir, 'outbox'),
      digest: raw.mail.digest,
      alertMinSeverity: raw.mail.alert_min_severity,
      alertsPerHour: raw.mail.alerts_per_hour,
      // SMTP_* (and the mail.ca_file certificate), read here once with their problems.
      ...readMailEnv(env, source, raw.mail),
    },
    webhook: {
      url: raw.webhook.url,
      secret: raw.webhook.secret === '' ? null : raw.webhook.secret,
      minSeverity: raw.webhook.min_severity,
      timeoutMs: raw.webhook.timeout_secs * 1000,
      headers: raw.webhook.headers,
    },
    delivery: {
      retryMinMs: raw.delivery.retry_min_secs * 1000,
      retryMaxMs: raw.delivery.retry_max_secs * 1000,
      maxPending: raw.delivery.max_pending,
      alertStream: raw.delivery.alert_stream === false ? null : raw.delivery.alert_stream ?? path.join(raw.reports.dir, 'alerts.jsonl'),
    },
    enrich: {
      enabled: raw.enrich.enabled,
      provider: raw.enrich.provider,
      baseUrl: raw.enrich.base_url === null ? null : raw.enrich.base_url.replace(/\/+$/, ''),
      timeoutMs: raw.enrich.timeout_secs * 1000,
      deadlineMs: raw.enrich.deadline_secs * 1000,
      concurrency: raw.enrich.concurrency,
      cacheFile: raw.enrich.cache_file ?? path.join(raw.state.dir, 'ip-cache.json'),
      cacheTtlMs: raw.enrich.cache_ttl_hours * 3_600_000,
      negativeTtlMs: raw.enrich.negative_ttl_mins * 60_000,
      cacheMaxEntries: raw.enrich.cache_max_entries,
      breakerFailures: raw.enrich.breaker_failures,
      breakerMs: raw.enrich.breaker_secs * 1000,
    },
    http,
  });
  rulesets.set(config, ruleset);
  return config;
}

/**
 * The compiled rules of a loaded config: built once, when it was loaded (compiled RegExps
 * keep state such as lastIndex, so they live beside the frozen config, not in it).
 */
const rulesets = new WeakMap<Config, CompiledRuleSet>();

export function rulesOf(config: Config): CompiledRuleSet {
  const r = rulesets.get(config);
  if (r === undefined) throw new Error('rulesOf: this Config was not made by loadConfig');
  return r;
}

const READ_HINT: Record<ConfigOrigin, string> = {
  option: 'check the path given to --config',
  env: 'check the path in $LOGWARD_CONFIG',
  system: 'check its permissions, or name another file with --config',
  local: 'check its permissions, or name another file with --config',
  packaged: 'check its permissions, or name another file with --config',
  none: 'name a file with --config',
};

function invalid(source: string | null, problems: Problem[]): AppError {
  const n = problems.length;
  return new AppError('CONFIG_INVALID', `invalid configuration${source === null ? '' : ` in ${source}`}: ${n} problem${n === 1 ? '' : 's'}; fix them and run \`logward validate\` again`, {
    details: problems.map((p) => `${p.path}: ${p.message}`),
  });
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
