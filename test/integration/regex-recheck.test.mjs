import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backtrackRisk } from '../../dist/core/regex/safety.js';
import { loadConfig } from '../../dist/config/load.js';
import { ACCEPTED, REJECTED } from '../helpers/regex-cases.mjs';
import { attackLine, recheck } from '../helpers/recheck.mjs';

// A second opinion on the regex check from recheck, over every builtin pattern and the
// check's own cases. recheck's fuzzer also reports lines that V8 matches quickly (its
// machine does not optimise as V8 does), so an accepted pattern fails only when recheck's
// attack, pumped to a whole line, really takes long here. Two refused cases must be found
// vulnerable too, which proves recheck ran: its automaton check finds them every time.
// (It does not find (?:a?){24}a{24} reliably: only its fuzzer can, depending on the seed.)
const MUST_BE_VULNERABLE = new Set([String.raw`^(a+)+$`, String.raw`^(?:\p{L}+\s?)+$`]);

test('recheck finds no catastrophic pattern the check accepts, and finds two it refuses', { timeout: 600_000 }, async () => {
  const config = loadConfig(null, { env: {} });
  const cases = new Map();
  for (const m of config.detection.matchers) {
    for (const src of [...m.patterns.map((p) => p.regex), ...m.ignore]) cases.set(`${m.caseInsensitive ? 'i' : ''}/${src}`, [src, m.caseInsensitive ? 'i' : '']);
  }
  for (const x of ACCEPTED) {
    const [src, flags = ''] = Array.isArray(x) ? x : [x];
    cases.set(`${flags}/${src}`, [src, flags]);
  }
  for (const [src, , , flags = ''] of REJECTED) if (MUST_BE_VULNERABLE.has(src)) cases.set(`${flags}/${src}`, [src, flags]);
  const misses = [];
  const found = [];
  for (const [src, flags] of cases.values()) {
    const ours = backtrackRisk(src, flags);
    const theirs = await recheck(src, flags);
    if (MUST_BE_VULNERABLE.has(src)) {
      assert.notEqual(ours, null, src);
      if (theirs.status === 'vulnerable') found.push(src);
      continue;
    }
    assert.equal(ours, null, `the check refuses ${src}: ${ours?.message}`);
    if (theirs.status !== 'vulnerable') continue;
    const line = attackLine(theirs.attack, 65536);
    const re = new RegExp(src, flags);
    const t0 = performance.now();
    re.exec(line);
    const ms = performance.now() - t0;
    if (ms > 1000) misses.push(`${src} (${flags}): ${ms.toFixed(0)} ms on recheck's ${JSON.stringify(line.slice(0, 80))}...`);
  }
  assert.deepEqual(misses, []);
  assert.deepEqual(found.sort(), [...MUST_BE_VULNERABLE].sort());
});
