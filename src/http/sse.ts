// The dashboard's Server-Sent Events streams (/events): the set of open streams, the push
// that coalesces board changes to at most one per PUSH_MS, the periodic refresh, and the cap
// on open streams. A client that reads slower than pictures come gets only the latest one
// once it has taken the previous: at most one picture waits per stream. One that takes no
// byte for `stallMs` is dropped (a browser reconnects), and so is the one behind longest
// when a new dashboard finds every place taken. A failed picture keeps the previous one on
// every screen; it never ends a stream or throws into the board's change callback. It
// never routes or checks credentials.

import type http from 'node:http';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { LiveBoard } from './live-board.js';
import { BASE_HEADERS, send, TEXT_TYPE } from './respond.js';

/** Open dashboards at once: each costs one snapshot per push. */
const MAX_STREAMS = 16;
/** Pushes to dashboards are coalesced to at most one per this many ms. */
const PUSH_MS = 250;
/** Dashboards get a fresh picture at least this often (source ages move on). */
const REFRESH_MS = 5000;

export interface EventStreams {
  /** Answers /events: the first picture at once, then every push, until the client leaves. */
  open(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** Open streams, bytes they hold that their clients have not taken, streams dropped since start. */
  stats(): { open: number; bufferedBytes: number; dropped: number };
  /** Stops pushing and ends every open stream. */
  close(): void;
}

interface Stream {
  readonly res: http.ServerResponse;
  /** Since when its client has not taken what was written, or null when it is keeping up. */
  behindSince: number | null;
  /** A picture came while it was behind: send the latest once it drains. */
  missed: boolean;
}

export interface EventStreamOptions {
  /** Renders the board as the JSON each push sends; it may throw. */
  picture: () => string;
  log: Logger;
  clock: Clock;
  /** A stream whose client takes nothing for this long is dropped. */
  stallMs: number;
}

export function createEventStreams(board: LiveBoard, opts: EventStreamOptions): EventStreams {
  const { picture, log, clock, stallMs } = opts;
  const streams = new Set<Stream>();
  // One Buffer per picture, written to every stream: a stream that waits holds a reference
  // to it, not a copy (a string would be copied into each stream's queue).
  let latest = Buffer.alloc(0);
  let latestAt = -Infinity;
  let dropped = 0;
  /** A new picture, or null (logged) when it failed; it becomes the latest. */
  const render = (): Buffer | null => {
    try {
      latest = Buffer.from(`event: state\ndata: ${picture()}\n\n`);
      latestAt = clock.now();
      return latest;
    } catch (err) {
      log.error({ err }, 'http: the dashboard snapshot failed; dashboards keep the previous one');
      return null;
    }
  };

  const drop = (s: Stream): void => {
    if (streams.delete(s)) dropped++;
    s.res.destroy();
  };
  const write = (s: Stream): void => {
    if (s.res.writableNeedDrain) {
      s.missed = true;
      s.behindSince ??= clock.now();
      return;
    }
    s.missed = false;
    if (!s.res.write(latest)) s.behindSince ??= clock.now();
  };

  let pushTimer: NodeJS.Timeout | null = null;
  const pushAll = (): void => {
    pushTimer = null;
    if (streams.size === 0 || render() === null) return;
    const now = clock.now();
    for (const s of streams) {
      if (s.behindSince !== null && now - s.behindSince >= stallMs) drop(s);
      else write(s);
    }
  };
  const schedulePush = (): void => {
    if (pushTimer === null && streams.size > 0) pushTimer = setTimeout(pushAll, PUSH_MS);
  };
  const unsubscribe = board.subscribe(schedulePush);
  const refresh = setInterval(pushAll, REFRESH_MS);
  refresh.unref();

  /** The stream behind longest, if one has taken nothing for a refresh interval (a healthy one is behind only while a picture flushes). */
  const laggard = (): Stream | null => {
    let worst: Stream | null = null;
    for (const s of streams) if (s.behindSince !== null && (worst === null || s.behindSince < worst.behindSince!)) worst = s;
    return worst !== null && clock.now() - worst.behindSince! >= REFRESH_MS ? worst : null;
  };

  return {
    open(req, res) {
      if (streams.size >= MAX_STREAMS) {
        const worst = laggard();
        if (worst === null) {
          send(res, 503, TEXT_TYPE, `too many open dashboards (${MAX_STREAMS}); close one and reload\n`, { 'Retry-After': '10' });
          return;
        }
        drop(worst);
      }
      // Dashboards opening together share one picture: at most one is made per PUSH_MS for them.
      const first = clock.now() - latestAt < PUSH_MS ? latest : render();
      if (first === null) throw new Error('the dashboard snapshot failed');
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' });
      const s: Stream = { res, behindSince: null, missed: false };
      streams.add(s);
      // A reconnecting browser waits 2 s; the first picture goes out at once.
      res.write('retry: 2000\n');
      if (!res.write(first)) s.behindSince = clock.now();
      req.socket.setNoDelay(true);
      res.on('drain', () => {
        s.behindSince = null;
        if (s.missed && streams.has(s)) write(s);
      });
      // The socket's idle timeout (http.idle_timeout_secs without a byte taken): a drop too.
      res.on('timeout', () => drop(s));
      const gone = (): void => {
        streams.delete(s);
      };
      req.on('close', gone);
      res.on('error', gone);
    },
    stats() {
      let bufferedBytes = 0;
      for (const s of streams) bufferedBytes += s.res.writableLength;
      return { open: streams.size, bufferedBytes, dropped };
    },
    close() {
      unsubscribe();
      clearInterval(refresh);
      if (pushTimer !== null) clearTimeout(pushTimer);
      for (const s of streams) s.res.end();
      streams.clear();
    },
  };
}
