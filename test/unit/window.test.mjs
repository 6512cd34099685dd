import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RuleWindow } from '../../dist/core/window.js';
import { incidentId } from '../../dist/core/incident.js';
import { prng } from '../helpers/prng.mjs';

const BIG = { maxKeysPerRule: 100_000, maxSamplesPerIncident: 1000, maxValuesPerIncident: 1000, maxSampleChars: 10_000 };

/** A RuleWindow in milliseconds, with recorded listener calls and an event factory. */
function setup({ windowMs = 1000, threshold = 3, cooldownMs = windowMs, limits = BIG, key = 'ip', name = 'r' } = {}) {
  const opened = [];
  const closed = [];
  const spec = { name, description: '', matchers: ['m'], key, windowMs, threshold, cooldownMs, severity: 'high', origin: 'test' };
  const w = new RuleWindow({ spec, index: 0 }, limits, { opened: (i) => opened.push(i), closed: (i) => closed.push(i) });
  let line = 0;
  const hit = (k, t, o = {}) => {
    line++;
    w.add(k, {
      rule: name, matcher: 'm', source: o.source ?? 'auth.log', line, time: t,
      ip: 'ip' in o ? o.ip : k, user: o.user ?? null, host: 'host' in o ? o.host : 'h1', program: 'sshd', text: o.text ?? `line ${line}`,
    });
  };
  return { w, opened, closed, hit };
}

describe('threshold and window', () => {
  test('fires exactly when the threshold-th event arrives', () => {
    const { opened, hit } = setup({ threshold: 4 });
    hit('a', 0);
    hit('a', 10);
    hit('a', 20);
    assert.equal(opened.length, 0);
    hit('a', 30);
    assert.equal(opened.length, 1);
    assert.deepEqual([opened[0].first, opened[0].last, opened[0].firedAt, opened[0].count, opened[0].key], [0, 30, 30, 4, 'a']);
    assert.equal(opened[0].rule, 'r');
    assert.equal(opened[0].keyField, 'ip');
    assert.equal(opened[0].threshold, 4);
    assert.equal(opened[0].windowMs, 1000);
    assert.equal(opened[0].severity, 'high');
  });

  test('fires on the first event when the threshold is one', () => {
    const { opened, hit } = setup({ threshold: 1 });
    hit('a', 5);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].count, 1);
  });

  test('counts events exactly window apart as one window', () => {
    const { opened, hit } = setup({ windowMs: 1000, threshold: 2 });
    hit('a', 5000);
    hit('a', 6000);
    assert.equal(opened.length, 1);
    assert.deepEqual([opened[0].first, opened[0].last], [5000, 6000]);
  });

  test('does not count events window plus one millisecond apart as one window', () => {
    const { opened, hit } = setup({ windowMs: 1000, threshold: 2 });
    hit('a', 5000);
    hit('a', 6001);
    assert.equal(opened.length, 0);
    hit('a', 7001); // exactly window after the previous one
    assert.equal(opened.length, 1);
    assert.equal(opened[0].first, 6001);
  });

  test('keeps keys apart', () => {
    const { opened, hit } = setup({ threshold: 2 });
    hit('a', 0);
    hit('b', 1);
    hit('c', 2);
    assert.equal(opened.length, 0);
    hit('b', 3);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].key, 'b');
  });

  test('reports a null key for a host-wide rule', () => {
    const { opened, hit } = setup({ threshold: 2, key: null });
    hit('', 0);
    hit('', 1);
    assert.equal(opened[0].key, null);
    assert.equal(opened[0].keyField, null);
  });
});

