// The dashboard's sessions: random ids handed out by a good login, each with an end time
// on the injected clock, kept only in memory (a restart signs everyone out). A logout ends
// one; a token change ends all of them. Bounded: past MAX_SESSIONS the oldest goes. It
// never logs an id and never sees the token.

import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';

/** Sessions kept at once; only a holder of the token can make one. */
const MAX_SESSIONS = 1000;

export class Sessions {
  /** id -> end time (ms); in creation order, so the first is the oldest. */
  private readonly ends = new Map<string, number>();

  constructor(private readonly clock: Clock, private readonly lifetimeMs: number) {}

  /** A new session; its id goes into the cookie. */
  start(): string {
    const id = randomBytes(32).toString('base64url');
    this.ends.set(id, this.clock.now() + this.lifetimeMs);
    while (this.ends.size > MAX_SESSIONS) this.ends.delete(this.ends.keys().next().value!);
    return id;
  }

  /** Whether `id` names a session that has not ended; an ended one is forgotten. */
  valid(id: string): boolean {
    const end = this.ends.get(id);
    if (end === undefined) return false;
    if (this.clock.now() < end) return true;
    this.ends.delete(id);
    return false;
  }

  end(id: string): void {
    this.ends.delete(id);
  }

  endAll(): void {
    this.ends.clear();
  }

  /** Seconds a new session lasts, for the cookie's Max-Age. */
  get maxAgeSecs(): number {
    return Math.floor(this.lifetimeMs / 1000);
  }
}
