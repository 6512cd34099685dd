import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { backtrackRisk } from '../../dist/core/regex/safety.js';
import { compileRuleSet } from '../../dist/core/rules.js';
import { loadConfig } from '../../dist/config/load.js';

import { ACCEPTED, REJECTED } from '../helpers/regex-cases.mjs';

describe('backtrackRisk', () => {
  for (const [src, flags = ''] of ACCEPTED.map((x) => (Array.isArray(x) ? x : [x]))) {
    test(`accepts ${src}${flags === '' ? '' : ` (${flags})`}`, () => {
      assert.equal(backtrackRisk(src, flags), null);
    });
  }
  for (const [src, kind, part, flags = ''] of REJECTED) {
    test(`rejects ${src.length > 60 ? `${src.slice(0, 60)}...` : src}${flags === '' ? '' : ` /${flags}`} (${kind})`, () => {
      const risk = backtrackRisk(src, flags);
      assert.notEqual(risk, null, 'expected a risk');
      assert.equal(risk.kind, kind, risk.message);
      if (part !== null) assert.equal(risk.part, part);
      assert.ok(risk.message.length > 20);
    });
  }

  test('names the nested quantifier and says how to fix it', () => {
    const risk = backtrackRisk(String.raw`(\w+\s?)+$`);
    assert.match(risk.message, /nested quantifier at `\(\\w\+\\s\?\)\+`/);
    assert.match(risk.message, /rewrite without the nested quantifier/);
  });

  test('sees overlap through case-insensitive matching', () => {
    assert.equal(backtrackRisk('^(?:a|A)+$', ''), null);
    assert.equal(backtrackRisk('^(?:a|A)+$', 'i')?.kind, 'alternation');
  });

  test('reads escapes, classes and quantifier syntax without getting lost', () => {
    assert.equal(backtrackRisk(String.raw`^\x41\u0042\cJ[\]\-a-c\\]{2}\{x\}a{,3}\/$`), null);
    assert.equal(backtrackRisk(String.raw`^[\d.]+\.[\d.]+$`)?.kind, 'adjacent');
    assert.equal(backtrackRisk(String.raw`^[^\d]+\d+[^\d]+$`), null);
  });
});

describe('rule compilation', () => {
  const spec = (patterns, ignore = []) => ({
    matchers: [{
      name: 'custom', description: '', formats: null, programs: null, excludePrograms: [], statuses: null,
      requireFields: [], prefilter: null, caseInsensitive: false, ignore, maxSeverity: null, context: null,
      origin: 'my-rules.yaml',
      patterns: patterns.map((regex) => ({ regex, emit: true, set: [], requires: [], minUsers: 0, clear: false })),
    }],
    rules: [{ name: 'r', description: '', matchers: ['custom'], key: 'ip', windowMs: 60_000, threshold: 2, cooldownMs: 60_000, severity: 'high', origin: 'my-rules.yaml' }],
    limits: { maxKeysPerRule: 10, maxSamplesPerIncident: 1, maxValuesPerIncident: 1, maxSampleChars: 100 },
  });

  test('reports a pattern that can backtrack with its file, matcher and index', () => {
    const { problems } = compileRuleSet(spec([String.raw`^ok (?<ip>\S+)$`, String.raw`^(?<ip>(\w+\s?)+)$`], [String.raw`(a|a)*$`]));
    assert.deepEqual(problems.map((p) => p.path), ['my-rules.yaml: matchers.custom.patterns[1]', 'my-rules.yaml: matchers.custom.ignore[0]']);
    assert.match(problems[0].message, /^pattern `\^\(\?<ip>\(\\w\+\\s\?\)\+\)\$` can backtrack catastrophically: nested quantifier at `\(\\w\+\\s\?\)\+`/);
  });

  test('every builtin pattern passes the check', () => {
    const config = loadConfig(null, { env: {} });
    assert.ok(config.detection.matchers.length > 5);
  });
});

/**
 * Hostile lines built from a pattern's own literals: the keywords repeated up to the line
 * bound, ending in a character that makes $ and . fail. This is the shape that stalled
 * the builtin patterns before they were checked.
 */
function hostileLines(src, maxBytes) {
  const literals = (src.replace(/\(\?(?:<[A-Za-z_$][\w$]*>|<?[=!]|:)/g, '(').match(/(?:\\[^dDsSwWbBpPkux0-9]|[^\\()[\]{}|?*+.^$])+/g) ?? [])
    .map((s) => s.replace(/\\(.)/g, '$1'))
    .filter((s) => s.length > 0);
  const head = literals[0] ?? '';
  const rest = literals.slice(1);
  const lines = [];
  for (const filler of [rest.join(''), rest.join('1 '), `${rest.join(' ')} `, ' ', 'a', 'a ', '1.', '/']) {
    if (filler === '') continue;
    for (const tail of ['\u2028', '\t', '']) {
      const room = maxBytes - head.length - tail.length;
      lines.push(head + filler.repeat(Math.ceil(room / filler.length)).slice(0, room) + tail);
    }
  }
  return lines;
}

/** Lines that took 0.3 to 10 s each against builtin patterns before the check existed. */
function craftedLines(max) {
  const fill = (head, unit, tail = '') => {
    const room = max - head.length - tail.length;
    return head + unit.repeat(Math.ceil(room / unit.length)).slice(0, room) + tail;
  };
  return [
    fill('Failed password for ', ' from a port 1 ssh2: x', '\u2028'),
    fill('Failed password for ', 'x from a: ', '\u2028'),
    fill('Invalid user ', ' from a port 1', '\u2028'),
    fill('pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty= ruser=', ' rhost=a user=b', '\t'),
    fill('AH01637: Authorization of user a', ' to access x'),
    fill('user "', '": password mismatch, client: 1, server: x', '\u2028'),
    fill('(http_auth.c.1) digest: auth failed for', ' ', 'x'),
    fill("script '", '/cgi-bin/'),
    fill('user ', ' not found: x', '\u2028'),
    fill('a', ' ', 'a'),
  ];
}

describe('per-line work is bounded', () => {
  test('every builtin pattern finishes a hostile line of input.max_line_bytes quickly', () => {
    const config = loadConfig(null, { env: {} });
    // split.ts cuts every line to max_line_bytes before any parser or regex sees it, and a
    // message is a part of its line: no regex ever runs on more than this.
    const max = config.input.maxLineBytes;
    assert.equal(max, 65536);
    let slowest = { ms: 0, src: '' };
    for (const m of config.detection.matchers) {
      for (const src of [...m.patterns.map((p) => p.regex), ...m.ignore]) {
        const re = new RegExp(src, m.caseInsensitive ? 'i' : '');
        for (const line of [...craftedLines(max), ...hostileLines(src, max)]) {
          const t0 = performance.now();
          re.exec(line);
          const ms = performance.now() - t0;
          if (ms > slowest.ms) slowest = { ms, src };
        }
      }
    }
    // A correctness guard, not a speed target: a catastrophic pattern takes seconds.
    assert.ok(slowest.ms < 1000, `${slowest.src} took ${slowest.ms.toFixed(0)} ms on one line`);
  });

  test('the generator finds the blow-up of a pattern the check rejects', () => {
    const src = String.raw`^user (?<user>.*?) not found(?:: .*)?$`;
    assert.notEqual(backtrackRisk(src), null);
    const re = new RegExp(src);
    const t0 = performance.now();
    for (const line of hostileLines(src, 16384)) re.exec(line);
    // Quadratic: already visible at 16 KiB, where a linear pattern takes well under 5 ms.
    assert.ok(performance.now() - t0 > 5);
  });
});
