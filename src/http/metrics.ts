// The Prometheus side of the HTTP endpoint: a private registry whose counters and gauges are
// filled from the StatusProvider (and the endpoint's own connection counts) at each scrape,
// and nothing between scrapes. The only module
// that imports prom-client (a swap touches this file alone). It never registers into
// prom-client's global registry, never caches a value from one scrape to the next, and never
// answers HTTP itself: routes.ts sends what scrape() returns.

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../util/clock.js';
import { ask } from './status.js';
import type { SourceHealth, StatusProvider } from './status.js';

/** What one scrape reads from the provider: each call made once, so samples agree. */
interface Snapshot {
  readonly now: number;
  readonly sources: readonly SourceHealth[];
  readonly ruleEvents: Readonly<Record<string, number>>;
  readonly ruleKeys: Readonly<Record<string, { readonly held: number; readonly evicted: number }>>;
  readonly incidents: { readonly alerted: number; readonly open: number };
  readonly outbox: number;
  readonly enrich: { readonly hits: number; readonly misses: number } | null;
  readonly http: HttpStats;
}

/** The endpoint's own counts: what its bounds refused or dropped, and what it holds now. */
export interface HttpStats {
  connections: number;
  connectionsRefused: number;
  connectionsEvicted: number;
  streams: number;
  streamBufferedBytes: number;
  streamsDropped: number;
  loginFailures: number;
  loginsLimited: number;
  misdirected: number;
}

const HTTP_METRICS: readonly [keyof HttpStats, string, 'counter' | 'gauge', string][] = [
  ['connections', 'logward_http_connections', 'gauge', 'HTTP connections open now; at most http.max_connections.'],
  ['connectionsRefused', 'logward_http_connections_refused_total', 'counter', 'Connections closed on arrival: a connection cap was reached and no idle connection could make room.'],
  ['connectionsEvicted', 'logward_http_connections_evicted_total', 'counter', 'Idle connections closed to make room for a new one under a connection cap.'],
  ['streams', 'logward_http_dashboard_streams', 'gauge', 'Dashboard event streams open now.'],
  ['streamBufferedBytes', 'logward_http_dashboard_buffered_bytes', 'gauge', 'Bytes written to dashboard streams and /api/dashboard answers that their clients have not taken yet.'],
  ['streamsDropped', 'logward_http_dashboard_streams_dropped_total', 'counter', 'Dashboard streams and /api/dashboard answers closed because their client stopped taking what was sent.'],
  ['loginFailures', 'logward_http_login_failures_total', 'counter', 'Dashboard logins with a wrong token.'],
  ['loginsLimited', 'logward_http_logins_limited_total', 'counter', 'Dashboard logins refused with 429 after http.login_failures_per_min wrong ones.'],
  ['misdirected', 'logward_http_misdirected_total', 'counter', 'Requests refused with 421 because their Host header does not name this endpoint.'],
];

function takeSnapshot(status: StatusProvider, clock: Clock, http: () => HttpStats): Snapshot {
  return {
    http: http(),
    now: clock.now(),
    sources: ask('sources', () => status.sources()),
    ruleEvents: ask('ruleEvents', () => status.ruleEvents()),
    ruleKeys: ask('ruleKeys', () => status.ruleKeys()),
    incidents: ask('incidents', () => status.incidents()),
    outbox: ask('outboxDepth', () => status.outboxDepth()),
    enrich: ask('enrichCache', () => status.enrichCache()),
  };
}

