// Every line parser, format detection, the format chain, the syslog fast-path probe and the
// whole detection core on hostile input: random text, random unicode (lone surrogates
// included) and real log lines cut up and mutated. Parsers return null or a well-formed
// record and never throw; a log line is attacker-controlled text.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PARSERS, FormatChain, detectFormat, ParseContext } from '../../dist/core/parse/index.js';
import { probeSyslog, PROBE_INVALID } from '../../dist/core/parse/syslog.js';
import { FORMAT_NAMES } from '../../dist/core/types.js';
import { Detector } from '../../dist/core/detector.js';
import { compileRuleSet } from '../../dist/core/rules.js';
import { loadConfig } from '../../dist/config/load.js';
import { fc, params } from './fc-params.mjs';

const REAL_LINES = [
  'Oct 14 12:01:10 host1 sshd[12345]: Failed password for root from 203.0.113.10 port 51423 ssh2',
  'Nov 23 21:50:37 sshd[8148]: Connection closed by 61.0.0.1 [preauth]',
  'Feb  7 15:10:42 example pure-ftpd: (pam_unix) authentication failure',
  'Feb 7 16:01:07 linux-m899 sshd[5106]: User root from 192.51.100.54 not allowed',
  'Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed',
  'Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for james from 205.186.180.55 port 42742 ssh2',
  'Oct 14 12:02:00 web1 httpd[99]: [auth_basic:error] [pid 1] [client 198.51.100.7:5050] AH01618: user bob not found: /admin',
  'Oct 14 12:03:00 db1 sudo:   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh',
  '2024-03-01T10:00:00.123456+01:00 host1 sshd[7]: Invalid user x from 192.0.2.1',
  '2024-03-01 10:00:00,5Z host2 su: pam_unix(su:auth): authentication failure',
  '<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1" x="a\\]b"][y z="1"] Failed password for x from 192.0.2.2 port 1 ssh2',
  '<13>1 - - - - - -',
  '1.2.3.4 - - [14/Oct/2025:08:00:00 +0000] "GET / HTTP/1.1" 200 1',
  '2001:db8::1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 401 2326 "http://www.example.com/start.html" "Mozilla/4.08"',
  '198.51.100.3 - - [14/Oct/2025:08:00:00 +0000] "GET /a\\"b HTTP/1.1" 404 0',
  '[Sat Jun 01 02:17:42 2013] [error] [client 192.168.33.1] File does not exist: /srv/[client 192.168.0.1] user root not found',
  '[Sat Jul 20 22:11:44.147674 2013] [authz_owner:error] [pid 1:tid 2] [client [2001:db8::80da:af6b:8b2c]:51548] AH01637: x',
  '2025/10/14 12:00:00 [error] 2865#0: *66647 user "bob" was not found in "/etc/nginx/.htpasswd", client: 203.0.113.9',
  '2025-10-14 12:00:00: (mod_auth.c.853) password doesn\'t match for /x username: bob, IP: 192.0.2.4',
];

/** Words that are special to plain objects: a parser looking them up in a table must not find them. */
const TRICKY = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'Jan', 'Feb', 'Dec', 'error', 'warn', 'client ', 'pid ', '[', ']', ':', '"', '\\', ' ', '  ', '\t', '\r', '\u0000', '\ud800', '\udfff', '\ufffd', '９', '-', '+', '.', ',', 'T', 'Z', '99', '00', '60', '24', '2024', '-0000', '+2400', '#', '*', '<', '>', '[ID 1 a.b] '];

const char = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(...TRICKY),
);

/** One edit of a line: cut, insert, replace, swap a digit, or splice in another line's piece. */
const edit = fc.oneof(
  fc.tuple(fc.constant('cut'), fc.nat(), fc.nat({ max: 12 })),
  fc.tuple(fc.constant('insert'), fc.nat(), char),
  fc.tuple(fc.constant('replace'), fc.nat(), char),
  fc.tuple(fc.constant('digit'), fc.nat(), fc.integer({ min: 0, max: 9 })),
  fc.tuple(fc.constant('splice'), fc.nat(), fc.nat(), fc.nat({ max: 30 }), fc.nat({ max: REAL_LINES.length - 1 })),
  fc.tuple(fc.constant('truncate'), fc.nat()),
);

function applyEdit(s, [op, a, b, c, d]) {
  const at = s.length === 0 ? 0 : a % (s.length + 1);
  switch (op) {
    case 'cut': return s.slice(0, at) + s.slice(at + b);
    case 'insert': return s.slice(0, at) + b + s.slice(at);
    case 'replace': return s.slice(0, at) + b + s.slice(at + 1);
    case 'digit': {
      const m = /\d/g;
      m.lastIndex = at;
      const found = m.exec(s) ?? /\d/.exec(s);
      return found === null ? s : s.slice(0, found.index) + String(b) + s.slice(found.index + 1);
    }
    case 'splice': {
      const src = REAL_LINES[d];
      const from = b % (src.length + 1);
      return s.slice(0, at) + src.slice(from, from + c) + s.slice(at);
    }
    default: return s.slice(0, at);
  }
}

