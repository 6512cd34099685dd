import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PARSERS, FormatChain, detectFormat, ParseContext, DETECT_LINES } from '../../dist/core/parse/index.js';
import { FORMAT_NAMES } from '../../dist/core/types.js';
import { prng } from '../helpers/prng.mjs';

const REF = Date.parse('2025-12-31T00:00:00Z');
const ctxIn = (timeZone = 'UTC', year = 2025) => new ParseContext({ timeZone, year, refMs: REF });
const utc = (s) => Date.parse(s);
const parse = (format, line, ctx = ctxIn()) => PARSERS[format](line, ctx);


describe('RFC 3164 syslog', () => {
  test('reads host, program, pid, message and the time in the source zone', () => {
    const r = parse('syslog', 'Oct 14 12:01:10 host1 sshd[123]: Failed password for root', ctxIn('Europe/Berlin'));
    assert.deepEqual({ ...r }, {
      format: 'syslog', time: utc('2025-10-14T10:01:10Z'), host: 'host1', program: 'sshd', pid: '123',
      message: 'Failed password for root', ip: null, user: null, status: null, severity: null,
    });
  });

  test('reads a line without host', () => {
    const r = parse('syslog', 'Nov 23 21:50:37 sshd[8148]: Connection closed by 61.0.0.1 [preauth]');
    assert.equal(r.host, null);
    assert.equal(r.program, 'sshd');
    assert.equal(r.pid, '8148');
    assert.equal(r.message, 'Connection closed by 61.0.0.1 [preauth]');
    assert.equal(r.time, utc('2025-11-23T21:50:37Z'));
  });

  test('reads a bracketed program without host, with and without a colon', () => {
    const a = parse('syslog', 'Mar  3 00:17:22 [sshd]: User root from 1.2.3.4 not allowed');
    assert.deepEqual([a.host, a.program, a.pid, a.message], [null, 'sshd', null, 'User root from 1.2.3.4 not allowed']);
    assert.equal(a.time, utc('2025-03-03T00:17:22Z'));
    const b = parse('syslog', 'Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed');
    assert.deepEqual([b.host, b.program, b.pid, b.message], [null, 'sshd', null, 'User root from 1.2.3.4 not allowed']);
  });

  test('reads a program without pid', () => {
    const r = parse('syslog', 'Oct 14 12:01:10 host1 CRON: pam_unix(cron:session): session opened');
    assert.deepEqual([r.host, r.program, r.pid, r.message], ['host1', 'CRON', null, 'pam_unix(cron:session): session opened']);
  });

  test('reads an unpadded single-digit day', () => {
    const r = parse('syslog', 'Feb 7 16:01:07 linux-m899 sshd[5106]: User root not allowed');
    assert.equal(r.time, utc('2025-02-07T16:01:07Z'));
    assert.equal(r.host, 'linux-m899');
    assert.equal(r.message, 'User root not allowed');
  });

  test('strips a Solaris message id from the message', () => {
    const r = parse('syslog', 'Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for james');
    assert.equal(r.message, 'Failed keyboard-interactive for james');
    assert.equal(r.program, 'sshd');
    assert.equal(r.host, 'dusky');
  });

  test('keeps other bracketed message starts untouched', () => {
    const r = parse('syslog', 'Oct 14 12:01:10 host1 kernel: [12345.678] eth0 up');
    assert.equal(r.message, '[12345.678] eth0 up');
  });

  test('reads apache\'s ErrorLog syslog header groups inside the message', () => {
    const r = parse('syslog', 'Oct 14 12:01:10 web1 httpd[99]: [auth_basic:error] [pid 99] [client 1.2.3.4:555] AH01618: user x not found');
    assert.equal(r.ip, '1.2.3.4');
    assert.equal(r.program, 'auth_basic');
    assert.equal(r.severity, 3);
    assert.equal(r.message, 'AH01618: user x not found');
  });

  test('reads consecutive lines of the same minute with their own seconds', () => {
    const ctx = ctxIn('Europe/Berlin');
    const a = parse('syslog', 'Oct 14 12:01:10 h sshd[1]: a', ctx);
    const b = parse('syslog', 'Oct 14 12:01:59 h sshd[1]: b', ctx);
    const c = parse('syslog', 'Oct 14 12:02:00 h sshd[1]: c', ctx);
    assert.equal(a.time, utc('2025-10-14T10:01:10Z'));
    assert.equal(b.time, utc('2025-10-14T10:01:59Z'));
    assert.equal(c.time, utc('2025-10-14T10:02:00Z'));
  });

  test('rejects impossible dates and times', () => {
    for (const line of [
      'Feb 30 10:00:00 host sshd[1]: x',
      'Apr 31 10:00:00 host sshd[1]: x',
      'Oct 14 25:01:10 host sshd[1]: x',
      'Oct 14 12:61:10 host sshd[1]: x',
      'Oct 14 12:01:61 host sshd[1]: x',
      'Oct 32 12:01:10 host sshd[1]: x',
      'Foo 14 12:01:10 host sshd[1]: x',
      'Oct 00 12:01:10 host sshd[1]: x',
    ]) {
      assert.equal(parse('syslog', line), null, line);
    }
  });

  test('rejects an impossible time right after a valid line of the same minute', () => {
    const ctx = ctxIn();
    assert.notEqual(parse('syslog', 'Oct 14 12:01:10 h sshd[1]: a', ctx), null);
    assert.equal(parse('syslog', 'Oct 14 12:01:99 h sshd[1]: b', ctx), null);
  });
});

