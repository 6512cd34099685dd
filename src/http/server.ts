// The daemon's HTTP endpoint as a server: creates it, listens, and closes it with its open
// connections. What each path answers is routes.ts's (metrics.ts, auth.ts and sse.ts behind
// it). A failure to bind rejects the start with the address in the message; a failing request
// answers 500 and logs one line, and never takes the daemon down. Like the rest of http/, it
// never imports the runtime: the daemon hands in a StatusProvider.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { describeSystemError } from '../util/errors.js';
import type { LiveBoard } from './live-board.js';
import { createRoutes } from './routes.js';
import type { StatusProvider } from './status.js';

export interface HttpServerHandle {
  /** Where it listens, e.g. http://127.0.0.1:9110 (the real port when config.port is 0). */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** Wall time for source ages on /metrics and the dashboard. */
  clock: Clock;
  /** Serves the live dashboard when given. */
  board?: LiveBoard | null;
}

export async function startHttpServer(config: Config['http'], status: StatusProvider, log: Logger, opts: HttpServerOptions): Promise<HttpServerHandle> {
  const token = config.token;
  const board = opts.board ?? null;
  const routes = createRoutes({ token, status, log, board, clock: opts.clock });

  const server = http.createServer((req, res) => routes.handle(req, res));
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
      routes.close();
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
