// The daemon's HTTP endpoint: GET /metrics (Prometheus text, from a private registry) and
// GET /healthz. Values are taken from the StatusProvider at each request, never cached
// between requests. With a token every path needs `Authorization: Bearer <token>`.
// A failing provider call answers 500 and logs one line; it never takes the daemon down.

import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import type { Logger } from '../runtime/logger.js';
import { describeSystemError } from '../util/errors.js';
import type { SourceHealth, StatusProvider } from './status.js';

export interface HttpServerHandle {
  /** Where it listens, e.g. http://127.0.0.1:9110 (the real port when config.port is 0). */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** What one scrape reads from the provider: each call made once, so samples agree. */
interface Snapshot {
  readonly now: number;
  readonly sources: readonly SourceHealth[];
  readonly ruleEvents: Readonly<Record<string, number>>;
  readonly incidents: { readonly alerted: number; readonly open: number };
  readonly outbox: number;
  readonly enrich: { readonly hits: number; readonly misses: number } | null;
}

class ProviderError extends Error {
  constructor(readonly call: string, cause: unknown) {
    super(`status provider ${call}() failed`, { cause });
  }
}

function ask<T>(call: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ProviderError(call, err);
  }
}

function takeSnapshot(status: StatusProvider): Snapshot {
  return {
    now: Date.now(),
    sources: ask('sources', () => status.sources()),
    ruleEvents: ask('ruleEvents', () => status.ruleEvents()),
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

  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Compares in time independent of where the strings differ (and of their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  // Always compare, so a missing header takes the same time as a wrong one.
  const ok = sameSecret(m?.[1] ?? '', token);
  return m !== null && ok;
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const ROUTES = new Set(['/metrics', '/healthz']);

export async function startHttpServer(config: Config['http'], status: StatusProvider, log: Logger): Promise<HttpServerHandle> {
  let snapshot: Snapshot | null = null;
  const registry = buildRegistry(() => {
    if (snapshot === null) throw new Error('metrics collected outside a scrape');
    return snapshot;
  });
  const token = config.token;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (token !== null && !authorized(req.headers.authorization, token)) {
      send(res, 401, TEXT_TYPE, 'unauthorized: send Authorization: Bearer <http.token>\n', { 'WWW-Authenticate': 'Bearer realm="logward"' });
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      send(res, 400, TEXT_TYPE, 'bad request\n');
      return;
    }
    if (!ROUTES.has(pathname)) {
      send(res, 404, TEXT_TYPE, 'not found: try /metrics or /healthz\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (pathname === '/healthz') {
      const h = ask('health', () => status.health());
      if (h.ok) send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
      else send(res, 503, JSON_TYPE, JSON.stringify({ status: 'unhealthy', problems: h.problems }));
      return;
    }
    // One scrape at a time reads the snapshot; the provider is asked before collecting.
    const body = await scrape(() => takeSnapshot(status));
    send(res, 200, registry.contentType, body);
  };

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

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const call = err instanceof ProviderError ? err.call : null;
      const cause = err instanceof ProviderError ? err.cause : err;
      log.error({ err: cause, path: (req.url ?? '').split('?')[0], call }, call !== null ? `http: status provider ${call}() failed; answered 500` : 'http: request failed; answered 500');
      if (!res.headersSent) send(res, 500, TEXT_TYPE, 'internal error; see the logward log\n');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`http: cannot listen on ${config.host}:${config.port} (${describeSystemError(err)}); change http.host or http.port`, { cause: err }));
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'http: server error'));

  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, auth: token !== null ? 'bearer' : 'none' }, `http: serving /metrics and /healthz on ${url}`);

  let closed: Promise<void> | null = null;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