describe('ISO syslog and RFC 5424', () => {
  test('ISO-stamped syslog applies the stamp\'s offset and keeps milliseconds', () => {
    const r = parse('iso_syslog', '2025-10-14T12:01:10.123456+02:00 host1 sshd[5]: Accepted publickey', ctxIn('America/New_York'));
    assert.deepEqual([r.time, r.host, r.program, r.pid, r.message], [utc('2025-10-14T10:01:10.123Z'), 'host1', 'sshd', '5', 'Accepted publickey']);
  });

  test('ISO-stamped syslog without offset is read in the source zone', () => {
    const r = parse('iso_syslog', '2025-10-14T12:01:10 host1 sshd[5]: x', ctxIn('Europe/Berlin'));
    assert.equal(r.time, utc('2025-10-14T10:01:10Z'));
  });

  test('ISO-stamped syslog rejects Feb 30, hour 25 and a malformed offset', () => {
    assert.equal(parse('iso_syslog', '2025-02-30T12:01:10Z host1 sshd[5]: x'), null);
    assert.equal(parse('iso_syslog', '2025-10-14T25:01:10Z host1 sshd[5]: x'), null);
    assert.equal(parse('iso_syslog', '2025-10-14T12:01:10+2 host1 sshd[5]: x'), null);
  });

  test('RFC 5424 reads header fields and severity, and skips structured data with an escaped ]', () => {
    const line = '<34>1 2025-10-11T22:14:15.003Z mymachine su - ID47 [exampleSDID@32473 iut="3" eventSource="App\\]lication"][x@1 a="]"] \uFEFF\'su root\' failed';
    const r = parse('rfc5424', line);
    assert.deepEqual({ ...r }, {
      format: 'rfc5424', time: utc('2025-10-11T22:14:15.003Z'), host: 'mymachine', program: 'su', pid: null,
      message: "'su root' failed", ip: null, user: null, status: null, severity: 2,
    });
  });

  test('RFC 5424 with nil structured data and nil fields', () => {
    const r = parse('rfc5424', '<165>1 2025-10-11T22:14:15+02:00 - - - - - hello');
    assert.deepEqual([r.host, r.program, r.pid, r.message, r.severity, r.time], [null, null, null, 'hello', 5, utc('2025-10-11T20:14:15Z')]);
  });

  test('RFC 5424 rejects unterminated structured data, a bad priority, a nil stamp and impossible dates', () => {
    for (const line of [
      '<34>1 2025-10-11T22:14:15Z h a p m [id a="b"',
      '<34>1 2025-10-11T22:14:15Z h a p m [id a="\\]"',
      '<192>1 2025-10-11T22:14:15Z h a p m - x',
      '<x>1 2025-10-11T22:14:15Z h a p m - x',
      '<34>1 - h a p m - x',
      '<34>1 2025-02-30T22:14:15Z h a p m - x',
      '<34>1 2025-10-11T25:14:15Z h a p m - x',
      '<34>1 2025-10-11T22:14:15Z h a p m junk',
      '<34> 2025-10-11T22:14:15Z h a p m - x',
    ]) {
      assert.equal(parse('rfc5424', line), null, line);
    }
  });
});