/** A private registry whose metrics read the snapshot taken for the scrape in progress. */
function buildRegistry(current: () => Snapshot): Registry {
  const registry = new Registry();
  const sourceLabels = ['source', 'kind'] as const;

  const perSource = (name: string, help: string, value: (s: SourceHealth) => number): void => {
    new Counter({
      name, help, labelNames: sourceLabels, registers: [registry],
      collect() {
        this.reset();
        for (const s of current().sources) this.inc({ source: s.source, kind: s.kind }, value(s));
      },
    });
  };
  perSource('logward_source_lines_total', 'Lines read from the source since start.', (s) => s.lines);
  perSource('logward_source_parsed_total', 'Lines whose format was recognised.', (s) => s.parsed);
  perSource('logward_source_not_parsed_total', 'Lines no format recognised.', (s) => s.notParsed);
  perSource('logward_source_events_total', 'Events (lines matched by a rule) from the source.', (s) => s.events);

  new Gauge({
    name: 'logward_source_lag_bytes', help: 'Bytes of the file not yet read (files only).', labelNames: sourceLabels, registers: [registry],
    collect() {
      this.reset();
      for (const s of current().sources) if (s.lagBytes !== null) this.set({ source: s.source, kind: s.kind }, s.lagBytes);
    },
  });
  new Gauge({
    name: 'logward_source_last_line_age_seconds', help: 'Seconds since a read last brought lines (absent before the first).', labelNames: sourceLabels, registers: [registry],
    collect() {
      this.reset();
      const snap = current();
      for (const s of snap.sources) {
        if (s.lastLineAt !== null) this.set({ source: s.source, kind: s.kind }, Math.max(0, (snap.now - s.lastLineAt) / 1000));
      }
    },
  });
  new Counter({
    name: 'logward_rule_events_total', help: 'Events counted by each rule since start.', labelNames: ['rule'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [rule, n] of Object.entries(current().ruleEvents)) this.inc({ rule }, n);
    },
  });
  new Gauge({
    name: 'logward_rule_keys', help: 'Keys (addresses, users) each rule holds in its window now; at most limits.max_keys_per_rule.', labelNames: ['rule'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [rule, k] of Object.entries(current().ruleKeys)) this.set({ rule }, k.held);
    },
  });
  new Counter({
    name: 'logward_rule_keys_evicted_total', help: 'Keys dropped, stalest first, because a rule held limits.max_keys_per_rule (since start or the last reload).', labelNames: ['rule'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [rule, k] of Object.entries(current().ruleKeys)) this.inc({ rule }, k.evicted);
    },
  });
  new Counter({
    name: 'logward_incidents_alerted_total', help: 'Incidents alerted since start.', registers: [registry],
    collect() {
      this.reset();
      this.inc(current().incidents.alerted);
    },
  });
  new Gauge({
    name: 'logward_incidents_open', help: 'Incidents open now.', registers: [registry],
    collect() {
      this.set(current().incidents.open);
    },
  });
  new Gauge({
    name: 'logward_outbox_pending', help: 'Mail and webhook messages waiting in the outbox.', registers: [registry],
    collect() {
      this.set(current().outbox);
    },
  });
  const enrichCounter = (name: string, help: string, pick: (c: { hits: number; misses: number }) => number): void => {
    new Counter({
      name, help, registers: [registry],
      collect() {
        this.reset();
        const cache = current().enrich;
        if (cache === null) this.remove({});
        else this.inc(pick(cache));
      },
    });
  };
  enrichCounter('logward_enrich_cache_hits_total', 'Enrichment lookups answered from the cache (absent without a cache).', (c) => c.hits);
  enrichCounter('logward_enrich_cache_misses_total', 'Enrichment lookups the cache could not answer (absent without a cache).', (c) => c.misses);
  for (const [field, name, type, help] of HTTP_METRICS) {
    if (type === 'gauge') {
      new Gauge({ name, help, registers: [registry], collect() { this.set(current().http[field]); } });
    } else {
      new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(current().http[field]); } });
    }
  }

  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface Metrics {
  /** The Content-Type of what scrape() returns. */
  readonly contentType: string;
  /** Asks the provider once per call and renders the registry from those answers. */
  scrape(): Promise<string>;
}

export function createMetrics(status: StatusProvider, clock: Clock, http: () => HttpStats): Metrics {
  let snapshot: Snapshot | null = null;
  const registry = buildRegistry(() => {
    if (snapshot === null) throw new Error('metrics collected outside a scrape');
    return snapshot;
  });

  // One scrape at a time reads the snapshot; the provider is asked before collecting.
  let queue: Promise<unknown> = Promise.resolve();
  const scrape = (take: () => Snapshot): Promise<string> => {
    const run = queue.then(async () => {
      snapshot = take();
      try {
        return await registry.metrics();
      } finally {
        snapshot = null;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    contentType: registry.contentType,
    scrape: () => scrape(() => takeSnapshot(status, clock, http)),
  };
}
