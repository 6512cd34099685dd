// Online origin providers (ipinfo.io, ipapi.co), asked through util/http-client.ts, each
// request bounded by a timeout; 429 and 5xx answers retried with exponential backoff,
// honouring Retry-After; at most `concurrency` requests at a time; and a circuit breaker:
// after `breakerFailures` failed requests in a row the provider is not called for
// `breakerMs`, then one trial request decides. The ipinfo token is a secret: it is sent in
// the query string as ipinfo documents, and never appears in a message, a log line or a file.

import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { httpGet, type HttpFailure } from '../util/http-client.js';

export type ProviderName = 'ipinfo' | 'ipapi';

export const PROVIDER_URLS: Readonly<Record<ProviderName, string>> = Object.freeze({
  ipinfo: 'https://ipinfo.io',
  ipapi: 'https://ipapi.co',
});

/** What a provider knows about an address; null where it says nothing. */
export interface ProviderAnswer {
  /** ISO 3166-1 alpha-2 code. */
  readonly country: string | null;
  readonly region: string | null;
  readonly city: string | null;
  /** IANA zone name. */
  readonly timeZone: string | null;
  readonly asn: number | null;
  readonly org: string | null;
}

export type ProviderResult =
  | { readonly kind: 'ok'; readonly answer: ProviderAnswer }
  /** The provider answered, or failed, for this address: worth a short negative cache entry. */
  | { readonly kind: 'failed'; readonly message: string }
  /** No request was made (breaker open, queue full, closed): nothing learned about the address. */
  | { readonly kind: 'skipped'; readonly reason: string };

export interface ProviderOptions {
  readonly name: ProviderName;
  /** null: the provider's public URL. */
  readonly baseUrl: string | null;
  /** IPINFO_TOKEN (ipinfo only); a secret. */
  readonly token: string | null;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly breakerFailures: number;
  readonly breakerMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Retries of one lookup after a 429, a 5xx or a network error (default 2). */
  readonly retries?: number;
  /** First backoff delay; doubles per retry (default 500 ms). */
  readonly backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the breaker opens for it instead (default 30 s). */
  readonly maxRetryAfterMs?: number;
  /** Lookups waiting for a free request slot; beyond this they are skipped (default 10,000). */
  readonly maxQueue?: number;
}

type BreakerState = 'closed' | 'open' | 'half-open';

class Failure extends Error {
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs: number | null = null) {
    super(message);
  }
}

export class Provider {
  readonly name: ProviderName;
  private readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxQueue: number;
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private failures = 0;
  private state: BreakerState = 'closed';
  private openUntil = 0;
  private trialRunning = false;
  private readonly aborter = new AbortController();
  /** Requests sent, for diagnostics and tests. */
  requests = 0;

  constructor(private readonly opts: ProviderOptions) {
    this.name = opts.name;
    this.base = (opts.baseUrl ?? PROVIDER_URLS[opts.name]).replace(/\/+$/, '');
    this.retries = opts.retries ?? 2;
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
    this.maxQueue = opts.maxQueue ?? 10_000;
  }

  /** True while the breaker keeps requests from being made. */
  get breakerOpen(): boolean {
    if (this.state === 'open' && this.opts.clock.now() >= this.openUntil) this.state = 'half-open';
    return this.state === 'open' || (this.state === 'half-open' && this.trialRunning);
  }