const mutatedLine = fc.tuple(fc.constantFrom(...REAL_LINES), fc.array(edit, { maxLength: 6 })).map(([l, es]) => es.reduce(applyEdit, l));
const fragmentLine = fc.array(fc.oneof(
  fc.tuple(fc.constantFrom(...REAL_LINES), fc.nat(), fc.nat({ max: 40 })).map(([l, a, n]) => l.slice(a % l.length, (a % l.length) + n)),
  fc.constantFrom(...TRICKY),
), { maxLength: 8 }).map((a) => a.join(''));
/** Header shapes of each format with random words where levels, hosts and programs go. */
const WORDS = ['constructor', '__proto__', 'toString', 'error', 'core:warn', 'x:y:info', 'host', 'sshd[1]:', 'sshd:', '[sshd]', '[sshd]:',
  '[ID 800047 auth.info]', '[ID 1 a.b] x', 'httpd:', 'apache2[3]:', '[client 1.2.3.4]', '[client [::1]:8]', '[client [2001:db8::1', '[pid 1]', '::', ':', '', '[', ']'];
const word = fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 8 }));
const templateLine = fc.tuple(fc.nat({ max: 5 }), fc.array(word, { minLength: 4, maxLength: 4 })).map(([k, [a, b, c, d]]) => [
  `[Sat Jun 01 02:17:42 2013] [${a}] ${b} ${c} ${d}`,
  `2025/10/14 12:00:00 [${a}] ${b} ${c} ${d}`,
  `Oct 14 12:01:10 ${a} ${b} ${c} ${d}`,
  `Oct 14 12:01:10 ${a} ${b}${c} ${d}`,
  `2024-03-01T10:00:00Z ${a} ${b} ${c}${d}`,
  `Oct 14 12:01:10 ${a} [ID 800047 auth.info] ${b}${c} ${d}`,
][k]);
const anyLine = fc.oneof(
  { weight: 5, arbitrary: mutatedLine },
  { weight: 3, arbitrary: templateLine },
  { weight: 2, arbitrary: fragmentLine },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.array(char, { maxLength: 60 }).map((a) => a.join('')) },
);

