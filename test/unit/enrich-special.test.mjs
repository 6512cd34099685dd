import { test } from 'node:test';
import assert from 'node:assert/strict';
import { specialLabel, formatOrigin } from '../../dist/enrich/index.js';
import { ipv6ToWords, ipv4ToInt } from '../../dist/enrich/addr.js';

test('special-purpose addresses get their label and public ones none', () => {
  const cases = {
    '10.1.2.3': 'private', '172.16.0.1': 'private', '172.31.255.255': 'private', '192.168.1.1': 'private',
    '127.0.0.1': 'loopback', '::1': 'loopback',
    '169.254.10.1': 'link-local', 'fe80::1': 'link-local',
    '100.64.0.1': 'cgnat', '100.127.255.255': 'cgnat',
    '192.0.2.45': 'documentation', '198.51.100.33': 'documentation', '203.0.113.10': 'documentation', '2001:db8::1': 'documentation',
    '224.0.0.1': 'multicast', '239.255.255.250': 'multicast', 'ff02::1': 'multicast',
    '0.0.0.0': 'unspecified', '::': 'unspecified',
    '255.255.255.255': 'broadcast',
    'fc00::1': 'private', 'fd12:3456::1': 'private',
    '::ffff:192.168.0.7': 'private', '::ffff:c0a8:0007': 'private', '[::ffff:127.0.0.1]': 'loopback',
    '198.18.0.1': 'benchmarking', '240.0.0.1': 'reserved',
  };
  for (const [ip, label] of Object.entries(cases)) assert.equal(specialLabel(ip), label, ip);
  for (const ip of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '172.32.0.1', '192.0.3.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2001:db9::1']) {
    assert.equal(specialLabel(ip), null, ip);
  }
  assert.equal(specialLabel('mail.example.com'), null);
});

test('IPv6 text is read into four words, compressed or with a dotted quad, and malformed text is refused', () => {
  const w = new Uint32Array(4);
  assert.ok(ipv6ToWords('2001:db8::1', w));
  assert.deepEqual([...w], [0x20010db8, 0, 0, 1]);
  assert.ok(ipv6ToWords('::ffff:1.2.3.4', w));
  assert.deepEqual([...w], [0, 0, 0xffff, 0x01020304]);
  assert.ok(ipv6ToWords('1:2:3:4:5:6:7::', w));
  assert.deepEqual([...w], [0x10002, 0x30004, 0x50006, 0x70000]);
  for (const bad of ['1::2::3', ':1', '1:', '12345::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1']) assert.equal(ipv6ToWords(bad, w), false, bad);
  assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4ToInt('256.1.1.1'), -1);
});

const base = { ip: '8.8.8.8', special: null, country: null, region: null, city: null, timeZone: null, asn: null, org: null, source: 'offline' };

test('formatOrigin prints country/place and the network, special labels, and null when nothing is known', () => {
  // A country-only record (its time zone is the centroid's): the country alone, never the zone's city.
  assert.equal(formatOrigin({ ...base, country: 'US', timeZone: 'America/Chicago', asn: 15169, org: 'Google LLC' }), 'US (AS15169 Google LLC)');
  assert.equal(formatOrigin({ ...base, country: 'IN', region: 'Rajasthan', timeZone: 'Asia/Kolkata', asn: 38266, org: 'Vodafone Idea Ltd. (VIL)' }), 'IN/Rajasthan (AS38266 Vodafone Idea Ltd. (VIL))', 'the region when the city is unknown');
  assert.equal(formatOrigin({ ...base, country: 'TT', region: 'Port_of_Spain', city: 'Port_of_Spain' }), 'TT/Port of Spain', 'names read as words');
  assert.equal(formatOrigin({ ...base, timeZone: 'America/New_York', asn: 7922, org: 'Comcast' }), 'time zone America/New York (AS7922 Comcast)', 'a zone alone is named as a zone');
  assert.equal(formatOrigin({ ...base, country: 'IM', city: 'Douglas', timeZone: 'Europe/Isle_of_Man', asn: 13122, org: 'Manx Telecom' }), 'IM/Douglas (AS13122 Manx Telecom)');
  assert.equal(formatOrigin({ ...base, asn: 13335, org: 'Cloudflare, Inc.' }), 'AS13335 Cloudflare, Inc.');
  assert.equal(formatOrigin({ ...base, country: 'DE' }), 'DE');
  assert.equal(formatOrigin({ ...base, ip: '10.0.0.1', special: 'private', source: 'special' }), 'private address');
  assert.equal(formatOrigin({ ...base, ip: '192.0.2.1', special: 'documentation', source: 'special' }), 'documentation address');
  assert.equal(formatOrigin({ ...base, source: 'none' }), null);
});
