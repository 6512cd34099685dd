import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PARSERS, FormatChain, detectFormat, ParseContext } from '../../dist/core/parse/index.js';
import { normalizeIp } from '../../dist/core/ip.js';

const ctx = (o = {}) => new ParseContext({ timeZone: 'UTC', year: 2025, refMs: Date.parse('2025-12-31T00:00:00Z'), ...o });
const iso = (ms) => new Date(ms).toISOString();

describe('RFC 3164 syslog', () => {
  test('reads host, program, pid and message', () => {
    const r = PARSERS.syslog('Oct 14 12:01:10 host1 sshd[12345]: Failed password for root from 203.0.113.10 port 51423 ssh2', ctx());
    assert.deepEqual({ ...r }, {
      format: 'syslog', time: Date.parse('2025-10-14T12:01:10Z'), host: 'host1', program: 'sshd', pid: '12345',
      message: 'Failed password for root from 203.0.113.10 port 51423 ssh2', ip: null, user: null, status: null, severity: null,
    });
  });

  test('reads lines without host, without pid, with a bracketed program, and with an unpadded day', () => {
    assert.deepEqual(pick(PARSERS.syslog('Nov 23 21:50:37 sshd[8148]: Connection closed by 61.0.0.1 [preauth]', ctx())), [null, 'sshd', '8148', 'Connection closed by 61.0.0.1 [preauth]']);
    assert.deepEqual(pick(PARSERS.syslog('Feb  7 15:10:42 example pure-ftpd: (pam_unix) authentication failure', ctx())), ['example', 'pure-ftpd', null, '(pam_unix) authentication failure']);
    assert.deepEqual(pick(PARSERS.syslog('Mar  3 00:17:22 [sshd]: User root from 1.2.3.4 not allowed', ctx())), [null, 'sshd', null, 'User root from 1.2.3.4 not allowed']);
    assert.deepEqual(pick(PARSERS.syslog('Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed', ctx())), [null, 'sshd', null, 'User root from 1.2.3.4 not allowed']);
    const r = PARSERS.syslog('Feb 7 16:01:07 linux-m899 sshd[5106]: User root from 192.51.100.54 not allowed', ctx());
    assert.equal(iso(r.time), '2025-02-07T16:01:07.000Z');
    assert.equal(r.host, 'linux-m899');
  });

  test('strips a Solaris message id', () => {
    const r = PARSERS.syslog('Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for james from 205.186.180.55 port 42742 ssh2', ctx());
    assert.equal(r.message, 'Failed keyboard-interactive for james from 205.186.180.55 port 42742 ssh2');
  });

  test('puts a line dated after the reference instant in the previous year', () => {
    const c = ctx({ year: null, refMs: Date.parse('2026-01-01T00:05:00Z') });
    assert.equal(iso(PARSERS.syslog('Dec 31 23:59:58 h p: x', c).time), '2025-12-31T23:59:58.000Z');
    assert.equal(iso(PARSERS.syslog('Jan  1 00:00:01 h p: x', c).time), '2026-01-01T00:00:01.000Z');
  });

  test('reads stamps in the given zone, across daylight saving time', () => {
    const c = ctx({ timeZone: 'Europe/Berlin' });
    assert.equal(iso(PARSERS.syslog('Jul  1 12:00:00 h p: x', c).time), '2025-07-01T10:00:00.000Z');
    assert.equal(iso(PARSERS.syslog('Jan  1 12:00:00 h p: x', c).time), '2025-01-01T11:00:00.000Z');
  });

  test('rejects impossible dates and garbage without throwing', () => {
    assert.equal(PARSERS.syslog('Feb 30 12:00:00 h p: x', ctx()), null);
    assert.equal(PARSERS.syslog('Oct 14 25:00:00 h p: x', ctx()), null);
    assert.equal(PARSERS.syslog('Foo 14 12:00:00 h p: x', ctx()), null);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 3000; i++) {
      const s = Array.from({ length: Math.floor(rnd() * 80) }, () => String.fromCharCode(Math.floor(rnd() * 128))).join('');
      for (const parse of Object.values(PARSERS)) parse(s, ctx());
    }
  });
});

