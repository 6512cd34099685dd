import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RuleWindow } from '../../dist/core/window.js';
import { incidentId } from '../../dist/core/incident.js';

const LIMITS = { maxKeysPerRule: 1000, maxSamplesPerIncident: 3, maxValuesPerIncident: 4, maxSampleChars: 20 };
const S = 1000;

function makeWindow({ window = 300, threshold = 3, cooldown = window, limits = LIMITS } = {}) {
  const opened = [];
  const closed = [];
  const spec = { name: 'r', description: '', matchers: ['m'], key: 'ip', windowMs: window * S, threshold, cooldownMs: cooldown * S, severity: 'high', origin: 'test' };
  const w = new RuleWindow({ spec, index: 0 }, limits, { opened: (i) => opened.push(i), closed: (i) => closed.push(i) });
  let line = 0;
  const hit = (t, ip = '192.0.2.1', extra = {}) => w.add(ip, { rule: 'r', matcher: 'm', source: 'f', line: ++line, time: t * S, ip, user: extra.user ?? null, host: 'h', program: 'sshd', text: extra.text ?? `line ${line}` });
  return { w, opened, closed, hit };
}

describe('rule windows', () => {
  test('fire when threshold events fall within the window, and not before', () => {
    const { opened, hit } = makeWindow();
    hit(0);
    hit(100);
    assert.equal(opened.length, 0);
    hit(200);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].count, 3);
    assert.equal(opened[0].first, 0);
    assert.equal(opened[0].firedAt, 200 * S);
  });

  test('count events exactly window seconds apart as within the window', () => {
    const { opened, hit } = makeWindow({ window: 300, threshold: 2 });
    hit(0);
    hit(300);
    assert.equal(opened.length, 1);
  });

  test('do not count events one millisecond more than the window apart', () => {
    const { w, opened } = makeWindow({ window: 300, threshold: 2 });
    const ev = (ms, line) => ({ rule: 'r', matcher: 'm', source: 'f', line, time: ms, ip: 'a', user: null, host: null, program: null, text: '' });
    w.add('a', ev(0, 1));
    w.add('a', ev(300_001, 2));
    assert.equal(opened.length, 0);
  });

  test('make one incident of a burst, however long, until the cooldown passes', () => {
    const { opened, closed, hit } = makeWindow({ window: 60, threshold: 3, cooldown: 120 });
    for (let t = 0; t < 3600; t += 30) hit(t);
    assert.equal(opened.length, 1);
    assert.equal(closed.length, 0);
    hit(3570 + 121); // more than the cooldown after the last event
    assert.equal(closed.length, 1);
    assert.equal(closed[0].count, 120);
    assert.equal(closed[0].last, 3570 * S);
  });

  test('open a new incident for the same key only after the cooldown', () => {
    const { opened, hit } = makeWindow({ window: 60, threshold: 2, cooldown: 100 });
    hit(0);
    hit(10); // incident 1
    hit(105); // within cooldown of the last event (10): joins incident 1
    hit(300);
    hit(310); // after the cooldown: incident 2
    assert.equal(opened.length, 2);
    assert.equal(opened[1].first, 300 * S);
  });

  test('keys are independent', () => {
    const { opened, hit } = makeWindow({ threshold: 2 });
    hit(0, '192.0.2.1');
    hit(1, '192.0.2.2');
    assert.equal(opened.length, 0);
    hit(2, '192.0.2.1');
    assert.equal(opened.length, 1);
    assert.equal(opened[0].key, '192.0.2.1');
  });

  test('count an out-of-order event within the window and take it as the first', () => {
    const { opened, hit } = makeWindow({ window: 300, threshold: 3 });
    hit(100);
    hit(200);
    hit(50); // older than the newest, still within 300 s of it
    assert.equal(opened.length, 1);
    assert.equal(opened[0].first, 50 * S);
    assert.equal(opened[0].samples[0].line, 3);
  });

  test('restart a key after a clock step back of more than the window, and count it', () => {
    const { w, opened, hit } = makeWindow({ window: 300, threshold: 3 });
    hit(10_000);
    hit(10_010);
    hit(100); // the clock stepped back by hours
    hit(110);
    assert.equal(opened.length, 0);
    assert.equal(w.stats.clockSteps, 1);
    hit(120);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].first, 100 * S);
  });

  test('bound samples and distinct values, flagging truncation, while counting exactly', () => {
    const { closed, w, hit } = makeWindow({ threshold: 1 });
    for (let i = 0; i < 10; i++) hit(i, '192.0.2.1', { user: `u${i}`, text: 'x'.repeat(100) });
    w.flush();
    assert.equal(closed[0].count, 10);
    assert.equal(closed[0].users.length, 4);
    assert.equal(closed[0].truncated, true);
    assert.equal(closed[0].samples.length, 3);
    assert.equal(closed[0].samples[0].text.length, 20);
  });

  test('evict the stalest keys at the cap and count them', () => {
    const { w, hit } = makeWindow({ threshold: 5, limits: { ...LIMITS, maxKeysPerRule: 16 } });
    for (let i = 0; i < 16; i++) hit(i, `k${i}`);
    hit(100, 'k0'); // k0 is now the freshest
    hit(101, 'new');
    assert.equal(w.stats.evictedKeys, 2); // an eighth of 16, the stalest: k1 and k2
    assert.ok(w.size <= 16);
    hit(102, 'k0');
    hit(103, 'k0');
    hit(104, 'k0');
    hit(105, 'k0'); // k0 kept its earlier hits: 5 in the window
    assert.equal(w.stats.incidents, 1);
  });

  test('close incidents and forget keys that nothing can extend once the watermark passes', () => {
    const { w, closed, hit } = makeWindow({ window: 60, threshold: 2, cooldown: 60 });
    hit(0, 'a');
    hit(1, 'a');
    hit(2, 'b');
    w.expire(1000 * S);
    assert.equal(closed.length, 1);
    assert.equal(w.size, 0);
  });

  test('give the same incident id to the same rule, key and first time', () => {
    assert.equal(incidentId('r', 'k', 5), incidentId('r', 'k', 5));
    assert.notEqual(incidentId('r', 'k', 5), incidentId('r', 'k', 6));
    assert.match(incidentId('r', 'k', 5), /^[0-9a-f]{16}$/);
  });
});
