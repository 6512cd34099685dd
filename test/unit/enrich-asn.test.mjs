import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnTable } from '../../dist/enrich/asn-table.js';
import { parseIp } from '../../dist/enrich/addr.js';
import { Enricher, formatOrigin } from '../../dist/enrich/index.js';
import { createLogger } from '../../dist/util/logger.js';
import { systemClock } from '../../dist/util/clock.js';

const V4 = [
  '16777216,16777471,13335,"Cloudflare, Inc."',
  '16778240,16779263,38803,Gtelecom Pty Ltd',
  '134744064,134744319,15169,Google LLC',
  '3596550144,3607166975,749,United States Department of Defense (DoD)',
  '3607101440,3607167999,721,DoD Network Information Center',
  'not,a,row',
  '3607200000,3607200255,201907,"LLC ""SPUTNIK"""',
].join('\n') + '\n';
const V6 = [
  '2001:4860::,2001:4860:4804:ffff:ffff:ffff:ffff:ffff,15169,Google LLC',
  '2001:4860:4805::,2001:4860:4805:ffff:ffff:ffff:ffff:ffff,43515,Google Ireland Limited',
  '2606:4700::,2606:4700:ffff:ffff:ffff:ffff:ffff:ffff,13335,"Cloudflare, Inc."',
].join('\n');

const look = (t, ip) => t.lookup(parseIp(ip));

test('the ASN table finds the range holding an address, in IPv4 and IPv6, and nothing between ranges', () => {
  const t = AsnTable.fromCsv(V4, V6);
  assert.deepEqual(t.rangeCount, { v4: 6, v6: 3 });
  assert.equal(t.skipped, 1);
  assert.deepEqual(look(t, '1.0.0.1'), { asn: 13335, org: 'Cloudflare, Inc.' });
  assert.deepEqual(look(t, '8.8.8.8'), { asn: 15169, org: 'Google LLC' });
  assert.equal(look(t, '8.8.9.0'), null);
  assert.equal(look(t, '1.0.1.0'), null);
  assert.deepEqual(look(t, '214.255.0.1'), { asn: 749, org: 'United States Department of Defense (DoD)' });
  // Overlapping rows: the later, narrower one wins where both hold the address.
  assert.deepEqual(look(t, '215.0.255.255'), { asn: 721, org: 'DoD Network Information Center' });
  assert.deepEqual(look(t, '215.1.0.0'), { asn: 721, org: 'DoD Network Information Center' });
  assert.equal(look(t, '215.1.4.0'), null);
  assert.deepEqual(look(t, '215.1.129.7'), { asn: 201907, org: 'LLC "SPUTNIK"' });
  assert.deepEqual(look(t, '2001:4860:4801::8888'), { asn: 15169, org: 'Google LLC' });
  assert.deepEqual(look(t, '2001:4860:4805::1'), { asn: 43515, org: 'Google Ireland Limited' });
  assert.deepEqual(look(t, '2606:4700:4700::1111'), { asn: 13335, org: 'Cloudflare, Inc.' });
  assert.equal(look(t, '2606:4701::1'), null);
  // Organisation names are stored once: two Cloudflare and two Google LLC rows, seven names for nine rows.
  assert.equal(t.orgCount, 7);
});

test('a CSV that is not sorted by start is refused at load', () => {
  assert.throws(() => AsnTable.fromCsv('134744064,134744319,15169,Google LLC\n16777216,16777471,13335,Cloudflare\n', ''), /row 2 starts before the row above it/);
});

const config = {
  enrich: {
    enabled: true, provider: 'none', baseUrl: null, timeoutMs: 3000, deadlineMs: 5000, concurrency: 4, cacheFile: '/nonexistent/ip-cache.json',
    cacheTtlMs: 3_600_000, negativeTtlMs: 600_000, cacheMaxEntries: 1000, breakerFailures: 5, breakerMs: 300_000,
  },
};
const log = createLogger({ level: 'silent' });

test('offline lookups of well-known public addresses give their country and network from the bundled databases', async () => {
  const e = await Enricher.open(config, { log, clock: systemClock, env: {} });
  try {
    const google = e.lookupOffline('8.8.8.8');
    assert.equal(google.source, 'offline');
    assert.equal(google.country, 'US');
    assert.equal(google.asn, 15169);
    assert.match(google.org, /Google/);
    const cf = await e.lookup('1.1.1.1');
    assert.equal(cf.asn, 13335);
    assert.match(cf.org, /Cloudflare/);
    const v6 = await e.lookup('2001:4860:4860::8888');
    assert.equal(v6.asn, 15169);
    assert.equal(v6.country, 'US');
    const mapped = e.lookupOffline('::ffff:8.8.8.8');
    assert.equal(mapped.ip, '8.8.8.8');
    assert.equal(mapped.asn, 15169);
    // The bundled record of 8.8.8.8 has no city: the US centroid, shown as the country alone.
    assert.match(formatOrigin(google), /^US \(AS15169 Google/);
    const priv = e.lookupOffline('192.168.1.20');
    assert.equal(priv.special, 'private');
    assert.equal(priv.source, 'special');
    assert.equal(priv.country, null);
    assert.equal(e.lookupOffline('not-an-ip').source, 'none');
    assert.ok(e.stats.asnRanges > 400_000);
    assert.ok(e.stats.asnBytes < 30 * 1024 * 1024, `ASN table ${e.stats.asnBytes} bytes`);
  } finally {
    await e.close();
  }
});

test('with enrichment off nothing is loaded: special labels only', async () => {
  const e = await Enricher.open({ enrich: { ...config.enrich, enabled: false } }, { log, clock: systemClock, env: {} });
  assert.equal(e.stats.asnRanges, 0);
  assert.equal((await e.lookup('8.8.8.8')).source, 'none');
  assert.equal((await e.lookup('10.0.0.1')).special, 'private');
  await e.close();
});
