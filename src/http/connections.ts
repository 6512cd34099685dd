// Who may hold a connection to the HTTP endpoint: at most http.max_connections in all and
// http.max_connections_per_client from one client address (an IPv6 client is its /64), and
// a few pipelined requests per connection. Past a cap, the connection idle longest (no
// request in progress: a slow or silent client, or a kept-alive one) makes room; when none
// can, the newcomer is closed at once. A connection is never pushed out in the turn of the
// event loop it arrived in, nor in the next one unless GRACE_MS passed, so a client that
// sends its request at once is read before any flood can evict it, while one that never
// completes a request ages out first. It keeps one small record per open socket, and never
// reads or answers a request.

import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../util/clock.js';

/** Requests queued on one connection (pipelined) before it is closed: each holds its answer. */
const MAX_QUEUED_REQUESTS = 4;
/** Past its first turn, a connection this old may be evicted although no turn with arrivals followed. */
const GRACE_MS = 200;

interface Conn {
  readonly client: string;
  /** The event-loop turn it was accepted in or last became idle in, and when. */
  turn: number;
  since: number;
  /** Requests received and not yet answered. */
  busy: number;
}

interface Client {
  open: number;
  /** Its idle connections, longest idle first. */
  readonly idle: Set<Socket>;
}

export interface ConnectionStats {
  open: number;
  /** Closed at once because every connection was busy or too young to make room. */
  refused: number;
  /** Idle connections closed to make room for a new one. */
  evicted: number;
}

/** The key a client is counted under: its IPv4 address, or its IPv6 /64. */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return '?';
  const a = address.toLowerCase().replace(/%.*$/, '');
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  if (!a.includes(':')) return a;
  const [head = '', tail] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class ConnectionGuard {
  private readonly conns = new Map<Socket, Conn>();
  /** Every idle connection, longest idle first. */
  private readonly idle = new Set<Socket>();
  private readonly clients = new Map<string, Client>();
  private turn = 0;
  private turning = false;
  private refused = 0;
  private evicted = 0;

  constructor(private readonly maxAll: number, private readonly maxPerClient: number, private readonly clock: Clock) {}

  /** A new connection: kept (true), or closed at once (false). */
  admit(socket: Socket): boolean {
    this.nextTurn();
    const key = clientKey(socket.remoteAddress);
    const client = this.clients.get(key);
    const roomForClient = client === undefined || client.open < this.maxPerClient || this.evictFrom(client.idle);
    if (!roomForClient || (this.conns.size >= this.maxAll && !this.evictFrom(this.idle))) {
      this.refused++;
      socket.destroy();
      return false;
    }
    const conn: Conn = { client: key, turn: this.turn, since: 0, busy: 0 };
    this.conns.set(socket, conn);
    const c = client ?? { open: 0, idle: new Set<Socket>() };
    if (client === undefined) this.clients.set(key, c);
    c.open++;
    this.setIdle(socket, conn);
    socket.once('close', () => this.forget(socket));
    return true;
  }

  /** A request arrived on its connection: false when the connection was closed for it. */
  request(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const socket = req.socket;
    const conn = this.conns.get(socket);
    if (conn === undefined) return true;
    conn.busy++;
    if (conn.busy === 1) {
      this.idle.delete(socket);
      this.clients.get(conn.client)?.idle.delete(socket);
    }
    if (conn.busy > MAX_QUEUED_REQUESTS) {
      socket.destroy();
      return false;
    }
    res.once('close', () => {
      conn.busy--;
      if (conn.busy === 0 && this.conns.has(socket)) this.setIdle(socket, conn);
    });
    return true;
  }

  stats(): ConnectionStats {
    return { open: this.conns.size, refused: this.refused, evicted: this.evicted };
  }

  private setIdle(socket: Socket, conn: Conn): void {
    conn.turn = this.turn;
    conn.since = this.clock.now();
    this.idle.add(socket);
    this.clients.get(conn.client)?.idle.add(socket);
  }

  /** Closes the connection idle longest in `idle` if it is old enough; true when it did. */
  private evictFrom(idle: Set<Socket>): boolean {
    // Turns and times only grow along the set's order: when the first is too young, all are.
    const first = idle.values().next();
    if (first.done === true) return false;
    const conn = this.conns.get(first.value);
    if (conn === undefined || conn.turn >= this.turn) return false;
    if (conn.turn === this.turn - 1 && this.clock.now() - conn.since < GRACE_MS) return false;
    this.evicted++;
    this.forget(first.value);
    first.value.destroy();
    return true;
  }

  private forget(socket: Socket): void {
    const conn = this.conns.get(socket);
    if (conn === undefined) return;
    this.conns.delete(socket);
    this.idle.delete(socket);
    const client = this.clients.get(conn.client);
    if (client === undefined) return;
    client.idle.delete(socket);
    if (--client.open === 0) this.clients.delete(conn.client);
  }

  /** Counts turns of the event loop in which connections arrived (none while it is quiet). */
  private nextTurn(): void {
    if (this.turning) return;
    this.turning = true;
    setImmediate(() => {
      this.turn++;
      this.turning = false;
    });
  }
}