describe('bursts and cooldown', () => {
  test('makes one incident of a burst whose count keeps growing', () => {
    const { opened, closed, w, hit } = setup({ windowMs: 400, threshold: 3, cooldownMs: 200 });
    for (let t = 0; t <= 10_000; t += 150) hit('a', t);
    assert.equal(opened.length, 1);
    assert.equal(closed.length, 0);
    w.flush();
    assert.equal(closed.length, 1);
    assert.equal(closed[0].count, 67);
    assert.equal(closed[0].first, 0);
    assert.equal(closed[0].last, 9900);
    assert.equal(closed[0].id, opened[0].id);
    assert.equal(w.stats.incidents, 1);
  });

  test('absorbs an event exactly cooldown after the last one, and opens no second incident', () => {
    const { opened, closed, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 500 });
    hit('a', 0);
    hit('a', 10);
    hit('a', 510);
    assert.equal(opened.length, 1);
    assert.equal(closed.length, 0);
  });

  test('opens a new incident only after the cooldown has passed without events', () => {
    const { opened, closed, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 500 });
    hit('a', 0);
    hit('a', 10); // incident 1
    hit('a', 511); // 501 ms after the last event: closes incident 1, starts counting again
    assert.equal(closed.length, 1);
    assert.equal(closed[0].count, 2);
    assert.equal(closed[0].last, 10);
    assert.equal(opened.length, 1);
    hit('a', 520);
    assert.equal(opened.length, 2);
    assert.deepEqual([opened[1].first, opened[1].count], [511, 2]);
    assert.notEqual(opened[1].id, opened[0].id);
  });
});

describe('out of order and clock steps', () => {
  test('counts an older event within the window and sets first to the minimum', () => {
    const { opened, w, hit } = setup({ windowMs: 100, threshold: 3 });
    hit('a', 50);
    hit('a', 100);
    hit('a', 20);
    assert.equal(opened.length, 1);
    assert.deepEqual([opened[0].first, opened[0].last, opened[0].count], [20, 100, 3]);
    assert.equal(opened[0].id, incidentId('r', 'a', 20));
    assert.equal(w.stats.clockSteps, 0);
  });

  test('lowers an open incident\'s first when a late event arrives within the cooldown', () => {
    const { closed, w, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 100 });
    hit('a', 200);
    hit('a', 210);
    hit('a', 150);
    w.flush();
    assert.deepEqual([closed[0].first, closed[0].last, closed[0].count], [150, 210, 3]);
  });

  test('a late event within the window does not split a burst into overlapping incidents when cooldown is shorter than window', () => {
    const { opened, closed, w, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 10 });
    hit('a', 80);
    hit('a', 100); // incident [80, 100]
    hit('a', 50); // late, but within the window of the newest hit: not a clock step
    hit('a', 101);
    assert.equal(w.stats.clockSteps, 0);
    assert.equal(opened.length, 1, `one incident, got ${JSON.stringify(opened.map((i) => [i.first, i.last]))}`);
    w.flush();
    assert.equal(closed.length, 1);
    assert.equal(closed[0].count, 4);
  });

  test('restarts a key on a clock step back beyond the window and counts it', () => {
    const { opened, w, hit } = setup({ windowMs: 100, threshold: 3 });
    hit('a', 10_000);
    hit('a', 10_050);
    hit('a', 5_000); // more than window before the newest hit
    assert.equal(w.stats.clockSteps, 1);
    assert.equal(opened.length, 0, 'the old hits do not count with the new one');
    hit('a', 5_010);
    assert.equal(opened.length, 0);
    hit('a', 5_020);
    assert.equal(opened.length, 1);
    assert.deepEqual([opened[0].first, opened[0].count], [5_000, 3]);
  });

  test('closes an open incident when the clock steps back beyond its cooldown', () => {
    const { opened, closed, w, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 100 });
    hit('a', 10_000);
    hit('a', 10_010);
    hit('a', 1_000);
    assert.equal(closed.length, 1);
    assert.equal(closed[0].count, 2);
    assert.equal(w.stats.clockSteps, 1);
    hit('a', 1_001);
    assert.equal(opened.length, 2);
  });
});

