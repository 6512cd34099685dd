// The daemon's HTTP endpoint as a server: creates it with its timeouts (headers, whole
// request, idle), listens, holds connections to their caps (connections.ts), takes a new
// token on reload, and closes with its open connections. What each path answers is
// routes.ts's (metrics.ts, auth.ts and sse.ts behind it). A failure to bind rejects the start
// with the address in the message; a failing request answers 500 and logs one line, and
// never takes the daemon down. Like the rest of http/, it never imports the runtime: the
// daemon hands in a StatusProvider.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HTTP } from '../config/http.js';
import type { Config } from '../config/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { describeSystemError } from '../util/errors.js';
import { Gate } from './auth.js';
import { ConnectionGuard } from './connections.js';
import { hostChecker } from './host-check.js';
import type { LiveBoard } from './live-board.js';
import { createRoutes } from './routes.js';
import type { StatusProvider } from './status.js';

/** The http block; what is left out takes its default (tests set only a few fields). */
export type HttpSettings = Pick<Config['http'], 'host' | 'port' | 'token'> & Partial<Config['http']>;

export interface HttpServerHandle {
  /** Where it listens, e.g. http://127.0.0.1:9110 (the real port when config.port is 0). */
  readonly url: string;
  /** A reloaded configuration: a new token ends every dashboard session. */
  reload(config: HttpSettings): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** Wall time for source ages on /metrics and the dashboard, sessions and login limits. */
  clock: Clock;
  /** Serves the live dashboard when given. */
  board?: LiveBoard | null;
}

/** A client error's answer written straight to the socket, then the socket is closed. */
function rawAnswer(status: string): string {
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\nX-Content-Type-Options: nosniff\r\n\r\n`;
}

export async function startHttpServer(settings: HttpSettings, status: StatusProvider, log: Logger, opts: HttpServerOptions): Promise<HttpServerHandle> {
  const config: Config['http'] = { ...DEFAULT_HTTP, ...settings };
  let token = config.token;
  const board = opts.board ?? null;
  const gate = new Gate({
    token: config.token, clock: opts.clock, log,
    sessionMs: config.sessionMs, loginFailuresPerMin: config.loginFailuresPerMin, maxBodyBytes: config.maxBodyBytes,
  });
  const guard = new ConnectionGuard(config.maxConnections, Math.min(config.maxConnectionsPerClient, config.maxConnections), opts.clock);
  const routes = createRoutes({
    gate, status, log, board, clock: opts.clock, hostAllowed: hostChecker(config.host, config.allowedHosts),
    maxBodyBytes: config.maxBodyBytes, stallMs: config.idleTimeoutMs, connections: () => guard.stats(),
  });

  const server = http.createServer({
    headersTimeout: config.headerTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.idleTimeoutMs,
    // How often the header and request timeouts are checked (Node's default is 30 s).
    connectionsCheckingInterval: Math.min(1000, config.headerTimeoutMs),
  }, (req, res) => {
    if (guard.request(req, res)) routes.handle(req, res);
  });
  // A connection that moves no byte for this long is closed (a stalled dashboard stream too).
  server.setTimeout(config.idleTimeoutMs);
  server.on('connection', (socket) => guard.admit(socket));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(rawAnswer(status), () => socket.destroy());
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`http: cannot listen on ${config.host}:${config.port} (${describeSystemError(err)}); change http.host or http.port`, { cause: err }));
    server.once('error', onError);
    // A deeper accept queue than Node's 511: under a connection flood a client's SYN waits
    // for the next accept instead of being dropped (and retried by its kernel a second later).
    server.listen({ port: config.port, host: config.host, backlog: 2048 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'http: server error'));

  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, auth: config.token !== null ? 'bearer' : 'none', dashboard: board !== null }, `http: serving ${board !== null ? 'the dashboard, ' : ''}/metrics and /healthz on ${url}`);

  let closed: Promise<void> | null = null;
  return {
    url,
    reload(next) {
      // Host, port and the bounds stay as they were until a restart.
      const nextToken = next.token === '' ? null : next.token;
      if (nextToken === token) return;
      token = nextToken;
      gate.setToken(token);
      log.info({ auth: token !== null ? 'bearer' : 'none' }, 'http: the token changed; every dashboard session ended');
    },
    close() {
      routes.close();
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