  /** Asks the provider about a public address. Never throws. */
  async fetch(ip: string): Promise<ProviderResult> {
    if (this.aborter.signal.aborted) return { kind: 'skipped', reason: 'closed' };
    if (this.breakerOpen) return { kind: 'skipped', reason: 'circuit breaker open' };
    if (this.active >= this.opts.concurrency) {
      if (this.queue.length >= this.maxQueue) return { kind: 'skipped', reason: 'too many lookups waiting' };
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.active++;
    try {
      return await this.attempts(ip);
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  /** Stops every request and every wait; later fetches are skipped. */
  close(): void {
    this.aborter.abort();
    for (const wake of this.queue.splice(0)) wake();
  }

  private async attempts(ip: string): Promise<ProviderResult> {
    for (let attempt = 0; ; attempt++) {
      if (this.aborter.signal.aborted) return { kind: 'skipped', reason: 'closed' };
      // Re-checked per attempt: the breaker may have opened while this lookup waited.
      if (this.breakerOpen) return { kind: 'skipped', reason: 'circuit breaker open' };
      const trial = this.state === 'half-open';
      if (trial) this.trialRunning = true;
      try {
        const answer = await this.request(ip);
        this.succeeded();
        return { kind: 'ok', answer };
      } catch (err) {
        const f = err instanceof Failure ? err : new Failure(this.describe(err), true);
        if (this.aborter.signal.aborted) return { kind: 'skipped', reason: 'closed' };
        this.failed(f);
        const waitMs = f.retryAfterMs ?? this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        if (!f.retryable || attempt >= this.retries || this.breakerOpen) return { kind: 'failed', message: f.message };
        if (f.retryAfterMs !== null && f.retryAfterMs > this.maxRetryAfterMs) {
          this.openBreaker(f.retryAfterMs, `${this.name} asks to wait ${Math.round(f.retryAfterMs / 1000)} s (Retry-After)`);
          return { kind: 'failed', message: f.message };
        }
        await this.sleep(waitMs);
      } finally {
        if (trial) this.trialRunning = false;
      }
    }
  }

  private async request(ip: string): Promise<ProviderAnswer> {
    const enc = encodeURIComponent(ip);
    const url = this.name === 'ipinfo'
      ? `${this.base}/${enc}${this.opts.token !== null ? `?token=${encodeURIComponent(this.opts.token)}` : ''}`
      : `${this.base}/${enc}/json/`;
    this.requests++;
    const res = await httpGet(url, {
      timeoutMs: this.opts.timeoutMs,
      signal: this.aborter.signal,
      headers: { accept: 'application/json', 'user-agent': 'logward' },
    });
    if (res.kind === 'failed') throw new Failure(`${this.name}: request for ${ip} failed (${this.describeFailure(res.failure)})`, true);
    const status = res.status;
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.opts.clock.now());
      throw new Failure(`${this.name}: HTTP ${status} for ${ip}${status === 429 ? ' (rate limited)' : ''}`, true, retryAfterMs);
    }
    if (status === 401 || status === 403) {
      throw new Failure(`${this.name}: HTTP ${status} for ${ip}; check ${this.name === 'ipinfo' ? 'IPINFO_TOKEN' : 'the account'} (the provider refuses the request)`, false);
    }
    if (status !== 200) throw new Failure(`${this.name}: HTTP ${status} for ${ip}`, false);
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new Failure(`${this.name}: the answer for ${ip} is not JSON`, false);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Failure(`${this.name}: the answer for ${ip} is not a JSON object`, false);
    return this.name === 'ipinfo' ? readIpinfo(body as Record<string, unknown>, ip) : readIpapi(body as Record<string, unknown>, ip);
  }

  private succeeded(): void {
    if (this.state !== 'closed') this.opts.log.info({ provider: this.name }, `${this.name} answers again; online lookups resume`);
    this.failures = 0;
    this.state = 'closed';
  }

  private failed(f: Failure): void {
    this.opts.log.debug({ provider: this.name }, this.scrub(f.message));
    this.failures++;
    if (this.state === 'half-open' || this.failures >= this.opts.breakerFailures) {
      this.openBreaker(Math.max(this.opts.breakerMs, f.retryAfterMs ?? 0), `${this.failures} failed request${this.failures === 1 ? '' : 's'} in a row, the last: ${this.scrub(f.message)}`);
    }
  }

  private openBreaker(ms: number, why: string): void {
    this.state = 'open';
    this.openUntil = this.opts.clock.now() + ms;
    this.opts.log.warn({ provider: this.name }, `${this.name}: ${why}; not asked again for ${Math.round(ms / 1000)} s (enrich.breaker_secs), offline data only meanwhile`);
  }

  private describe(err: unknown): string {
    const e = err as { code?: string; message?: string };
    const text = e.code === 'ETIMEDOUT' ? `no answer within ${this.opts.timeoutMs} ms (enrich.timeout_secs)` : e.code !== undefined ? `${e.code}` : String(e.message ?? err);
    return this.scrub(text);
  }

  private describeFailure(f: HttpFailure): string {
    const text = f.timedOut ? `no answer within ${this.opts.timeoutMs} ms (enrich.timeout_secs)` : f.code !== null ? f.code : f.message;
    return this.scrub(text);
  }

  private scrub(s: string): string {
    const t = this.opts.token;
    return t !== null && t !== '' ? s.split(t).join('[redacted]') : s;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.aborter.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** Retry-After as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(v: string | string[] | undefined, now: number): number | null {
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  if (s === undefined || s === '') return null;
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

function asnNumber(v: unknown): number | null {
  const m = typeof v === 'string' ? /^AS(\d{1,10})$/i.exec(v.trim()) : null;
  const n = m !== null ? Number(m[1]) : typeof v === 'number' ? v : NaN;
  return Number.isInteger(n) && n > 0 && n <= 0xffffffff ? n : null;
}

/** ipinfo: {ip, city, region, country, loc, org: "AS15169 Google LLC", timezone} or {ip, bogon: true}. */
function readIpinfo(b: Record<string, unknown>, ip: string): ProviderAnswer {
  if (b.bogon === true) throw new Failure(`ipinfo: ${ip} is a bogon address`, false);
  if (b.error !== undefined) throw new Failure(`ipinfo: error for ${ip}: ${str((b.error as { title?: unknown })?.title) ?? 'unknown'}`, false);
  const orgField = str(b.org);
  const m = orgField === null ? null : /^AS(\d+)\s*(.*)$/.exec(orgField);
  return checked({
    country: str(b.country),
    region: str(b.region),
    city: str(b.city),
    timeZone: str(b.timezone),
    asn: m !== null ? asnNumber(`AS${m[1]}`) : asnNumber((b.asn as { asn?: unknown } | undefined)?.asn),
    org: m !== null ? str(m[2]) : orgField,
  }, 'ipinfo', ip);
}

/** ipapi.co: {ip, city, region, country_code, timezone, asn: "AS15169", org} or {error: true, reason}. */
function readIpapi(b: Record<string, unknown>, ip: string): ProviderAnswer {
  if (b.error === true) throw new Failure(`ipapi: no answer for ${ip}: ${str(b.reason) ?? 'error'}`, false);
  return checked({
    country: str(b.country_code),
    region: str(b.region),
    city: str(b.city),
    timeZone: str(b.timezone),
    asn: asnNumber(b.asn),
    org: str(b.org),
  }, 'ipapi', ip);
}

function checked(a: ProviderAnswer, name: ProviderName, ip: string): ProviderAnswer {
  if (a.country === null && a.region === null && a.city === null && a.timeZone === null && a.asn === null && a.org === null) {
    throw new Failure(`${name}: the answer for ${ip} holds no origin fields`, false);
  }
  // Country codes are two letters; anything else is not trusted into a report.
  return a.country !== null && !/^[A-Z]{2}$/.test(a.country) ? { ...a, country: null } : a;
}