describe('other formats', () => {
  test('ISO-stamped syslog keeps the offset', () => {
    const r = PARSERS.iso_syslog('2024-03-01T10:00:00.123456+01:00 host1 sshd[7]: Invalid user x from 192.0.2.1', ctx());
    assert.equal(iso(r.time), '2024-03-01T09:00:00.123Z');
    assert.deepEqual(pick(r), ['host1', 'sshd', '7', 'Invalid user x from 192.0.2.1']);
  });

  test('RFC 5424 keeps severity and skips structured data with escaped brackets', () => {
    const r = PARSERS.rfc5424('<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1" x="a\\]b"][y z="1"] Failed password for x from 192.0.2.2 port 1 ssh2', ctx());
    assert.equal(r.severity, 6);
    assert.equal(r.program, 'sshd');
    assert.equal(r.message, 'Failed password for x from 192.0.2.2 port 1 ssh2');
    assert.equal(iso(r.time), '2019-07-08T21:40:17.954Z');
  });

  test('CLF gives client, user and status, IPv6 and mapped addresses normalised', () => {
    const r = PARSERS.clf('::ffff:203.0.113.5 - bob [14/Oct/2025:08:00:00 +0200] "GET /admin HTTP/1.1" 401 12 "-" "curl"', ctx());
    assert.deepEqual([r.ip, r.user, r.status, iso(r.time)], ['203.0.113.5', 'bob', 401, '2025-10-14T06:00:00.000Z']);
    assert.equal(r.message, '"GET /admin HTTP/1.1" 401 12 "-" "curl"');
    const v6 = PARSERS.clf('2001:DB8::1 - - [14/Oct/2025:08:00:00 +0000] "GET /x\\" 401 1 \\"y HTTP/1.1" 200 5', ctx());
    assert.deepEqual([v6.ip, v6.user, v6.status], ['2001:db8::1', null, 200]);
  });

  test('apache error logs take the address from the leading header only', () => {
    const r = PARSERS.apache_error('[Sat Jun 01 02:17:42 2013] [error] [client 192.168.33.1] File does not exist: /srv/[client 192.168.0.1] user root not found', ctx());
    assert.equal(r.ip, '192.168.33.1');
    assert.equal(r.message, 'File does not exist: /srv/[client 192.168.0.1] user root not found');
    const v = PARSERS.apache_error('[Sat Jul 20 22:11:44.147674 2013] [authz_owner:error] [pid 1:tid 2] [client [2001:db8::80da:af6b:8b2c]:51548] AH01637: x', ctx());
    assert.deepEqual([v.ip, v.program, v.severity, v.message], ['2001:db8::80da:af6b:8b2c', 'authz_owner', 3, 'AH01637: x']);
  });

  test('nginx and lighttpd error logs', () => {
    const n = PARSERS.nginx_error('2012/04/09 11:53:29 [error] 2865#0: *66647 user "xyz" was not found in "/x", client: 192.0.43.10, server: s', ctx());
    assert.deepEqual([n.program, n.pid, n.severity, n.message], ['nginx', '2865', 3, 'user "xyz" was not found in "/x", client: 192.0.43.10, server: s']);
    const l = PARSERS.lighttpd_error("2011-12-25 17:09:20: (http_auth.c.875) password doesn't match for /gitweb/ username: francois, IP: 4.4.4.4", ctx());
    assert.equal(l.message, "(http_auth.c.875) password doesn't match for /gitweb/ username: francois, IP: 4.4.4.4");
  });
});

describe('format detection', () => {
  test('picks the format most sample lines are in', () => {
    const lines = ['1.2.3.4 - - [14/Oct/2025:08:00:00 +0000] "GET / HTTP/1.1" 200 1', '1.2.3.5 - - [14/Oct/2025:08:00:01 +0000] "GET / HTTP/1.1" 200 1', 'Oct 14 12:01:10 h p: x'];
    assert.equal(detectFormat(lines, ctx()), 'clf');
    assert.equal(detectFormat(['nothing', 'here'], ctx()), null);
  });

  test('falls back to another format per line unless the format is pinned', () => {
    const nginxErr = '2015/01/21 10:56:10 [error] 2833#0: *16336 open() "/x" failed (2: No such file or directory), client: 5.7.9.2, server: localhost';
    assert.equal(new FormatChain('clf', false).parse(nginxErr, ctx()).format, 'nginx_error');
    assert.equal(new FormatChain('clf', true).parse(nginxErr, ctx()), null);
  });
});

describe('addresses', () => {
  test('normalise IPv4-mapped IPv6, case and brackets, and keep host names', () => {
    assert.equal(normalizeIp('::FFFF:203.0.113.5'), '203.0.113.5');
    assert.equal(normalizeIp('[2001:DB8::1]'), '2001:db8::1');
    assert.equal(normalizeIp('Example.COM'), 'example.com');
    assert.equal(normalizeIp('-'), null);
    assert.equal(normalizeIp(''), null);
  });
});

function pick(r) {
  return [r.host, r.program, r.pid, r.message];
}
