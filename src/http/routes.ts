// Which path answers what: /metrics, /healthz and, with a LiveBoard, the dashboard page,
// /api/dashboard, /events, /login and /logout; before any of them the Host check (421,
// against DNS rebinding) and the bound on request bodies (413), then the token check before
// all but /login and /logout; 400, 404 and 405 for the rest; and the 500 (with one log line)
// when answering throws. Values are taken from the StatusProvider at each request. It never
// listens or owns a socket (server.ts does), and never renders metrics, streams or
// credentials itself.

import type http from 'node:http';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { safeJson } from '../util/text.js';
import type { Gate } from './auth.js';
import { declaredTooLarge } from './body.js';
import type { ConnectionStats } from './connections.js';
import { dashboardPage } from './dashboard-page.js';
import type { LiveBoard } from './live-board.js';
import { createMetrics } from './metrics.js';
import { HTML_TYPE, JSON_TYPE, newNonce, pageHeaders, send, TEXT_TYPE } from './respond.js';
import { createEventStreams } from './sse.js';
import { ask, ProviderError } from './status.js';
import type { StatusProvider } from './status.js';

const ROUTES = new Set(['/metrics', '/healthz']);
const BOARD_ROUTES = new Set(['/', '/api/dashboard', '/events']);
/**
 * Bytes of /api/dashboard answers written but not yet taken by their clients, at most (a
 * picture is up to about 1 MB): past it the oldest such answer is dropped, so clients that
 * ask and never read cannot hold a picture per connection.
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface RoutesOptions {
  /** The token, sessions and logins. */
  gate: Gate;
  status: StatusProvider;
  log: Logger;
  /** Serves the live dashboard when given. */
  board: LiveBoard | null;
  /** Wall time for source ages on /metrics and the dashboard. */
  clock: Clock;
  /** Whether a request's Host header names this endpoint. */
  hostAllowed: (host: string | undefined, localAddress: string | undefined) => boolean;
  maxBodyBytes: number;
  /** A dashboard stream whose client takes nothing for this long is dropped. */
  stallMs: number;
  connections: () => ConnectionStats;
}

export interface Routes {
  /** Answers one request; never throws (a failure answers 500 or ends the response). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Stops the dashboard pushes and ends open streams. */
  close(): void;
}

export function createRoutes(opts: RoutesOptions): Routes {
  const { gate, status, log, board, clock } = opts;
  let misdirected = 0;
  let answersDropped = 0;
  const pending = new Set<http.ServerResponse>();
  const pendingBytes = (): number => {
    let total = 0;
    for (const r of pending) total += r.writableLength;
    return total;
  };
  const sendPicture = (res: http.ServerResponse, body: string): void => {
    send(res, 200, JSON_TYPE, body);
    if (res.writableLength === 0) return;
    pending.add(res);
    res.once('close', () => pending.delete(res));
    let total = pendingBytes();
    // Oldest first: a Set iterates in insertion order.
    for (const r of pending) {
      if (total <= MAX_PENDING_BYTES) break;
      total -= r.writableLength;
      pending.delete(r);
      answersDropped++;
      r.destroy();
    }
  };
  // Log text may hold line separators and bidi controls: escaped in the JSON text as everywhere.
  const boardJson = (b: LiveBoard): string => safeJson(b.view(status, clock.now()));
  const dash = board !== null ? { board, streams: createEventStreams(board, { picture: () => boardJson(board), log, clock, stallMs: opts.stallMs }) } : null;
  const metrics = createMetrics(status, clock, () => {
    const c = opts.connections();
    const s = dash?.streams.stats() ?? { open: 0, bufferedBytes: 0, dropped: 0 };
    const g = gate.stats();
    return {
      connections: c.open, connectionsRefused: c.refused, connectionsEvicted: c.evicted,
      streams: s.open, streamBufferedBytes: s.bufferedBytes + pendingBytes(), streamsDropped: s.dropped + answersDropped,
      loginFailures: g.loginFailures, loginsLimited: g.loginsLimited, misdirected,
    };
  });

  const answer = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!opts.hostAllowed(req.headers.host, req.socket.localAddress)) {
      misdirected++;
      send(res, 421, TEXT_TYPE, 'misdirected request: the Host header does not name this endpoint; add the name to http.allowed_hosts\n', { Connection: 'close' });
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      send(res, 400, TEXT_TYPE, 'bad request\n');
      return;
    }
    if (board !== null && pathname === '/login') {
      await gate.login(req, res);
      return;
    }
    if (declaredTooLarge(req, res, opts.maxBodyBytes)) return;
    if (board !== null && pathname === '/logout') {
      gate.logout(req, res);
      return;
    }
    if (!gate.authorized(req)) {
      gate.refuse(res, board !== null && pathname === '/' && (req.headers.accept ?? '').includes('text/html'));
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
    // Past `known`, the board paths are only reached with a board.
    if (dash !== null) {
      if (pathname === '/') {
        const nonce = newNonce();
        send(res, 200, HTML_TYPE, dashboardPage(nonce, !gate.open), pageHeaders(nonce));
        return;
      }
      if (pathname === '/api/dashboard') {
        sendPicture(res, boardJson(dash.board));
        return;
      }
      if (pathname === '/events') {
        dash.streams.open(req, res);
        return;
      }
    }
    if (pathname === '/healthz') {
      const h = ask('health', () => status.health());
      if (h.ok) send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
      else send(res, 503, JSON_TYPE, safeJson({ status: 'unhealthy', problems: h.problems }));
      return;
    }
    const body = await metrics.scrape();
    send(res, 200, metrics.contentType, body);
  };

  return {
    handle(req, res) {
      answer(req, res).catch((err: unknown) => {
        const call = err instanceof ProviderError ? err.call : null;
        const cause = err instanceof ProviderError ? err.cause : err;
        log.error({ err: cause, path: (req.url ?? '').split('?')[0], call }, call !== null ? `http: status provider ${call}() failed; answered 500` : 'http: request failed; answered 500');
        if (!res.headersSent) send(res, 500, TEXT_TYPE, 'internal error; see the logward log\n');
        else res.destroy();
      });
    },
    close() {
      dash?.streams.close();
    },
  };
}
