// How many wrong logins one client address may try: `perMinute` in each minute on the
// injected clock, then none until that minute is over. It decides what gets logged, too:
// the first wrong login of a minute and the one that reaches the limit, so a guessing
// flood writes two lines a minute instead of one per guess. Bounded: at most MAX_CLIENTS
// addresses are remembered, the oldest forgotten first. It never sees a token.

import type { Clock } from '../util/clock.js';

const WINDOW_MS = 60_000;
const MAX_CLIENTS = 10_000;

interface Window {
  start: number;
  failures: number;
}

export type FailureNote = 'first' | 'limit' | null;

export class LoginLimiter {
  private readonly windows = new Map<string, Window>();
  /** Since start: wrong logins, and logins refused with 429 without looking at them. */
  failures = 0;
  limited = 0;

  constructor(private readonly clock: Clock, private readonly perMinute: number) {}

  /** Seconds until `client` may try again, or 0 when it may now. */
  retryAfterSecs(client: string): number {
    const w = this.current(client);
    if (w === null || w.failures < this.perMinute) return 0;
    this.limited++;
    return Math.max(1, Math.ceil((w.start + WINDOW_MS - this.clock.now()) / 1000));
  }

  /** Counts a wrong login; says whether this one is worth a log line. */
  failed(client: string): FailureNote {
    let w = this.current(client);
    if (w === null) {
      w = { start: this.clock.now(), failures: 0 };
      this.windows.set(client, w);
      while (this.windows.size > MAX_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
    }
    w.failures++;
    this.failures++;
    if (w.failures === this.perMinute) return 'limit';
    return w.failures === 1 ? 'first' : null;
  }

  /** A good login ends the count for its address. */
  succeeded(client: string): void {
    this.windows.delete(client);
  }

  private current(client: string): Window | null {
    const w = this.windows.get(client);
    if (w === undefined) return null;
    if (this.clock.now() - w.start < WINDOW_MS) return w;
    this.windows.delete(client);
    return null;
  }
}
