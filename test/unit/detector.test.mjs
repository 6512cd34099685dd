import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleSet } from '../../dist/core/rules.js';
import { Detector } from '../../dist/core/detector.js';
import { prng } from '../helpers/prng.mjs';

const LIMITS = { maxKeysPerRule: 1000, maxSamplesPerIncident: 10, maxValuesPerIncident: 10, maxSampleChars: 500 };
const TIME = { timeZone: 'UTC', year: 2025, refMs: 0 };
const utc = (s) => Date.parse(s);

function pattern(regex, o = {}) {
  return { regex, emit: true, set: [], requires: [], minUsers: 0, clear: false, ...o };
}

function matcher(name, patterns, o = {}) {
  return {
    name, description: '', formats: null, programs: null, excludePrograms: [], statuses: null, requireFields: [],
    prefilter: null, caseInsensitive: false, ignore: [], patterns, maxSeverity: null, context: null, origin: 'test/rules.yaml', ...o,
  };
}

function rule(name, matchers, o = {}) {
  return { name, description: '', matchers, key: 'ip', windowMs: 600_000, threshold: 2, cooldownMs: 600_000, severity: 'high', origin: 'test/rules.yaml', ...o };
}

function compile(matchers, rules, limits = LIMITS) {
  const { ruleset, problems } = compileRuleSet({ matchers, rules, limits });
  assert.deepEqual(problems, []);
  return ruleset;
}

/** Runs lines through a detector; returns everything the listener saw plus stats. */
function run(ruleset, lines, { label = '/var/log/auth.log', format = 'auto', time = TIME, startLine } = {}) {
  const events = [];
  const opened = [];
  const closed = [];
  const detector = new Detector(ruleset, { event: (e) => events.push(e), opened: (i) => opened.push(i), closed: (i) => closed.push(i) });
  const src = detector.source({ label, format, time, startLine });
  for (const l of lines) src.line(l);
  src.end();
  detector.flush();
  return { events, opened, closed, stats: src.stats, ruleStats: detector.ruleStats, detector };
}

const SSH_FAILED = matcher('ssh_failed', [pattern('^Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>\\S+)')], { programs: ['sshd'] });

