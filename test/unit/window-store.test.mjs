import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventRing, Ipv4Index, SlotStore, ipv4Number, ipv4String } from '../../dist/core/window-store.js';
import { RuleWindow, EVENT_RING } from '../../dist/core/window.js';
import { incidentId } from '../../dist/core/incident.js';
import { prng } from '../helpers/prng.mjs';

describe('the compact window store', () => {
  test('reads canonical dotted quads as numbers and refuses everything else', () => {
    assert.equal(ipv4Number('0.0.0.0'), 0);
    assert.equal(ipv4Number('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4Number('192.0.2.10'), 0xc000020a);
    for (const bad of ['192.0.2', '192.0.2.1.5', '192.0.2.256', '192.0.02.1', '1..2.3', '1.2.3.', '::1', 'root', '1.2.3.4 ', '']) {
      assert.equal(ipv4Number(bad), -1, bad);
    }
    assert.equal(ipv4String(ipv4Number('10.20.30.40')), '10.20.30.40');
  });

  test('keeps the IPv4 index equal to a Map through random inserts and deletes', () => {
    const rnd = prng(7);
    const idx = new Ipv4Index();
    const ref = new Map();
    for (let op = 0; op < 200_000; op++) {
      // A small key space makes long probe runs and many deletions inside them.
      const key = Math.floor(rnd() * 5000) * 2654435761 >>> 0;
      if (rnd() < 0.6) {
        idx.set(key, op);
        ref.set(key, op);
      } else {
        idx.delete(key);
        ref.delete(key);
      }
    }
    assert.equal(idx.size, ref.size);
    for (const [k, v] of ref) assert.equal(idx.get(k), v);
    let seen = 0;
    idx.forEach((k, v) => {
      seen++;
      assert.equal(ref.get(k), v);
    });
    assert.equal(seen, ref.size);
    assert.equal(idx.get(12345), -1);
  });

  test('reuses released slots and keeps each slot apart from its neighbours', () => {
    const st = new SlotStore(3);
    const a = st.alloc(10);
    const b = st.alloc(20);
    st.setCount(a, 2);
    st.timesOf(a).arr[st.timesOf(a).at + 2] = 7;
    assert.equal(st.count(b), 0);
    assert.equal(st.timesOf(b).arr[st.timesOf(b).at], 0);
    st.release(a);
    const c = st.alloc(30);
    assert.equal(c, a);
    assert.equal(st.count(c), 0);
    assert.equal(st.maxT(c), 30);
    assert.equal(st.inc(c), -1);
  });

  test('forgets events older than its capacity, but still links the newer ones', () => {
    const ring = new EventRing(4);
    let prev = -1;
    for (let i = 0; i < 6; i++) prev = ring.push(`e${i}`, prev);
    assert.equal(ring.get(prev), 'e5');
    assert.equal(ring.get(ring.prev(prev)), 'e4');
    assert.equal(ring.get(1), undefined);
    assert.equal(ring.get(2), 'e2');
  });
});

describe('rule windows with a million keys in mind', () => {
  const spec = (threshold) => ({ name: 'r', description: '', matchers: ['m'], key: 'ip', windowMs: 3_600_000, threshold, cooldownMs: 3_600_000, severity: 'high', origin: 'test' });
  const limits = { maxKeysPerRule: 1_000_000, maxSamplesPerIncident: 5, maxValuesPerIncident: 10, maxSampleChars: 100 };
  const ev = (ip, t, user) => ({ rule: 'r', matcher: 'm', source: 'f', line: t, time: t, ip, user, host: 'h', program: 'sshd', text: `t=${t} ${ip}` });

  test('still counts every event of a key whose first events left the ring, without their values', () => {
    const opened = [];
    const w = new RuleWindow({ spec: spec(3), index: 0 }, limits, { opened: (i) => opened.push(i), closed() {} });
    w.add('198.51.100.1', ev('198.51.100.1', 1000, 'alice'));
    // A flood of other keys pushes that first event out of the rule's event ring.
    for (let i = 0; i < EVENT_RING + 10; i++) w.add(`10.0.${i >> 8 & 255}.${i & 255}`, ev(`10.0.${i >> 8 & 255}.${i & 255}`, 2000, null));
    w.add('198.51.100.1', ev('198.51.100.1', 3000, 'bob'));
    w.add('198.51.100.1', ev('198.51.100.1', 4000, 'carol'));
    const inc = opened.find((i) => i.key === '198.51.100.1');
    assert.equal(inc.count, 3);
    assert.equal(inc.first, 1000);
    assert.equal(inc.last, 4000);
    assert.deepEqual(inc.users, ['bob', 'carol']);
    assert.deepEqual(inc.samples.map((s) => s.time), [3000, 4000]);
  });

  test('gives the same incidents for IPv4, IPv6 and name keys', () => {
    for (const key of ['203.0.113.9', '2001:db8::9', 'root']) {
      const opened = [];
      const w = new RuleWindow({ spec: spec(2), index: 0 }, limits, { opened: (i) => opened.push(i), closed() {} });
      w.add(key, ev(key, 5000, 'u1'));
      w.add(key, ev(key, 6000, 'u2'));
      assert.equal(opened.length, 1, key);
      assert.equal(opened[0].key, key);
      assert.deepEqual(opened[0].users, ['u1', 'u2']);
      assert.equal(w.size, 1);
    }
  });

  test('carries open windows and incidents through export and import', () => {
    const opened = [];
    const a = new RuleWindow({ spec: spec(3), index: 0 }, limits, { opened: (i) => opened.push(i), closed() {} });
    a.add('192.0.2.1', ev('192.0.2.1', 1000, 'x'));
    a.add('192.0.2.1', ev('192.0.2.1', 2000, 'y'));
    for (const t of [1000, 1500, 1700]) a.add('host-a', ev('192.0.2.2', t, 'z'));
    const snap = JSON.parse(JSON.stringify(a.exportState()));
    const reopened = [];
    const b = new RuleWindow({ spec: spec(3), index: 0 }, limits, { opened: (i) => reopened.push(i), closed() {} });
    b.importState(snap);
    assert.equal(b.size, 2);
    b.add('192.0.2.1', ev('192.0.2.1', 3000, 'w'));
    b.add('host-a', ev('192.0.2.2', 3000, 'z'));
    assert.equal(reopened.length, 1, 'the open incident of host-a is continued, not opened again');
    assert.equal(reopened[0].key, '192.0.2.1');
    assert.equal(reopened[0].first, 1000);
    assert.deepEqual(reopened[0].users, ['x', 'y', 'w']);
    assert.equal(reopened[0].id, incidentId('r', '192.0.2.1', 1000), 'the id is the one the first run would have given');
    assert.equal(opened.length, 1);
  });

  test('keeps only the most recent keys in a checkpoint under a flood of keys', () => {
    const w = new RuleWindow({ spec: spec(5), index: 0 }, limits, { opened() {}, closed() {} });
    for (let i = 0; i < 50; i++) w.add(`10.1.0.${i}`, ev(`10.1.0.${i}`, 1000 + i * 10, null));
    const snap = w.exportState(3);
    assert.deepEqual(snap.map((k) => k.key).sort(), ['10.1.0.47', '10.1.0.48', '10.1.0.49']);
    assert.equal(w.exportState().length, 50);
  });

  test('counts the incidents open now', () => {
    const w = new RuleWindow({ spec: { ...spec(2), cooldownMs: 10_000, windowMs: 10_000 }, index: 0 }, limits, { opened() {}, closed() {} });
    w.add('192.0.2.1', ev('192.0.2.1', 1000, null));
    w.add('192.0.2.1', ev('192.0.2.1', 2000, null));
    w.add('192.0.2.2', ev('192.0.2.2', 2000, null));
    w.add('192.0.2.2', ev('192.0.2.2', 3000, null));
    assert.equal(w.openIncidents, 2);
    w.expire(100_000);
    assert.equal(w.openIncidents, 0);
    w.add('192.0.2.3', ev('192.0.2.3', 100_000, null));
    w.add('192.0.2.3', ev('192.0.2.3', 100_001, null));
    assert.equal(w.openIncidents, 1, 'a freed slot is reused');
  });
});
