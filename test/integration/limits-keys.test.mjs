// limits.max_keys_per_rule under a flood of distinct source addresses: the builtin
// ssh_bruteforce rule, loaded from the bundled rule files with a small cap, fed far more
// addresses than it may hold.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.mjs';
import { loadConfig, rulesOf } from '../../dist/config/load.js';
import { Detector } from '../../dist/core/detector.js';
import { kthSmallest } from '../../dist/core/window-store.js';
import { prng } from '../helpers/prng.mjs';

const CAP = 2000;
const FLOOD = 50_000;
const T0 = Date.parse('2025-03-01T00:00:00Z');

function ipOf(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function stamp(ms) {
  const d = new Date(ms);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n) => String(n).padStart(2, '0');
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function failed(ms, ip, pid) {
  return `${stamp(ms)} web1 sshd[${pid}]: Failed password for invalid user admin from ${ip} port 4242 ssh2`;
}

function setup() {
  const dir = tempDir();
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, `limits:\n  max_keys_per_rule: ${CAP}\n`);
  const config = loadConfig(cfg, { env: {}, selection: { rules: ['ssh_bruteforce'], command: 'test' } });
  const ruleset = rulesOf(config);
  const opened = [];
  const closed = [];
  const detector = new Detector(ruleset, { event: () => {}, opened: (i) => opened.push(i), closed: (i) => closed.push(i) });
  const src = detector.source({ label: 'auth.log', format: 'auto', time: { timeZone: 'UTC', year: 2025, refMs: T0 + 86_400_000 } });
  const window = detector.windows.get('ssh_bruteforce');
  return { src, window, opened, closed, detector };
}

describe('limits.max_keys_per_rule', () => {
  test('holds at most the cap under a flood, evicts the stalest first, counts them, and still detects', () => {
    const { src, window, opened } = setup();
    // A slow attacker hides in the flood: one failure every 1,000 lines. Its key is never
    // among the stalest, so it keeps its window and fires at its fifth failure.
    const slow = '198.51.100.77';
    let peak = 0;
    // One event per 10 ms of event time: the whole flood spans 500 s, inside the 600 s
    // window, so no key expires on its own and only the cap can make room.
    let t = T0;
    for (let i = 0; i < FLOOD; i++) {
      t += 10;
      src.line(failed(t, ipOf(i), 1000 + (i % 30_000)));
      if (i % 1000 === 500) src.line(failed(t, slow, 99));
      if (window.size > peak) peak = window.size;
    }
    src.settle();
    assert.ok(peak <= CAP, `held ${peak} keys, cap ${CAP}`);
    assert.ok(window.size > CAP * 0.8, `held only ${window.size}`);
    // Every key beyond what is held was evicted and counted.
    assert.equal(window.stats.evictedKeys, FLOOD + 1 - window.size);
    assert.deepEqual(opened.map((i) => i.key), [slow], 'one failure per flood address is no attack');

    // Stalest first: the most recent addresses are all held, the first ones are gone.
    const held = new Set(window.exportState(CAP).map((k) => k.key));
    for (let i = FLOOD - Math.floor(CAP * 0.8); i < FLOOD; i++) assert.ok(held.has(ipOf(i)), `recent ${ipOf(i)} was evicted`);
    for (let i = 0; i < 100; i++) assert.ok(!held.has(ipOf(i)), `stale ${ipOf(i)} is still held`);
    // A checkpoint keeps the most recent keys, also when hundreds share the cut's second.
    const saved = window.exportState(500).map((k) => k.key);
    assert.equal(saved.length, 500);
    const savedSet = new Set(saved);
    for (let i = FLOOD - 300; i < FLOOD; i++) assert.ok(savedSet.has(ipOf(i)), `checkpoint lost recent ${ipOf(i)}`);

    // A fresh attacker after the flood is detected at the threshold (5).
    const attacker = '203.0.113.200';
    for (let k = 0; k < 5; k++) src.line(failed((t += 1000), attacker, 500));
    assert.deepEqual(opened.map((i) => i.key), [slow, attacker]);
    assert.equal(opened[1].count, 5);
    assert.ok(window.size <= CAP);
  });

  test('a key hit within the stalest eighth survives while colder ones go', () => {
    const { src, window, opened } = setup();
    let t = T0;
    const keeper = '198.51.100.10';
    // Fill to the cap, then keep touching the keeper while new addresses arrive.
    for (let i = 0; i < CAP * 4; i++) {
      t += 10;
      src.line(failed(t, ipOf(i), 2000));
      if (i % 200 === 0) src.line(failed(t, keeper, 3000));
    }
    src.settle();
    assert.ok(window.exportState(CAP).some((k) => k.key === keeper), 'the recently hit key was evicted');
    assert.equal(opened.length, 1, 'the keeper kept its window and reached the threshold');
    assert.equal(opened[0].key, keeper);
  });
});

describe('the cut among key times (kthSmallest)', () => {
  test('equals the sorted array at k, with ties, runs and reversed runs', () => {
    const rnd = prng(42);
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + Math.floor(rnd() * 300);
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = [Math.floor(rnd() * 4), i, n - i, rnd()][trial % 4];
      const k = Math.floor(rnd() * n);
      assert.equal(kthSmallest(Float64Array.from(a), k), Float64Array.from(a).sort()[k]);
    }
  });
});