describe('memory bounds', () => {
  test('evicts the least recently hit key at the key cap and counts it', () => {
    const { opened, w, hit } = setup({ windowMs: 1_000_000, threshold: 3, limits: { ...BIG, maxKeysPerRule: 4 } });
    hit('a', 1);
    hit('b', 2);
    hit('c', 3);
    hit('d', 4);
    hit('a', 5); // a is now the most recent, b the stalest
    hit('e', 6);
    assert.equal(w.stats.evictedKeys, 1);
    assert.equal(w.size, 4);
    hit('b', 7); // b starts again from one hit
    hit('a', 8); // a kept its two hits
    assert.deepEqual(opened.map((i) => i.key), ['a']);
    hit('b', 9);
    assert.deepEqual(opened.map((i) => i.key), ['a'], 'b forgot its hit at 2');
  });

  test('closes the incident of an evicted key', () => {
    const { closed, w, hit } = setup({ windowMs: 1_000_000, threshold: 1, limits: { ...BIG, maxKeysPerRule: 2 } });
    hit('a', 1);
    hit('b', 2);
    hit('c', 3);
    assert.equal(w.stats.evictedKeys, 1);
    assert.deepEqual(closed.map((i) => i.key), ['a']);
  });

  test('keeps at most maxSamplesPerIncident samples, cut to maxSampleChars', () => {
    const limits = { maxKeysPerRule: 100, maxSamplesPerIncident: 3, maxValuesPerIncident: 100, maxSampleChars: 8 };
    const { closed, w, hit } = setup({ threshold: 2, limits });
    for (let i = 0; i < 10; i++) hit('a', i, { text: `sample text number ${i}` });
    w.flush();
    assert.equal(closed[0].count, 10);
    assert.equal(closed[0].samples.length, 3);
    assert.deepEqual(closed[0].samples.map((s) => s.text), ['sample t', 'sample t', 'sample t']);
    assert.deepEqual(closed[0].samples.map((s) => [s.line, s.time, s.source]), [[1, 0, 'auth.log'], [2, 1, 'auth.log'], [3, 2, 'auth.log']]);
  });

  test('keeps at most maxValuesPerIncident distinct users and hosts and sets truncated', () => {
    const limits = { maxKeysPerRule: 100, maxSamplesPerIncident: 100, maxValuesPerIncident: 4, maxSampleChars: 100 };
    const { closed, w, hit } = setup({ threshold: 2, limits });
    for (let i = 0; i < 10; i++) hit('a', i, { user: `u${i}`, host: `h${i % 2}` });
    w.flush();
    assert.deepEqual(closed[0].users, ['u0', 'u1', 'u2', 'u3']);
    assert.deepEqual(closed[0].hosts, ['h0', 'h1']);
    assert.deepEqual(closed[0].ips, ['a']);
    assert.equal(closed[0].truncated, true);
  });

  test('does not set truncated when the values fit, and never records null values', () => {
    const limits = { maxKeysPerRule: 100, maxSamplesPerIncident: 100, maxValuesPerIncident: 4, maxSampleChars: 100 };
    const { closed, w, hit } = setup({ threshold: 2, limits });
    for (let i = 0; i < 10; i++) hit('a', i, { user: i % 2 === 0 ? 'root' : null, host: null, ip: i % 3 === 0 ? null : '192.0.2.1' });
    w.flush();
    assert.deepEqual(closed[0].users, ['root']);
    assert.deepEqual(closed[0].hosts, []);
    assert.deepEqual(closed[0].ips, ['192.0.2.1']);
    assert.equal(closed[0].truncated, false);
  });
});

describe('expire and flush', () => {
  test('expire closes incidents and drops keys whose newest hit is beyond the horizon', () => {
    const { closed, w, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 300 });
    hit('a', 0);
    hit('a', 10); // incident for a
    hit('b', 50); // b: one hit, no incident
    hit('c', 900);
    assert.equal(w.size, 3);
    w.expire(1000); // horizon 300: a (newest 10) and b (50) are stale, c (900) is not
    assert.deepEqual(closed.map((i) => i.key), ['a']);
    assert.equal(w.size, 1);
    hit('c', 1001);
    assert.equal(w.size, 1, 'c kept its state');
  });

  test('expire keeps a key whose newest hit is exactly the horizon behind the watermark', () => {
    const { closed, w, hit } = setup({ windowMs: 100, threshold: 2, cooldownMs: 300 });
    hit('a', 0);
    hit('a', 10);
    w.expire(310);
    assert.equal(closed.length, 0);
    assert.equal(w.size, 1);
  });

  test('an expired key starts counting from zero', () => {
    const { opened, w, hit } = setup({ windowMs: 10_000, threshold: 3, cooldownMs: 10_000 });
    hit('a', 0);
    hit('a', 1);
    w.expire(100_000);
    assert.equal(w.size, 0);
    hit('a', 100_000);
    hit('a', 100_001);
    assert.equal(opened.length, 0);
  });

  test('flush closes every open incident and forgets every key', () => {
    const { opened, closed, w, hit } = setup({ threshold: 2 });
    for (const k of ['a', 'b', 'c']) {
      hit(k, 0);
      hit(k, 1);
    }
    hit('d', 2);
    assert.equal(opened.length, 3);
    w.flush();
    assert.deepEqual(closed.map((i) => i.key).sort(), ['a', 'b', 'c']);
    assert.equal(w.size, 0);
    w.flush();
    assert.equal(closed.length, 3, 'a second flush closes nothing');
  });
});