describe('events', () => {
  test('carry rule, matcher, source label, 1-based line number, time, ip, user, host and program', () => {
    const rs = compile([SSH_FAILED], [rule('ssh_brute', ['ssh_failed'])]);
    const { events } = run(rs, [
      'Oct 14 12:01:10 web1 sshd[100]: Accepted password for bob from 192.0.2.1 port 1 ssh2',
      'Oct 14 12:01:11 web1 sshd[101]: Failed password for root from ::ffff:203.0.113.9 port 2 ssh2',
      'Oct 14 12:01:12 web1 cron[7]: Failed password for nobody from 1.1.1.1',
      'Oct 14 12:01:13 web2 sshd[102]: Failed password for invalid user admin from 203.0.113.9 port 3 ssh2',
    ]);
    assert.equal(events.length, 2);
    assert.deepEqual({ ...events[0] }, {
      rule: 'ssh_brute', matcher: 'ssh_failed', source: '/var/log/auth.log', line: 2, time: utc('2025-10-14T12:01:11Z'),
      ip: '203.0.113.9', user: 'root', host: 'web1', program: 'sshd',
      text: 'Oct 14 12:01:11 web1 sshd[101]: Failed password for root from ::ffff:203.0.113.9 port 2 ssh2',
    });
    assert.deepEqual([events[1].line, events[1].user, events[1].host], [4, 'admin', 'web2']);
  });

  test('count line numbers from startLine and include blank and unparsable lines', () => {
    const rs = compile([SSH_FAILED], [rule('ssh_brute', ['ssh_failed'])]);
    const { events, stats } = run(rs, [
      '',
      'not a log line at all',
      'Oct 14 12:01:11 web1 sshd[101]: Failed password for root from 203.0.113.9 port 2 ssh2',
    ], { startLine: 40 });
    assert.equal(events[0].line, 43);
    assert.equal(stats.lines, 3);
    assert.equal(stats.blank, 1);
    assert.equal(stats.unparsed, 1);
    assert.equal(stats.parsed, 1);
    assert.equal(stats.format, 'syslog');
    assert.equal(stats.events, 1);
    assert.equal(stats.firstTime, utc('2025-10-14T12:01:11Z'));
  });

  test('count parsed lines that match nothing, and their first and last times', () => {
    const rs = compile([SSH_FAILED], [rule('ssh_brute', ['ssh_failed'])]);
    const { events, stats } = run(rs, [
      'Oct 14 12:01:10 web1 sshd[100]: Accepted password for bob from 192.0.2.1',
      'Oct 14 12:05:00 web1 kernel: eth0 up',
      'garbage',
      '',
      '',
    ]);
    assert.equal(events.length, 0);
    assert.deepEqual([stats.lines, stats.parsed, stats.unparsed, stats.blank], [5, 2, 1, 2]);
    assert.equal(stats.firstTime, utc('2025-10-14T12:01:10Z'));
    assert.equal(stats.lastTime, utc('2025-10-14T12:05:00Z'));
  });

  test('a source of only blank lines counts them without a format', () => {
    const rs = compile([SSH_FAILED], [rule('ssh_brute', ['ssh_failed'])]);
    const { stats } = run(rs, ['', '', '']);
    assert.deepEqual([stats.lines, stats.blank, stats.parsed, stats.format], [3, 3, 0, null]);
  });

  test('fan out to every rule using the matcher, and windows open incidents per rule', () => {
    const rs = compile([SSH_FAILED], [
      rule('by_ip', ['ssh_failed'], { key: 'ip', threshold: 2 }),
      rule('by_user', ['ssh_failed'], { key: 'user', threshold: 3 }),
      rule('host_wide', ['ssh_failed'], { key: null, threshold: 4, severity: 'critical' }),
    ]);
    const lines = [
      'Oct 14 12:00:01 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2',
      'Oct 14 12:00:02 h sshd[2]: Failed password for root from 192.0.2.2 port 1 ssh2',
      'Oct 14 12:00:03 h sshd[3]: Failed password for root from 192.0.2.1 port 1 ssh2',
      'Oct 14 12:00:04 h sshd[4]: Failed password for admin from 192.0.2.3 port 1 ssh2',
    ];
    const { events, opened, closed, ruleStats } = run(rs, lines);
    assert.equal(events.length, 12);
    assert.deepEqual(events.slice(0, 3).map((e) => e.rule), ['by_ip', 'by_user', 'host_wide']);
    assert.deepEqual(opened.map((i) => [i.rule, i.key, i.count]), [['by_ip', '192.0.2.1', 2], ['by_user', 'root', 3], ['host_wide', null, 4]]);
    assert.equal(opened[2].severity, 'critical');
    assert.deepEqual(opened[2].ips.sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    assert.equal(closed.length, 3, 'flush closes every incident');
    assert.deepEqual(ruleStats.get('by_ip'), { events: 4, unkeyed: 0, incidents: 1 });
    assert.deepEqual(ruleStats.get('host_wide'), { events: 4, unkeyed: 0, incidents: 1 });
  });

  test('unkeyed events are counted but not windowed', () => {
    const m = matcher('fail_any', [pattern('^authentication failure(?:; user=(?<user>\\S+))?')]);
    const rs = compile([m], [rule('by_user', ['fail_any'], { key: 'user', threshold: 2 })]);
    const { events, opened, ruleStats } = run(rs, [
      'Oct 14 12:00:01 h login[1]: authentication failure',
      'Oct 14 12:00:02 h login[1]: authentication failure',
      'Oct 14 12:00:03 h login[1]: authentication failure',
      'Oct 14 12:00:04 h login[1]: authentication failure; user=bob',
    ]);
    assert.equal(events.length, 4);
    assert.equal(events[0].user, null);
    assert.equal(opened.length, 0);
    assert.deepEqual(ruleStats.get('by_user'), { events: 4, unkeyed: 3, incidents: 0 });
  });

  test('a rule keyed by a named group windows on the captured value', () => {
    const m = matcher('svc_fail', [pattern('^service (?<svc>\\w+) failed')]);
    const rs = compile([m], [rule('svc', ['svc_fail'], { key: 'svc', threshold: 2 })]);
    const { opened, ruleStats } = run(rs, [
      'Oct 14 12:00:01 h systemd[1]: service nginx failed',
      'Oct 14 12:00:02 h systemd[1]: service mysql failed',
      'Oct 14 12:00:03 h systemd[1]: service nginx failed',
    ]);
    assert.deepEqual(opened.map((i) => [i.key, i.keyField, i.count]), [['nginx', 'svc', 2]]);
    assert.equal(ruleStats.get('svc').unkeyed, 0);
  });
});

describe('matcher options', () => {
  test('the prefilter skips lines without any of its literals', () => {
    const m = matcher('pw', [pattern('^(?:Failed|Bad) password from (?<ip>\\S+)')], { prefilter: ['Failed'] });
    const rs = compile([m], [rule('pw', ['pw'])]);
    const { events } = run(rs, [
      'Oct 14 12:00:01 h sshd[1]: Bad password from 192.0.2.1',
      'Oct 14 12:00:02 h sshd[1]: Failed password from 192.0.2.2',
    ]);
    assert.deepEqual(events.map((e) => e.ip), ['192.0.2.2']);
  });

  test('ignore patterns drop matching lines', () => {
    const m = matcher('pw', [pattern('^Failed password for (?<user>\\S+) from (?<ip>\\S+)')], { ignore: ['from 10\\.'] });
    const rs = compile([m], [rule('pw', ['pw'])]);
    const { events } = run(rs, [
      'Oct 14 12:00:01 h sshd[1]: Failed password for a from 10.0.0.1',
      'Oct 14 12:00:02 h sshd[1]: Failed password for b from 192.0.2.2',
    ]);
    assert.deepEqual(events.map((e) => e.user), ['b']);
  });

  test('max_severity matches records at that severity or worse without a pattern', () => {
    const m = matcher('severe', [], { formats: ['rfc5424'], maxSeverity: 3 });
    const rs = compile([m], [rule('severe', ['severe'], { key: null, threshold: 1 })]);
    const { events, stats } = run(rs, [
      '<11>1 2025-10-14T12:00:01Z h app 1 - - error here',
      '<14>1 2025-10-14T12:00:02Z h app 1 - - just info',
      '<10>1 2025-10-14T12:00:03Z h app 1 - - critical here',
      '<12>1 2025-10-14T12:00:04Z h app 1 - - a warning',
    ]);
    assert.equal(stats.format, 'rfc5424');
    assert.deepEqual(events.map((e) => e.line), [1, 3]);
    assert.deepEqual(events.map((e) => e.program), ['app', 'app']);
  });

  test('statuses and formats restrict a matcher to access-log records', () => {
    const m = matcher('http_auth', [pattern('^"')], { formats: ['clf'], statuses: [401, 403] });
    const rs = compile([m], [rule('http_auth', ['http_auth'])]);
    const { events } = run(rs, [
      '192.0.2.1 - - [14/Oct/2025:12:00:01 +0000] "GET / HTTP/1.1" 200 1',
      '192.0.2.1 - alice [14/Oct/2025:12:00:02 +0000] "GET /admin HTTP/1.1" 401 1',
      '192.0.2.1 - - [14/Oct/2025:12:00:03 +0000] "GET /admin HTTP/1.1" 403 1',
    ], { label: 'access.log', format: 'clf' });
    assert.deepEqual(events.map((e) => [e.line, e.ip, e.user, e.host, e.program]), [[2, '192.0.2.1', 'alice', null, null], [3, '192.0.2.1', null, null, null]]);
    assert.equal(events[0].source, 'access.log');
  });
});

describe('connection context', () => {
  const ctxMatcher = matcher('sshd_conn', [
    pattern('^Connection from (?<ip>\\S+)', { emit: false, set: ['conn'] }),
    pattern('^Failed password for (?<user>\\S+)', { requires: ['conn'] }),
    pattern('^Invalid user (?<user>\\S+)', { minUsers: 2 }),
    pattern('^Disconnected', { emit: false, clear: true }),
  ], { context: { ttlMs: 600_000, maxEntries: 100 } });

  test('a flag set by one line lets a later line of the same connection emit with the remembered ip', () => {
    const rs = compile([ctxMatcher], [rule('r', ['sshd_conn'], { threshold: 100 })]);
    const { events } = run(rs, [
      'Oct 14 12:00:00 h sshd[5]: Failed password for early',
      'Oct 14 12:00:01 h sshd[5]: Connection from 192.0.2.7',
      'Oct 14 12:00:02 h sshd[5]: Failed password for root',
      'Oct 14 12:00:03 h sshd[6]: Failed password for other',
    ]);
    assert.deepEqual(events.map((e) => [e.line, e.user, e.ip]), [[3, 'root', '192.0.2.7']]);
  });

  test('clear forgets the connection, so its flag no longer holds', () => {
    const rs = compile([ctxMatcher], [rule('r', ['sshd_conn'], { threshold: 100 })]);
    const { events } = run(rs, [
      'Oct 14 12:00:01 h sshd[5]: Connection from 192.0.2.7',
      'Oct 14 12:00:02 h sshd[5]: Failed password for root',
      'Oct 14 12:00:03 h sshd[5]: Disconnected',
      'Oct 14 12:00:04 h sshd[5]: Failed password for again',
    ]);
    assert.deepEqual(events.map((e) => e.user), ['root']);
  });

  test('min_users emits only once the connection has tried that many distinct users', () => {
    const rs = compile([ctxMatcher], [rule('r', ['sshd_conn'], { threshold: 100 })]);
    const { events } = run(rs, [
      'Oct 14 12:00:01 h sshd[9]: Invalid user alice',
      'Oct 14 12:00:02 h sshd[9]: Invalid user alice',
      'Oct 14 12:00:03 h sshd[9]: Invalid user bob',
      'Oct 14 12:00:04 h sshd[9]: Invalid user carol',
    ]);
    assert.deepEqual(events.map((e) => [e.line, e.user]), [[3, 'bob'], [4, 'carol']]);
  });

  test('flags, clear and the prefilter behave the same on ISO-stamped syslog lines', () => {
    const pre = matcher('pre', ctxMatcher.patterns, { context: { ttlMs: 600_000, maxEntries: 100 }, prefilter: ['Connection', 'Failed', 'Disconnected'] });
    const rs = compile([pre], [rule('r', ['pre'], { threshold: 100 })]);
    const { events, stats } = run(rs, [
      '2025-10-14T12:00:01+00:00 h sshd[5]: Connection from 192.0.2.7',
      '2025-10-14T12:00:02+00:00 h sshd[5]: Failed password for root',
      '2025-10-14T12:00:02+00:00 h sshd[5]: Invalid user x',
      '2025-10-14T12:00:03+00:00 h sshd[5]: Disconnected',
      '2025-10-14T12:00:04+00:00 h sshd[5]: Failed password for again',
    ]);
    assert.equal(stats.format, 'iso_syslog');
    assert.deepEqual(events.map((e) => [e.user, e.ip, e.time]), [['root', '192.0.2.7', utc('2025-10-14T12:00:02Z')]]);
  });

  test('a context older than its ttl is forgotten', () => {
    const m = matcher('c', ctxMatcher.patterns, { context: { ttlMs: 60_000, maxEntries: 100 } });
    const rs = compile([m], [rule('r', ['c'], { threshold: 100 })]);
    const { events } = run(rs, [
      'Oct 14 12:00:00 h sshd[5]: Connection from 192.0.2.7',
      'Oct 14 12:05:00 h sshd[5]: Failed password for root',
    ]);
    assert.equal(events.length, 0);
  });
});

describe('compileRuleSet problems', () => {
  test('reports a bad regex with the matcher and pattern index in its path', () => {
    const m = matcher('broken', [pattern('^ok (?<ip>\\S+)'), pattern('^bad (unclosed')]);
    const { problems } = compileRuleSet({ matchers: [m], rules: [rule('r', ['broken'])], limits: LIMITS });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, 'test/rules.yaml: matchers.broken.patterns[1]');
    assert.match(problems[0].message, /invalid regular expression/);
  });

  test('reports a bad ignore regex with its index', () => {
    const m = matcher('m', [pattern('^x')], { ignore: ['ok', '[z-a]'] });
    const { problems } = compileRuleSet({ matchers: [m], rules: [rule('r', ['m'], { key: null })], limits: LIMITS });
    assert.deepEqual(problems.map((p) => p.path), ['test/rules.yaml: matchers.m.ignore[1]']);
  });

  test('reports a key that is not a named group of every emitting pattern', () => {
    const m = matcher('m', [pattern('^a (?<svc>\\w+)'), pattern('^b (?<other>\\w+)'), pattern('^c', { emit: false })]);
    const { problems } = compileRuleSet({ matchers: [m], rules: [rule('r', ['m'], { key: 'svc' })], limits: LIMITS });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, 'test/rules.yaml: rules.r.key');
    assert.match(problems[0].message, /svc/);
  });

  test('accepts event fields as keys without named groups', () => {
    const m = matcher('m', [pattern('^x')]);
    for (const key of ['ip', 'user', 'host', 'program', null]) {
      const { problems } = compileRuleSet({ matchers: [m], rules: [rule('r', ['m'], { key })], limits: LIMITS });
      assert.deepEqual(problems, [], String(key));
    }
  });

  test('reports an unknown matcher and context flags without a context', () => {
    const m = matcher('m', [pattern('^x', { set: ['f'] })]);
    const { problems } = compileRuleSet({ matchers: [m], rules: [rule('r', ['m', 'nope'])], limits: LIMITS });
    assert.deepEqual(problems.map((p) => p.path).sort(), ['test/rules.yaml: matchers.m.patterns[0]', 'test/rules.yaml: rules.r.matcher']);
  });

  test('leaves out matchers no rule uses', () => {
    const { ruleset, problems } = compileRuleSet({ matchers: [matcher('used', [pattern('^x')]), matcher('unused', [pattern('^y')])], rules: [rule('r', ['used'])], limits: LIMITS });
    assert.deepEqual(problems, []);
    assert.deepEqual(ruleset.matchers.map((m) => m.name), ['used']);
  });
});


