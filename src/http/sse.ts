// The dashboard's Server-Sent Events streams (/events): the set of open streams, the push
// that coalesces board changes to at most one per PUSH_MS, the periodic refresh, and the cap
// on open streams. A failed picture keeps the previous one on every screen; it never ends a
// stream or throws into the board's change callback. It never routes or checks credentials.

import type http from 'node:http';
import type { Logger } from '../util/logger.js';
import type { LiveBoard } from './live-board.js';
import { send, TEXT_TYPE } from './respond.js';

/** Open dashboards at once: each costs one snapshot per push. */
const MAX_STREAMS = 16;
/** Pushes to dashboards are coalesced to at most one per this many ms. */
const PUSH_MS = 250;
/** Dashboards get a fresh picture at least this often (source ages move on). */
const REFRESH_MS = 5000;

export interface EventStreams {
  /** Answers /events: the first picture at once, then every push, until the client leaves. */
  open(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Stops pushing and ends every open stream. */
  close(): void;
}

/** `picture` renders the board as the JSON each push sends; it may throw. */
export function createEventStreams(board: LiveBoard, picture: () => string, log: Logger): EventStreams {
  const streams = new Set<http.ServerResponse>();

  let pushTimer: NodeJS.Timeout | null = null;
  const pushAll = (): void => {
    pushTimer = null;
    if (streams.size === 0) return;
    let data: string;
    try {
      data = picture();
    } catch (err) {
      log.error({ err }, 'http: the dashboard snapshot failed; dashboards keep the previous one');
      return;
    }
    for (const res of streams) res.write(`event: state\ndata: ${data}\n\n`);
  };
  const schedulePush = (): void => {
    if (pushTimer === null && streams.size > 0) pushTimer = setTimeout(pushAll, PUSH_MS);
  };
  const unsubscribe = board.subscribe(schedulePush);
  const refresh = setInterval(pushAll, REFRESH_MS);
  refresh.unref();

  return {
    open(req, res) {
      if (streams.size >= MAX_STREAMS) {
        send(res, 503, TEXT_TYPE, `too many open dashboards (${MAX_STREAMS}); close one and reload\n`, { 'Retry-After': '10' });
        return;
      }
      const first = picture();
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
    },
    close() {
      unsubscribe();
      clearInterval(refresh);
      if (pushTimer !== null) clearTimeout(pushTimer);
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