describe('incident ids', () => {
  test('are the same for the same input and differ for a different first time', () => {
    const run = (t0) => {
      const { opened, hit } = setup({ threshold: 2 });
      hit('203.0.113.9', t0);
      hit('203.0.113.9', t0 + 10);
      return opened[0].id;
    };
    assert.equal(run(1000), run(1000));
    assert.notEqual(run(1000), run(1001));
    assert.equal(run(1000), incidentId('r', '203.0.113.9', 1000));
    assert.match(run(1000), /^[0-9a-f]{16}$/);
  });

  test('depend on the rule and the key', () => {
    assert.notEqual(incidentId('r', 'a', 1), incidentId('r2', 'a', 1));
    assert.notEqual(incidentId('r', 'a', 1), incidentId('r', 'b', 1));
    assert.notEqual(incidentId('ra', '', 1), incidentId('r', 'a', 1));
  });
});


/**
 * The naive reference for in-order input: per key, the hits not yet in an incident; an
 * incident opens when `threshold` of them are within `window` ms and absorbs every event
 * within `cooldown` of its last event.
 */
function reference(events, { windowMs, threshold, cooldownMs }) {
  const opened = [];
  const closed = [];
  const keys = new Map();
  for (const { key, t } of events) {
    let st = keys.get(key);
    if (st === undefined) keys.set(key, (st = { hits: [], inc: null }));
    if (st.inc !== null) {
      if (t - st.inc.last <= cooldownMs) {
        st.inc.count++;
        st.inc.last = t;
        continue;
      }
      closed.push(st.inc);
      st.inc = null;
    }
    st.hits.push(t);
    const recent = st.hits.filter((h) => t - h <= windowMs);
    st.hits = recent;
    if (recent.length >= threshold) {
      st.inc = { key, first: recent[0], last: t, count: recent.length, firedAt: t };
      opened.push({ ...st.inc });
      st.hits = [];
    }
  }
  for (const st of keys.values()) if (st.inc !== null) closed.push(st.inc);
  return { opened, closed };
}

describe('model-based', () => {
  test('agrees with a naive reference on random in-order event sequences', () => {
    const rnd = prng(1);
    for (let run = 0; run < 300; run++) {
      const params = {
        windowMs: 1 + Math.floor(rnd() * 200),
        threshold: 1 + Math.floor(rnd() * 5),
        cooldownMs: Math.floor(rnd() * 300),
      };
      const nKeys = 1 + Math.floor(rnd() * 4);
      const events = [];
      let t = Math.floor(rnd() * 1000);
      const n = Math.floor(rnd() * 200);
      for (let i = 0; i < n; i++) {
        t += rnd() < 0.2 ? 0 : Math.floor(rnd() * rnd() * 150);
        events.push({ key: `k${Math.floor(rnd() * nKeys)}`, t });
      }
      const want = reference(events, params);
      const { w, opened, closed, hit } = setup(params);
      const expireToo = run % 2 === 1; // expire must not change what in-order input gives
      for (const e of events) {
        hit(e.key, e.t);
        if (expireToo) w.expire(e.t);
      }
      w.flush();
      const label = `run ${run} ${JSON.stringify(params)} ${JSON.stringify(events)}`;
      const sum = (i) => ({ key: i.key, first: i.first, last: i.last, count: i.count, firedAt: i.firedAt });
      assert.deepEqual(opened.map((i) => ({ key: i.key, first: i.first, count: i.count, firedAt: i.firedAt })),
        want.opened.map((i) => ({ key: i.key, first: i.first, count: i.count, firedAt: i.firedAt })), label);
      const order = (a, b) => a.first - b.first || a.key.localeCompare(b.key);
      assert.deepEqual(closed.map(sum).sort(order), want.closed.map(sum).sort(order), label);
      assert.equal(w.stats.incidents, want.opened.length);
      assert.equal(w.stats.clockSteps, 0);
    }
  });
});