const ZONES = ['UTC', 'Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
const timeContext = fc.record({
  timeZone: fc.constantFrom(...ZONES),
  year: fc.option(fc.integer({ min: 1970, max: 2100 })),
  refMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
});

const RECORD_KEYS = ['format', 'time', 'host', 'program', 'pid', 'message', 'ip', 'user', 'status', 'severity'].sort();
const stringOrNull = (v) => v === null || typeof v === 'string';

function assertRecord(r, format) {
  if (r === null) return;
  assert.equal(typeof r, 'object');
  assert.deepEqual(Object.keys(r).sort(), RECORD_KEYS);
  assert.ok(FORMAT_NAMES.includes(r.format), `format ${r.format}`);
  if (format !== undefined) assert.equal(r.format, format);
  assert.equal(typeof r.time, 'number');
  assert.ok(Number.isFinite(r.time), `time ${r.time} is finite`);
  for (const k of ['host', 'program', 'pid', 'ip', 'user']) assert.ok(stringOrNull(r[k]), `${k}: ${typeof r[k]}`);
  assert.equal(typeof r.message, 'string');
  assert.ok(r.status === null || (Number.isInteger(r.status) && r.status >= 0 && r.status <= 999), `status ${r.status}`);
  assert.ok(r.severity === null || (Number.isInteger(r.severity) && r.severity >= 0 && r.severity <= 7), `severity ${String(r.severity)}`);
}

test('every parser returns null or a well-formed record for any line, and never throws', () => {
  fc.assert(fc.property(anyLine, timeContext, (line, t) => {
    const ctx = new ParseContext(t);
    for (const name of FORMAT_NAMES) assertRecord(PARSERS[name](line, ctx), name);
  }), params(1500));
});

test('a parser gives the same record for a line whatever lines it read before', () => {
  // The parse context memoises the last syslog minute: a line must not inherit a stamp it does not carry.
  fc.assert(fc.property(fc.array(anyLine, { maxLength: 5 }), anyLine, timeContext, (earlier, line, t) => {
    for (const name of FORMAT_NAMES) {
      const warm = new ParseContext(t);
      for (const l of earlier) PARSERS[name](l, warm);
      assert.deepEqual(PARSERS[name](line, warm), PARSERS[name](line, new ParseContext(t)), name);
    }
  }), params(500));
});

test('the syslog probe accepts exactly the lines the syslog parser accepts, with its time, program and message start', () => {
  fc.assert(fc.property(fc.array(fc.oneof(anyLine, templateLine), { maxLength: 4 }), timeContext, (lines, t) => {
    // One probe record across lines, as the detector keeps it: the program string is reused.
    const out = { time: 0, program: null };
    for (const line of lines) {
      const ms = probeSyslog(line, new ParseContext(t), out);
      const r = PARSERS.syslog(line, new ParseContext(t));
      if (ms === PROBE_INVALID) assert.equal(r, null, 'probe rejects only what the parser rejects');
      if (ms >= 0) {
        assert.notEqual(r, null, 'probe accepts only what the parser accepts');
        assert.deepEqual([out.time, out.program, line.slice(ms)], [r.time, r.program, r.message]);
      }
    }
  }), params(1000));
});

test('format detection and the format chain never throw and give well-formed records', () => {
  const preferred = fc.option(fc.constantFrom(...FORMAT_NAMES));
  fc.assert(fc.property(fc.array(anyLine, { maxLength: 25 }), preferred, fc.boolean(), timeContext, (lines, pref, pinned, t) => {
    const ctx = new ParseContext(t);
    const found = detectFormat(lines, ctx);
    assert.ok(found === null || FORMAT_NAMES.includes(found));
    const chain = new FormatChain(pref ?? found, pinned && (pref ?? found) !== null);
    for (const l of lines) {
      const r = chain.parse(l, ctx);
      assertRecord(r);
      if (chain.pinned && r !== null) assert.equal(r.format, pref ?? found);
    }
  }), params(300));
});

let detection;
let dir;
before(() => {
  // The bundled rule files, through the real loader, without depending on the bundled config's other settings.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-prop-'));
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, `rules:\n  files: [${path.resolve('config/rules/*.yaml')}]\ninput:\n  timezone: UTC\nrun:\n  timezone: UTC\n`);
  detection = loadConfig(cfg, { env: {} }).detection;
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the detection core with the bundled rules never throws on random lines, and counts every line once', () => {
  const limits = fc.record({
    maxKeysPerRule: fc.integer({ min: 1, max: 50 }),
    maxSamplesPerIncident: fc.integer({ min: 0, max: 5 }),
    maxValuesPerIncident: fc.integer({ min: 1, max: 5 }),
    maxSampleChars: fc.integer({ min: 1, max: 200 }),
  });
  const format = fc.constantFrom('auto', ...FORMAT_NAMES);
  // Real lines repeated make rules fire; thresholds are lowered so incidents open and close.
  const lines = fc.array(fc.oneof(anyLine, fc.constantFrom(...REAL_LINES)), { maxLength: 60 });
  fc.assert(fc.property(lines, format, limits, timeContext, fc.integer({ min: 1, max: 3 }), (ls, fmt, lim, t, threshold) => {
    const rules = detection.rules.map((r) => ({ ...r, threshold: Math.min(r.threshold, threshold) }));
    const { ruleset, problems } = compileRuleSet({ matchers: detection.matchers, rules, limits: lim });
    assert.deepEqual(problems, []);
    const opened = [];
    const closed = [];
    let events = 0;
    const det = new Detector(ruleset, { event: () => events++, opened: (i) => opened.push(i), closed: (i) => closed.push(i), unmatched: () => {} });
    const src = det.source({ label: 'prop.log', format: fmt, time: t });
    for (const l of ls) src.line(l);
    src.end();
    det.flush();
    const st = src.stats;
    assert.equal(st.lines, ls.length);
    assert.equal(st.blank + st.parsed + st.unparsed, st.lines);
    assert.equal(st.events, events);
    assert.equal(opened.length, closed.length, 'flush closes every incident');
    for (const inc of opened) {
      assert.ok(Number.isFinite(inc.first) && Number.isFinite(inc.last) && inc.first <= inc.last);
      assert.ok(inc.count >= inc.threshold);
    }
  }), params(200));
});

test('an apache or nginx level named like an Object.prototype property is no level', () => {
  const ctx = new ParseContext({ timeZone: 'UTC', year: 2025, refMs: 0 });
  assert.equal(PARSERS.apache_error('[Sat Jun 01 02:17:42 2013] [constructor] [client 1.2.3.4] x', ctx).severity, null);
  assert.equal(PARSERS.nginx_error('2025/10/14 12:00:00 [__proto__] 2865#0: x', ctx).severity, null);
});

test('an apache client group left open at the end of the line ends the header groups', () => {
  // It used to search for the closing bracket from the start of the line again, and loop forever.
  const r = PARSERS.apache_error('[Sat Jul 20 22:11:44.147674 2013] [authz_owner:error] [pid 1:tid 2] [client [2001:db8::80da', new ParseContext({ timeZone: 'UTC', year: null, refMs: 0 }));
  assert.deepEqual([r.program, r.ip, r.message], ['authz_owner', null, '[client [2001:db8::80da']);
});

test('the syslog probe leaves a Solaris tag after a host without program to the full parse', () => {
  const line = 'Oct 14 12:01:10 host [ID 123 auth.info] Failed password for root from 192.0.2.1';
  const ctx = new ParseContext({ timeZone: 'UTC', year: 2025, refMs: 0 });
  assert.ok(probeSyslog(line, ctx, { time: 0, program: null }) < 0);
  assert.equal(PARSERS.syslog(line, ctx).message, 'Failed password for root from 192.0.2.1');
});

test('a CLF line ending two digits after the request has no status, not NaN', () => {
  const r = PARSERS.clf('1.2.3.4 - - [14/Oct/2025:08:00:00 +0000] "GET / HTTP/1.1" 20', new ParseContext({ timeZone: 'UTC', year: null, refMs: 0 }));
  assert.equal(r.status, null);
});