describe('the syslog fast path', () => {
  test('gives the same events as parsing every line and running the match engine on it', async () => {
    const { MatchEngine, MatchState } = await import('../../dist/core/matcher.js');
    const { PARSERS, ParseContext } = await import('../../dist/core/parse/index.js');
    const matchers = [
      matcher('conn', [
        pattern('^Connection from (?<ip>\\S+)', { emit: false, set: ['conn'] }),
        pattern('^Failed password for (?<user>\\S+)', { requires: ['conn'] }),
        pattern('^Invalid user (?<user>\\S+)', { minUsers: 2 }),
        pattern('^Disconnected', { emit: false, clear: true }),
      ], { programs: ['sshd'], context: { ttlMs: 60_000, maxEntries: 6 } }),
      matcher('ci', [pattern('^failed password for (?<user>\\S+)')], { caseInsensitive: true, prefilter: ['assword'], ignore: ['for root'] }),
      matcher('anywhere', [pattern('from (?<ip>192\\.0\\.2\\.\\d+)')], { excludePrograms: ['cron'] }),
    ];
    const rules = [rule('a', ['conn'], { threshold: 1000 }), rule('b', ['ci'], { key: 'user', threshold: 1000 }), rule('c', ['anywhere'], { threshold: 1000 })];
    const rs = compile(matchers, rules);
    const seeds = (process.env.LOGWARD_FUZZ_SEEDS ?? '99,7,2025').split(',').map(Number);
    for (const seed of seeds) {
      const rnd = prng(seed);
      const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
      const users = ['root', 'bob', 'alice', 'eve'];
      const msgs = [
        () => `Connection from 192.0.2.${Math.floor(rnd() * 5)} port 22`,
        () => `Failed password for ${pick(users)} from 192.0.2.${Math.floor(rnd() * 5)}`,
        () => `FAILED PASSWORD for ${pick(users)}`,
        () => `Invalid user ${pick(users)}`,
        () => 'Disconnected',
        () => `Accepted password for ${pick(users)}`,
        () => `[ID 800047 auth.info] Failed password for ${pick(users)}`,
        () => 'session opened',
        () => '',
      ];
      const lines = [];
      let t = Date.parse('2025-10-14T12:00:00Z');
      for (let i = 0; i < 3000; i++) {
        t += Math.floor(rnd() * rnd() * 40_000);
        const d = new Date(t);
        const p2 = (n) => String(n).padStart(2, '0');
        const stamp = `Oct ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
        const prog = pick(['sshd', 'sshd', 'sshd', 'cron', 'su']);
        const host = pick(['h1 ', 'h2 ', '']);
        const tag = rnd() < 0.8 ? `${prog}[${1 + Math.floor(rnd() * 4)}]:` : `${prog}:`;
        lines.push(rnd() < 0.03 ? 'garbage line' : `${stamp} ${host}${tag} ${pick(msgs)()}`.trimEnd());
      }
      const { events } = run(rs, lines, { format: 'syslog' });

      const engine = new MatchEngine(rs);
      const state = new MatchState();
      const ctx = new ParseContext(TIME);
      const want = [];
      lines.forEach((line, i) => {
        const rec = PARSERS.syslog(line, ctx);
        if (rec === null) return;
        engine.match(rec, state, (hit) => {
          for (const r of hit.matcher.rules) want.push([i + 1, r.spec.name, hit.ip, hit.user]);
        });
      });
      assert.ok(want.length > 100, `enough events to compare (${want.length})`);
      assert.deepEqual(events.map((e) => [e.line, e.rule, e.ip, e.user]), want, `seed ${seed}`);
    }
  });
});