describe('access and error logs', () => {
  test('CLF reads client, user, status, the message from the request, and the stamp\'s offset', () => {
    const r = parse('clf', '203.0.113.9 - alice [14/Oct/2025:12:01:10 +0200] "GET /admin HTTP/1.1" 401 12 "-" "curl/8"');
    assert.deepEqual({ ...r }, {
      format: 'clf', time: utc('2025-10-14T10:01:10Z'), host: null, program: null, pid: null,
      message: '"GET /admin HTTP/1.1" 401 12 "-" "curl/8"', ip: '203.0.113.9', user: 'alice', status: 401, severity: null,
    });
  });

  test('CLF normalises IPv6 and IPv4-mapped clients', () => {
    assert.equal(parse('clf', '::ffff:203.0.113.5 - - [14/Oct/2025:12:01:10 +0000] "GET / HTTP/1.1" 200 1').ip, '203.0.113.5');
    assert.equal(parse('clf', '2001:DB8::1 - - [14/Oct/2025:12:01:10 +0000] "GET / HTTP/1.1" 200 1').ip, '2001:db8::1');
  });

  test('CLF finds the status after an escaped quote in the request', () => {
    const r = parse('clf', '1.2.3.4 - - [14/Oct/2025:12:01:10 +0000] "GET /a\\" 200 x HTTP/1.1" 404 12');
    assert.equal(r.status, 404);
    assert.equal(r.user, null);
  });

  test('CLF rejects Feb 30, hour 25 and a line without a quoted request', () => {
    assert.equal(parse('clf', '1.2.3.4 - - [30/Feb/2025:12:01:10 +0000] "GET / HTTP/1.1" 200 1'), null);
    assert.equal(parse('clf', '1.2.3.4 - - [14/Oct/2025:25:01:10 +0000] "GET / HTTP/1.1" 200 1'), null);
    assert.equal(parse('clf', '1.2.3.4 - - [14/Oct/2025:12:01:10 +0000] GET / 200 1'), null);
  });

  test('apache error log reads module, level, bracketed IPv6 client and fraction', () => {
    const r = parse('apache_error', '[Tue Oct 14 12:01:10.123456 2025] [auth_basic:error] [pid 123] [client [2001:DB8::1]:51548] AH01618: user x not found', ctxIn('Europe/Berlin'));
    assert.deepEqual([r.time, r.program, r.severity, r.ip, r.message], [utc('2025-10-14T10:01:10.123Z'), 'auth_basic', 3, '2001:db8::1', 'AH01618: user x not found']);
  });

  test('apache error log normalises an IPv4-mapped client and strips an IPv4 port', () => {
    assert.equal(parse('apache_error', '[Tue Oct 14 12:01:10 2025] [error] [client ::ffff:1.2.3.4] x').ip, '1.2.3.4');
    assert.equal(parse('apache_error', '[Tue Oct 14 12:01:10 2025] [error] [client 1.2.3.4:8080] x').ip, '1.2.3.4');
  });

  test('apache error log keeps the header client when the message carries an injected [client ...]', () => {
    const r = parse('apache_error', '[Tue Oct 14 12:01:10 2025] [core:info] [pid 1] [client 1.2.3.4:80] File does not exist: /x/[client 6.6.6.6] y');
    assert.equal(r.ip, '1.2.3.4');
    assert.equal(r.message, 'File does not exist: /x/[client 6.6.6.6] y');
    const noClient = parse('apache_error', '[Tue Oct 14 12:01:10 2025] [core:info] [pid 1] File does not exist: /x/[client 6.6.6.6] y');
    assert.equal(noClient.ip, null);
  });

  test('apache error log rejects Feb 30 and hour 25', () => {
    assert.equal(parse('apache_error', '[Sun Feb 30 12:01:10 2025] [error] [client 1.2.3.4] x'), null);
    assert.equal(parse('apache_error', '[Tue Oct 14 25:01:10 2025] [error] [client 1.2.3.4] x'), null);
  });

  test('nginx error log reads level, pid and strips the connection id', () => {
    const r = parse('nginx_error', '2025/10/14 12:01:10 [error] 2865#0: *66647 user "x" was not found, client: 1.2.3.4', ctxIn('Europe/Berlin'));
    assert.deepEqual([r.time, r.program, r.pid, r.severity, r.message], [utc('2025-10-14T10:01:10Z'), 'nginx', '2865', 3, 'user "x" was not found, client: 1.2.3.4']);
  });

  test('lighttpd error log reads the message after the stamp', () => {
    const r = parse('lighttpd_error', "2025-10-14 12:01:10: (mod_auth.c.525) password doesn't match");
    assert.deepEqual([r.time, r.program, r.message], [utc('2025-10-14T12:01:10Z'), 'lighttpd', "(mod_auth.c.525) password doesn't match"]);
  });

  test('nginx and lighttpd reject Feb 30 and hour 25', () => {
    assert.equal(parse('nginx_error', '2025/02/30 12:01:10 [error] 1#0: x'), null);
    assert.equal(parse('nginx_error', '2025/10/14 25:01:10 [error] 1#0: x'), null);
    assert.equal(parse('lighttpd_error', '2025-02-30 12:01:10: x'), null);
    assert.equal(parse('lighttpd_error', '2025-10-14 25:01:10: x'), null);
  });
});

