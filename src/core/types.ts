// Plain data that flows through the pure detection core. No classes with IO, no clocks:
// every time here is event time in epoch milliseconds (UTC).

export const FORMAT_NAMES = ['syslog', 'iso_syslog', 'rfc5424', 'clf', 'apache_error', 'nginx_error', 'lighttpd_error'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One parsed log line. Fields a format does not carry are null. */
export interface LogRecord {
  format: FormatName;
  /** Epoch ms UTC. */
  time: number;
  host: string | null;
  program: string | null;
  pid: string | null;
  /** The part rules match against (after the syslog header, after the CLF timestamp, ...). */
  message: string;
  /** Client address carried by the format itself (CLF client, apache [client ...]). */
  ip: string | null;
  /** User carried by the format itself (CLF remote user). */
  user: string | null;
  /** HTTP status (CLF). */
  status: number | null;
  /** Syslog severity 0 (emerg) .. 7 (debug) where the format carries one. */
  severity: number | null;
}

/** How timestamps without a year or zone are read for one source. */
export interface TimeContext {
  /** IANA zone for stamps that carry no offset ("UTC", "Europe/Zurich"). */
  timeZone: string;
  /** Fixed year for RFC 3164 stamps, or null to infer it from refMs. */
  year: number | null;
  /** Reference instant (file mtime, or now): a yearless stamp dated after it belongs to the previous year. */
  refMs: number;
}

/** Where a line came from: the label is the file exactly as given by the user. */
export interface LinePosition {
  source: string;
  /** 1-based line number. */
  line: number;
}

/** A line that a matcher recognised, before windowing. One per (line, rule). */
export interface DetectionEvent {
  rule: string;
  matcher: string;
  source: string;
  line: number;
  time: number;
  ip: string | null;
  user: string | null;
  host: string | null;
  program: string | null;
  /** The line as the rules saw it (controls and separators escaped, see visible.ts), for samples. */
  text: string;
}

export interface IncidentSample {
  source: string;
  line: number;
  time: number;
  text: string;
}

/** One burst of events of one rule and key: what operators are alerted about. */
export interface Incident {
  /** Stable id: the same events always give the same id (restart-safe de-duplication). */
  id: string;
  rule: string;
  severity: Severity;
  /** The key value (an IP, a user), or null for host-wide rules. */
  key: string | null;
  keyField: string | null;
  first: number;
  last: number;
  /** Event time at which the threshold was reached. */
  firedAt: number;
  count: number;
  ips: string[];
  users: string[];
  hosts: string[];
  /** True when more distinct ips/users were seen than are kept. */
  truncated: boolean;
  samples: IncidentSample[];
  windowMs: number;
  threshold: number;
}
