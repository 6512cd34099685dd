// The daemon's HTTP endpoint: GET /metrics (Prometheus text, from a private registry),
// GET /healthz and, with a LiveBoard, the live dashboard (GET /, /api/dashboard and the
// Server-Sent Events stream /events). Values are taken from the StatusProvider at each
// request, never cached between requests. With a token every path needs
// `Authorization: Bearer <token>` or the cookie the dashboard's login form sets. A failing
// provider call answers 500 and logs one line; it never takes the daemon down.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import { describeSystemError } from '../util/errors.js';
import { dashboardPage, loginPage } from './dashboard-page.js';
import type { LiveBoard } from './live-board.js';
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
  readonly ruleKeys: Readonly<Record<string, { readonly held: number; readonly evicted: number }>>;
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

  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Compares in time independent of where the strings differ (and of their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const COOKIE = 'logward_session';

/** The cookie's value: derived from the token, so the token itself is never stored by a browser. */
function sessionOf(token: string): string {
  return createHash('sha256').update(`logward dashboard session\u0000${token}`).digest('hex');
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function authorized(req: http.IncomingMessage, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  // Always compare, so a missing header takes the same time as a wrong one.
  const byHeader = sameSecret(m?.[1] ?? '', token);
  const cookie = cookieValue(req.headers.cookie, COOKIE);
  const byCookie = sameSecret(cookie ?? '', sessionOf(token));
  return (m !== null && byHeader) || (cookie !== null && byCookie);
}

/** Headers for the HTML pages: nothing but their own inline code, under a fresh nonce. */
function pageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
}

async function readForm(req: http.IncomingMessage, limit: number): Promise<URLSearchParams | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const ROUTES = new Set(['/metrics', '/healthz']);
const BOARD_ROUTES = new Set(['/', '/api/dashboard', '/events']);
/** Open dashboards at once: each costs one snapshot per push. */
const MAX_STREAMS = 16;
/** Pushes to dashboards are coalesced to at most one per this many ms. */
const PUSH_MS = 250;
/** Dashboards get a fresh picture at least this often (source ages move on). */
const REFRESH_MS = 5000;

export interface HttpServerOptions {
  /** Serves the live dashboard when given. */
  board?: LiveBoard | null;
}

export async function startHttpServer(config: Config['http'], status: StatusProvider, log: Logger, opts: HttpServerOptions = {}): Promise<HttpServerHandle> {
  let snapshot: Snapshot | null = null;
  const registry = buildRegistry(() => {
    if (snapshot === null) throw new Error('metrics collected outside a scrape');
    return snapshot;
  });
  const token = config.token;
  const board = opts.board ?? null;
  const streams = new Set<http.ServerResponse>();

  const boardJson = (): string => JSON.stringify(board!.view(status, Date.now()));

  let pushTimer: NodeJS.Timeout | null = null;
  const pushAll = (): void => {
    pushTimer = null;
    if (streams.size === 0) return;
    let data: string;
    try {
      data = boardJson();
    } catch (err) {
      log.error({ err }, 'http: the dashboard snapshot failed; dashboards keep the previous one');
      return;
    }
    for (const res of streams) res.write(`event: state\ndata: ${data}\n\n`);
  };
  const schedulePush = (): void => {
    if (pushTimer === null && streams.size > 0) pushTimer = setTimeout(pushAll, PUSH_MS);
  };
  const unsubscribe = board?.subscribe(schedulePush) ?? null;
  const refresh = setInterval(pushAll, REFRESH_MS);
  refresh.unref();

  const openStream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, TEXT_TYPE, `too many open dashboards (${MAX_STREAMS}); close one and reload\n`, { 'Retry-After': '10' });
      return;
    }
    const first = boardJson();
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' });
    // A reconnecting browser waits 2 s; the first picture goes out at once.
    res.write(`retry: 2000\nevent: state\ndata: ${first}\n\n`);
    streams.add(res);
    req.socket.setNoDelay(true);
    const drop = (): void => {
      streams.delete(res);
    };
    req.on('close', drop);
    res.on('error', drop);
  };

  const login = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const nonce = randomBytes(16).toString('base64');
    if (token === null) {
      send(res, 303, TEXT_TYPE, 'no token is needed\n', { Location: './' });
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      send(res, 200, HTML_TYPE, loginPage(nonce, false), pageHeaders(nonce));
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'GET, POST' });
      return;
    }
    const form = await readForm(req, 4096);
    const given = form?.get('token') ?? '';
    if (!sameSecret(given, token)) {
      log.warn({ remote: req.socket.remoteAddress }, 'http: dashboard login with a wrong token refused');
      send(res, 401, HTML_TYPE, loginPage(nonce, true), pageHeaders(nonce));
      return;
    }
    send(res, 303, TEXT_TYPE, 'signed in\n', {
      Location: './',
      'Set-Cookie': `${COOKIE}=${sessionOf(token)}; HttpOnly; SameSite=Strict; Path=/`,
    });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      send(res, 400, TEXT_TYPE, 'bad request\n');
      return;
    }
    if (board !== null && pathname === '/login') {
      await login(req, res);
      return;
    }
    if (token !== null && !authorized(req, token)) {
      if (board !== null && pathname === '/' && (req.headers.accept ?? '').includes('text/html')) {
        const nonce = randomBytes(16).toString('base64');
        send(res, 401, HTML_TYPE, loginPage(nonce, false), { ...pageHeaders(nonce), 'WWW-Authenticate': 'Bearer realm="logward"' });
        return;
      }
      send(res, 401, TEXT_TYPE, 'unauthorized: send Authorization: Bearer <http.token>\n', { 'WWW-Authenticate': 'Bearer realm="logward"' });
      return;
    }
    const known = ROUTES.has(pathname) || (board !== null && BOARD_ROUTES.has(pathname));
    if (!known) {
      send(res, 404, TEXT_TYPE, `not found: try ${board !== null ? '/ (the dashboard), ' : ''}/metrics or /healthz\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, TEXT_TYPE, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (pathname === '/') {
      const nonce = randomBytes(16).toString('base64');
      send(res, 200, HTML_TYPE, dashboardPage(nonce), pageHeaders(nonce));
      return;
    }
    if (pathname === '/api/dashboard') {
      send(res, 200, JSON_TYPE, boardJson());
      return;
    }
    if (pathname === '/events') {
      openStream(req, res);
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
  log.info({ url, auth: token !== null ? 'bearer' : 'none', dashboard: board !== null }, `http: serving ${board !== null ? 'the dashboard, ' : ''}/metrics and /healthz on ${url}`);

  let closed: Promise<void> | null = null;
  return {
    url,
    close() {
      unsubscribe?.();
      clearInterval(refresh);
      if (pushTimer !== null) clearTimeout(pushTimer);
      for (const res of streams) res.end();
      streams.clear();
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