describe('robustness', () => {
  test('every parser returns null for empty and garbage lines', () => {
    const junk = ['', ' ', '\t', '-', '[', ']', '<', '<1>', '<34>1', '"', 'hello world', '2025-', '[Tue', 'Oct 14', '1.2.3.4 - - [', '\u0000\u0001'];
    for (const f of FORMAT_NAMES) {
      for (const line of junk) assert.equal(parse(f, line), null, `${f}: ${JSON.stringify(line)}`);
    }
  });

  test('every parser survives thousands of random lines without throwing', () => {
    const rnd = prng(2025);
    const alphabet = 'OctNovFeb0123456789 :[]<>-/."\\T+Zz#*abcxyü😀\r\t';
    const templates = [
      'Oct 14 12:01:10 host1 sshd[123]: Failed password',
      '<34>1 2025-10-11T22:14:15.003Z h su - ID47 [a b="c"] msg',
      '1.2.3.4 - - [14/Oct/2025:12:01:10 +0000] "GET / HTTP/1.1" 200 1',
      '[Tue Oct 14 12:01:10 2025] [error] [client 1.2.3.4] x',
      '2025/10/14 12:01:10 [error] 2865#0: *1 x',
      '2025-10-14 12:01:10: x',
    ];
    const ctx = ctxIn('Europe/Berlin', null);
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      let line;
      if (i % 2 === 0) {
        const n = Math.floor(rnd() * 60);
        line = '';
        for (let k = 0; k < n; k++) line += alphabet[Math.floor(rnd() * alphabet.length)];
      } else {
        // Mutate a valid line: overwrite, delete or truncate at random places.
        const chars = [...templates[Math.floor(rnd() * templates.length)]];
        const edits = 1 + Math.floor(rnd() * 3);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rnd() * chars.length);
          const op = rnd();
          if (op < 0.4) chars[at] = alphabet[Math.floor(rnd() * alphabet.length)];
          else if (op < 0.7) chars.splice(at, 1);
          else chars.length = at;
        }
        line = chars.join('');
      }
      for (const f of FORMAT_NAMES) {
        let r;
        assert.doesNotThrow(() => { r = PARSERS[f](line, ctx); }, `${f}: ${JSON.stringify(line)}`);
        if (r !== null) {
          accepted++;
          assert.ok(Number.isFinite(r.time), `${f} accepted ${JSON.stringify(line)} with time ${r.time}`);
          assert.equal(r.format, f);
          assert.equal(typeof r.message, 'string');
        }
      }
    }
    assert.ok(accepted > 0, 'some mutated lines are still valid');
  });
});

describe('format detection and chains', () => {
  const SYSLOG = 'Oct 14 12:01:10 host1 sshd[1]: Failed password';
  const CLF = '1.2.3.4 - - [14/Oct/2025:12:01:10 +0000] "GET / HTTP/1.1" 200 1';
  const NGINX = '2025/10/14 12:01:10 [error] 2865#0: *1 x';

  test('detectFormat picks the format most sample lines are in', () => {
    assert.equal(detectFormat([CLF, SYSLOG, CLF, NGINX, CLF], ctxIn()), 'clf');
    assert.equal(detectFormat([SYSLOG, SYSLOG, CLF], ctxIn()), 'syslog');
    assert.equal(detectFormat([NGINX, NGINX, CLF, SYSLOG], ctxIn()), 'nginx_error');
  });

  test('detectFormat breaks ties by registry order and returns null when nothing parses', () => {
    assert.equal(detectFormat([CLF, SYSLOG], ctxIn()), 'syslog');
    assert.equal(detectFormat(['garbage', '', 'more garbage'], ctxIn()), null);
    assert.equal(detectFormat([], ctxIn()), null);
    assert.ok(DETECT_LINES > 0);
  });

  test('an unpinned chain falls back to another format per line and keeps the last one that worked', () => {
    const chain = new FormatChain('clf', false);
    const ctx = ctxIn();
    assert.equal(chain.parse(CLF, ctx).format, 'clf');
    assert.equal(chain.parse(NGINX, ctx).format, 'nginx_error');
    assert.equal(chain.parse(NGINX, ctx).format, 'nginx_error');
    assert.equal(chain.parse(CLF, ctx).format, 'clf');
    assert.equal(chain.parse(SYSLOG, ctx).format, 'syslog');
    assert.equal(chain.parse('garbage', ctx), null);
  });

  test('a pinned chain parses only its format', () => {
    const chain = new FormatChain('clf', true);
    const ctx = ctxIn();
    assert.equal(chain.pinned, true);
    assert.equal(chain.parse(CLF, ctx).format, 'clf');
    assert.equal(chain.parse(NGINX, ctx), null);
    assert.equal(chain.parse(SYSLOG, ctx), null);
  });

  test('a chain without a preferred format tries every format', () => {
    const chain = new FormatChain(null, false);
    const ctx = ctxIn();
    assert.equal(chain.parse(NGINX, ctx).format, 'nginx_error');
    assert.equal(chain.parse(SYSLOG, ctx).format, 'syslog');
    assert.equal(chain.parse('<13>1 2025-10-11T22:14:15Z h a p m - x', ctx).format, 'rfc5424');
  });
});
