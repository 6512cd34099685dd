import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { isIPv4, isIPv6, isIp, normalizeIp } from '../../dist/core/ip.js';

describe('isIPv4', () => {
  test('accepts dotted quads with every octet up to 255', () => {
    for (const s of ['0.0.0.0', '1.2.3.4', '255.255.255.255', '192.0.2.1', '10.0.0.255']) assert.equal(isIPv4(s), true, s);
  });

  test('rejects out-of-range octets, wrong part counts, padding and non-ascii digits', () => {
    for (const s of ['256.1.1.1', '1.2.3.256', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ', '0001.2.3.4', '１.2.3.4', '1..2.3', '', 'a.b.c.d', '1.2.3.4/24', '-1.2.3.4']) {
      assert.equal(isIPv4(s), false, JSON.stringify(s));
    }
  });
});

describe('isIPv6', () => {
  test('accepts full, compressed and IPv4-suffixed forms', () => {
    for (const s of ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '2001:db8::1', 'fe80::1:2', '1:2:3:4:5:6:1.2.3.4', '::ffff:1.2.3.4', '::1.2.3.4']) {
      assert.equal(isIPv6(s), true, s);
    }
  });

  test('rejects too many groups, two ::, long groups, bad IPv4 suffixes and foreign characters', () => {
    for (const s of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '1:::2', '1:2:3:4:5:6:7', '12345::', '1.2.3.4', '::1.2.3.4:5', '1:2:3:4:5:6::1.2.3.4',
      '::256.1.1.1', '1.2.3.4::', 'fe80::1%eth0', 'g::1', '', ':', '[::1]', '2001:db8::1 ']) {
      assert.equal(isIPv6(s), false, JSON.stringify(s));
    }
  });

  test('rejects a single leading or trailing colon', () => {
    for (const s of [':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:', ':1::2', '1::2:', ':100::', '1::ffff:']) {
      assert.equal(isIPv6(s), false, s);
    }
  });

  test('agrees with node:net on random lower-case candidates', () => {
    let a = 12345;
    const rnd = () => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return a / 4294967296; };
    const toks = ['0', '1', 'ff', 'abcd', '12345', '::', ':', '1.2.3.4', '256.1.1.1', 'db8', '0000', 'ffff'];
    for (let i = 0; i < 50_000; i++) {
      let s = '';
      const n = 1 + Math.floor(rnd() * 10);
      for (let k = 0; k < n; k++) s += toks[Math.floor(rnd() * toks.length)];
      assert.equal(isIPv6(s), net.isIPv6(s), s);
    }
  });

  test('isIp accepts either family and nothing else', () => {
    assert.equal(isIp('1.2.3.4'), true);
    assert.equal(isIp('2001:db8::1'), true);
    assert.equal(isIp('host.example'), false);
    assert.equal(isIp(''), false);
  });
});

describe('normalizeIp', () => {
  test('maps IPv4-mapped IPv6 to plain IPv4, in any case and with brackets or spaces', () => {
    assert.equal(normalizeIp('::ffff:203.0.113.5'), '203.0.113.5');
    assert.equal(normalizeIp(' ::FFFF:1.2.3.4 '), '1.2.3.4');
    assert.equal(normalizeIp('[::ffff:1.2.3.4]'), '1.2.3.4');
  });

  test('lower-cases IPv6 and drops brackets', () => {
    assert.equal(normalizeIp('2001:DB8::ABCD'), '2001:db8::abcd');
    assert.equal(normalizeIp('[2001:DB8::1]'), '2001:db8::1');
  });

  test('returns null for null, undefined, empty, blank and a dash', () => {
    for (const v of [null, undefined, '', '   ', '-', ' - ']) assert.equal(normalizeIp(v), null, JSON.stringify(v));
  });

  test('keeps plain IPv4 unchanged and host names lower-cased', () => {
    assert.equal(normalizeIp('192.0.2.7'), '192.0.2.7');
    assert.equal(normalizeIp('Host.Example.ORG'), 'host.example.org');
  });

  test('does not turn a mapped prefix with an invalid IPv4 part into an address', () => {
    assert.equal(normalizeIp('::ffff:999.1.1.1'), '::ffff:999.1.1.1');
    assert.equal(normalizeIp('::FFFF:0:1.2.3.4'), '::ffff:0:1.2.3.4');
  });

  test('leaves an unbalanced bracket alone', () => {
    assert.equal(normalizeIp('[2001:db8::1'), '[2001:db8::1');
  });

  test('is idempotent', () => {
    for (const s of ['::FFFF:1.2.3.4', '[2001:DB8::1]', 'Host', '1.2.3.4', '  fe80::1  ']) {
      const once = normalizeIp(s);
      assert.equal(normalizeIp(once), once, s);
    }
  });
});
