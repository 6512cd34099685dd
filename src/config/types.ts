// The frozen configuration every component is built from: plain data, normalised
// (durations in ms, paths absolute, defaults applied) by config/load.ts. Types only:
// nothing here reads a file or builds a runtime object.

import type { DetectionSpec } from '../core/rules.js';
import type { FormatName, Severity } from '../core/types.js';
import type { ConfigOrigin } from './locate.js';
import type { ENRICH_PROVIDERS, RawConfig } from './schema.js';

export interface JournalFilter {
  /** systemd units (journalctl -u), any of them. */
  readonly units: readonly string[];
  /** Syslog identifiers (journalctl -t), any of them. */
  readonly identifiers: readonly string[];
  /** Journal files to read instead of the system journal (journalctl --file). */
  readonly files: readonly string[];
  /** A journal directory to read instead of the system journal (journalctl -D). */
  readonly directory: string | null;
  /** The journalctl binary. */
  readonly journalctl: string;
}

export type SourceConfig =
  | {
    readonly kind: 'file'; readonly path: string; readonly format: FormatName | 'auto' | null; readonly startAt: 'end' | 'beginning';
    /** Follow links found in a directory or pattern source that point outside its directory. */
    readonly followSymlinks: boolean;
  }
  | { readonly kind: 'journal'; readonly journal: JournalFilter; readonly startAt: 'end' | 'beginning' };

/** The SMTP server, from SMTP_* and mail.ca_file (read by config/mail-env.ts). */
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS from the first byte (SMTP_SSL=1). */
  readonly secure: boolean;
  /** STARTTLS is required, not opportunistic (SMTP_TLS=1). */
  readonly requireTLS: boolean;
  readonly user: string | null;
  /** A secret: never log, print or persist it. */
  readonly pass: string | null;
  readonly from: string;
  readonly to: readonly string[];
  /** PEM text of mail.ca_file, or null (the system's CAs). */
  readonly ca: string | null;
  readonly caFile: string | null;
  readonly connectionTimeoutMs: number;
  readonly greetingTimeoutMs: number;
}

/** Sender and recipients, also known when no SMTP server is set (for .eml files). */
export interface MailAddressing {
  readonly from: string;
  readonly to: readonly string[];
}

export interface Config {
  /** The file it was read from (as given or found), or null for built-in defaults. */
  readonly source: string | null;
  /** How that file was chosen: --config, $LOGWARD_CONFIG, /etc/logward, ./config, the packaged one. */
  readonly sourceFrom: ConfigOrigin;
  readonly detection: DetectionSpec;
  /** Names of the rules enabled by config (before command-line selection). */
  readonly enabledRules: readonly string[];
  readonly ruleFiles: readonly string[];
  readonly input: {
    readonly format: FormatName | 'auto';
    /** A resolved IANA zone name ("local" is resolved at load). */
    readonly timeZone: string;
    readonly year: number | null;
    readonly maxLineBytes: number;
  };
  readonly reports: { readonly dir: string; readonly formats: readonly ('json' | 'csv' | 'html')[]; readonly maxEvents: number };
  readonly scan: { readonly files: readonly string[] };
  readonly sources: readonly SourceConfig[];
  readonly state: { readonly dir: string };
  /** Applied with process.umask when scan and run start (from the octal string "027"). */
  readonly umask: number;
  readonly run: {
    readonly pollMs: number;
    readonly checkpointMs: number;
    readonly reportCron: string;
    readonly digestCron: string;
    readonly timeZone: string;
    readonly shutdownTimeoutMs: number;
  };
  readonly log: { readonly level: RawConfig['log']['level'] };
  readonly mail: {
    readonly caFile: string | null;
    readonly connectTimeoutMs: number;
    readonly greetingTimeoutMs: number;
    /** Where messages are written as .eml files when no SMTP server is configured. */
    readonly outboxDir: string;
    readonly digest: boolean;
    readonly alertMinSeverity: Severity | 'off';
    readonly alertsPerHour: number;
    /**
     * The SMTP server (SMTP_HOST and the other SMTP_* variables, read at load), or null:
     * no SMTP_HOST (messages become .eml files), or there are problems.
     */
    readonly smtp: SmtpSettings | null;
    /** SMTP_FROM, or logward@<hostname>. */
    readonly from: string;
    /** SMTP_TO, the recipients. */
    readonly to: readonly string[];
    /**
     * What is wrong with SMTP_* or mail.ca_file, each naming what to fix and never the
     * password. Not a load error: only what sends mail refuses to start with them.
     */
    readonly problems: readonly string[];
  };
  readonly webhook: {
    readonly url: string | null;
    /** HMAC-SHA256 key for the X-Logward-Signature header (a secret: never logged). */
    readonly secret: string | null;
    readonly minSeverity: Severity;
    readonly timeoutMs: number;
    readonly headers: Readonly<Record<string, string>>;
  };
  readonly delivery: {
    readonly retryMinMs: number;
    readonly retryMaxMs: number;
    readonly maxPending: number;
    /** Append-only JSON Lines stream of alerts for a SIEM shipper, or null. */
    readonly alertStream: string | null;
  };
  readonly enrich: {
    /** Offline origin data (country, city, ASN) for addresses in reports and mails. */
    readonly enabled: boolean;
    /** Online provider asked for what the offline data lacks; none: nothing leaves the host. */
    readonly provider: (typeof ENRICH_PROVIDERS)[number];
    /** The provider's base URL, or null for its public one. */
    readonly baseUrl: string | null;
    readonly timeoutMs: number;
    /** Longest a lookup waits for the provider before answering with what is known. */
    readonly deadlineMs: number;
    readonly concurrency: number;
    readonly cacheFile: string;
    readonly cacheTtlMs: number;
    readonly negativeTtlMs: number;
    readonly cacheMaxEntries: number;
    readonly breakerFailures: number;
    readonly breakerMs: number;
  };
  readonly http: {
    /** Serve GET /metrics (Prometheus) and GET /healthz while `logward run` runs. */
    readonly enabled: boolean;
    readonly host: string;
    /** 0: any free port. */
    readonly port: number;
    /** Bearer token every request must carry (a secret: never logged), or null. */
    readonly token: string | null;
    /** Host header names answered besides loopback names and addresses and `host` (lower case). */
    readonly allowedHosts: readonly string[];
    readonly maxConnections: number;
    readonly maxConnectionsPerClient: number;
    /** Longest wait for a request's headers, and for the whole request. */
    readonly headerTimeoutMs: number;
    readonly requestTimeoutMs: number;
    /** A connection (or a dashboard stream) that moves no byte for this long is closed. */
    readonly idleTimeoutMs: number;
    readonly maxBodyBytes: number;
    /** How long a dashboard session cookie stays valid after the login. */
    readonly sessionMs: number;
    /** Wrong logins one client address may try per minute before it gets 429. */
    readonly loginFailuresPerMin: number;
  };
}

