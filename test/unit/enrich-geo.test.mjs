// Origins from the GeoLite2 City data the package ships: a record that locates only the
// country (no city, no region: the country's centroid) prints as the country alone, never
// as the city of its time zone; a city or region the data names is printed as it is named.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Enricher, formatOrigin } from '../../dist/enrich/index.js';
import { createLogger } from '../../dist/util/logger.js';
import { systemClock } from '../../dist/util/clock.js';

const config = {
  enrich: {
    enabled: true, provider: 'none', baseUrl: null, timeoutMs: 3000, deadlineMs: 5000, concurrency: 4, cacheFile: '/nonexistent/ip-cache.json',
    cacheTtlMs: 3_600_000, negativeTtlMs: 600_000, cacheMaxEntries: 1000, breakerFailures: 5, breakerMs: 300_000,
  },
};
let e;
before(async () => { e = await Enricher.open(config, { log: createLogger({ level: 'silent' }), clock: systemClock, env: {} }); });
after(() => e.close());

test('an address located only at its country centroid shows the country alone', () => {
  // 1.6.0.1: IN at 21.997,79.001, zone Asia/Kolkata; 8.8.8.8: US at 37.751,-97.822, zone America/Chicago.
  for (const [ip, country, zone, place] of [['1.6.0.1', 'IN', 'Asia/Kolkata', 'Kolkata'], ['8.8.8.8', 'US', 'America/Chicago', 'Chicago'], ['2001:4860:4860::8888', 'US', 'America/Chicago', 'Chicago']]) {
    const o = e.lookupOffline(ip);
    assert.deepEqual([o.country, o.region, o.city, o.timeZone], [country, null, null, zone], `the bundled record of ${ip} is a country centroid`);
    const text = formatOrigin(o);
    assert.match(text, new RegExp(`^${country} \\(AS\\d+ `), `${ip}: ${text}`);
    assert.ok(!text.includes(place), `${ip}: "${text}" names the time zone's city as the place`);
  }
});

test('a city, or else a region, the data names is shown after the country', () => {
  assert.match(formatOrigin(e.lookupOffline('49.36.0.1')), /^IN\/Mumbai \(AS55836 Reliance Jio/);
  assert.match(formatOrigin(e.lookupOffline('81.2.69.142')), /^GB\/Bracknell \(AS\d+ /);
  // No city in the record, but its state: the state, not Kolkata.
  const rajasthan = e.lookupOffline('1.39.208.1');
  assert.deepEqual([rajasthan.region, rajasthan.city], ['Rajasthan', null]);
  assert.match(formatOrigin(rajasthan), /^IN\/Rajasthan \(AS\d+ /);
});
