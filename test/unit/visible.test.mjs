import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { visibleLine } from '../../dist/core/visible.js';
import { escapeControls } from '../../dist/util/text.js';
import { compileRuleSet } from '../../dist/core/rules.js';
import { Detector } from '../../dist/core/detector.js';

const TIME = { timeZone: 'UTC', year: 2025, refMs: Date.parse('2025-12-31T00:00:00Z') };

function eventsOf(lines) {
  const { ruleset, problems } = compileRuleSet({
    matchers: [{
      name: 'm', description: '', formats: null, programs: null, excludePrograms: [], statuses: null, requireFields: [],
      prefilter: null, caseInsensitive: false, ignore: [], maxSeverity: null, context: null, origin: 'test/rules.yaml',
      patterns: [{ regex: '^Failed password for (?<user>.*?) from (?<ip>\\S+) port \\d+ ssh2$', emit: true, set: [], requires: [], minUsers: 0, clear: false }],
    }],
    rules: [{ name: 'r', description: '', matchers: ['m'], key: 'ip', windowMs: 60_000, threshold: 3, cooldownMs: 60_000, severity: 'high', origin: 'test/rules.yaml' }],
    limits: { maxKeysPerRule: 1000, maxSamplesPerIncident: 10, maxValuesPerIncident: 10, maxSampleChars: 500 },
  });
  assert.deepEqual(problems, []);
  const events = [];
  const d = new Detector(ruleset, { event(e) { events.push(e); }, opened() {}, closed() {} });
  const src = d.source({ label: 'x.log', format: 'auto', time: TIME });
  for (const l of lines) src.line(l);
  src.end();
  d.flush();
  return events;
}

describe('visibleLine: what the rules see of a line', () => {
  test('leaves a line without separators or controls as it is', () => {
    const line = 'Oct 14 12:01:10 host1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2 \\u2028 é ✓ 日本';
    assert.equal(visibleLine(line), line);
  });

  test('escapes separators, controls, tab, NBSP and the other Unicode spaces as outputs escape them', () => {
    assert.equal(visibleLine('a\u2028b\u2029c\u0085d\te\rf\u0000g\u001bh\u007fi\u009bj\u00a0k\u3000l\ufeffm\u202en'),
      'a\\u2028b\\u2029c\\x85d\\x09e\\x0df\\x00g\\x1bh\\x7fi\\x9bj\\xa0k\\u3000l\\ufeffm\\u202en');
  });

  test('escapes every character outputs escape, the same way, and leaves nothing for them to escape', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      const seen = visibleLine(ch);
      if (escapeControls(ch) !== ch) assert.equal(seen, escapeControls(ch), `U+${c.toString(16)}`);
      assert.equal(escapeControls(seen), seen, `U+${c.toString(16)}`);
      assert.equal(visibleLine(seen), seen, `U+${c.toString(16)} twice`);
    }
  });

  test('leaves no character that "." does not match or that "\\s" matches, but the space', () => {
    for (let c = 0; c <= 0xffff; c++) {
      for (const ch of visibleLine(String.fromCharCode(c))) {
        assert.ok(/^.$/u.test(ch) || (ch >= '\ud800' && ch <= '\udfff'), `U+${c.toString(16)}: "." stops at it`);
        assert.ok(ch === ' ' || !/\s/.test(ch), `U+${c.toString(16)}: "\\s" matches it`);
      }
    }
  });
});

describe('the detector matches what visibleLine gives', () => {
  test('a user name holding separators gives the event, with the same line numbers and the escaped name', () => {
    const evs = eventsOf([
      'Oct 14 12:00:00 h sshd[1]: Failed password for ro\u2028ot from 203.0.113.7 port 1 ssh2',
      'Oct 14 12:00:01 h sshd[1]: Failed password for \u0085x\ty\u00a0 from 203.0.113.7 port 1 ssh2',
      'Oct 14 12:00:02 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2',
    ]);
    assert.deepEqual(evs.map((e) => [e.line, e.ip, e.user]), [[1, '203.0.113.7', 'ro\\u2028ot'], [2, '203.0.113.7', '\\x85x\\x09y\\xa0'], [3, '203.0.113.7', 'root']]);
    assert.equal(evs[0].text, 'Oct 14 12:00:00 h sshd[1]: Failed password for ro\\u2028ot from 203.0.113.7 port 1 ssh2');
  });

  test('a name typed as the escape text reads the same as the one holding the character', () => {
    const evs = eventsOf([
      'Oct 14 12:00:00 h sshd[1]: Failed password for a\u2028b from 203.0.113.7 port 1 ssh2',
      'Oct 14 12:00:01 h sshd[1]: Failed password for a\\u2028b from 203.0.113.7 port 1 ssh2',
    ]);
    assert.deepEqual(evs.map((e) => e.user), ['a\\u2028b', 'a\\u2028b']);
  });

  test('an RFC 5424 message still starts after its byte-order mark', () => {
    const evs = eventsOf(['<38>1 2025-10-14T12:00:00Z h sshd 1 - - \ufeffFailed password for root from 203.0.113.7 port 1 ssh2']);
    assert.deepEqual(evs.map((e) => [e.ip, e.user, e.program]), [['203.0.113.7', 'root', 'sshd']]);
  });
});
