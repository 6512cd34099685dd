import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../dist/util/logger.js';

test('a log line escapes separators, C1 and bidi characters from log text, and parses back to the same text', () => {
  const lines = [];
  const log = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
  const user = 'root\u2028{"level":"error","msg":"forged"}\u2029\u0085\u202egnp.exe';
  log.warn({ user }, `ALERT for ${user}`);
  assert.equal(lines.length, 1);
  const raw = lines[0];
  assert.equal(raw.split('\n').filter((l) => l !== '').length, 1);
  assert.doesNotMatch(raw, /[\u2028\u2029\u0085\u202e]/, 'no raw separator, C1 or bidi character');
  const parsed = JSON.parse(raw);
  assert.equal(parsed.user, user);
  assert.equal(parsed.msg, `ALERT for ${user}`);
});

test('secrets are redacted wherever the known fields appear', () => {
  const lines = [];
  const log = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
  log.info({ smtp: { pass: 'hunter2-planted' }, token: 'tok-planted' }, 'connecting');
  assert.ok(!lines.join('').includes('planted'));
});
