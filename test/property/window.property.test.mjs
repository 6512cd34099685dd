// RuleWindow (window.ts + window-store.ts) against a naive model: per key an array of hit
// times, the open incident as a plain object, keys in a Map. The model follows window.ts's
// documented choices: a window is inclusive; an event older than the key's newest joins the
// window if within `window` of it, and one more than `window` older restarts the key's
// window (a clock step); an event inside an open incident's burst (from `horizon` before its
// first to `cooldown` after its last) joins it; at the key cap the stalest eighth is evicted
// (ties: the first keys in store order); expire() sweeps on its documented schedule.
// String keys only: IPv4 keys live in a hash table whose walk order the model cannot know.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RuleWindow } from '../../dist/core/window.js';
import { fc, params } from './fc-params.mjs';

const KEYS = ['alice', 'bob', 'carol', 'dave', 'eve', 'k:6', 'host-7', 'x', 'y', 'z', '::1x', 'w', 'v', 'u', 't', 's', 'r'];
const VALUES = [null, 'a', 'b', 'c'];

class Model {
  constructor(spec, limits, listener) {
    this.spec = spec;
    this.limits = limits;
    this.listener = listener;
    this.horizon = Math.max(spec.windowMs, spec.cooldownMs);
    this.keys = new Map();
    this.sinceSweep = 0;
    this.sweptAt = -Infinity;
    this.stats = { evictedKeys: 0, clockSteps: 0, incidents: 0 };
  }

  add(key, ev) {
    const { windowMs, cooldownMs, threshold } = this.spec;
    const t = ev.time;
    this.sinceSweep++;
    let k = this.keys.get(key);
    if (k === undefined) {
      if (this.keys.size >= this.limits.maxKeysPerRule) this.evict();
      k = { maxT: t, hits: [], inc: null };
      this.keys.set(key, k);
    }
    if (k.inc !== null) {
      if (t >= k.inc.first - this.horizon && t <= k.inc.last + cooldownMs) {
        this.absorb(k.inc, ev);
        k.maxT = Math.max(k.maxT, t);
        return;
      }
      this.close(k);
    }
    if (t < k.maxT - windowMs) {
      this.stats.clockSteps++;
      k.hits = [];
      k.maxT = t;
    }
    k.maxT = Math.max(k.maxT, t);
    let i = k.hits.length;
    while (i > 0 && k.hits[i - 1].time > t) i--;
    k.hits.splice(i, 0, ev);
    k.hits = k.hits.filter((h) => k.maxT - h.time <= windowMs);
    if (k.hits.length >= threshold) this.fire(key, k, t);
  }

  fire(key, k, t) {
    const first = k.hits[0].time;
    const inc = {
      id: createHash('sha256').update(`${this.spec.name}\n${key}\n${first}`).digest('hex').slice(0, 16),
      key, first, last: k.hits[k.hits.length - 1].time, firedAt: t, count: 0,
      ips: [], users: [], hosts: [], truncated: false, samples: [],
    };
    for (const ev of k.hits) this.absorb(inc, ev);
    k.hits = [];
    k.inc = inc;
    this.stats.incidents++;
    this.listener('opened', this.snapshot(inc));
  }

  absorb(inc, ev) {
    inc.count++;
    inc.first = Math.min(inc.first, ev.time);
    inc.last = Math.max(inc.last, ev.time);
    for (const [list, v] of [[inc.ips, ev.ip], [inc.users, ev.user], [inc.hosts, ev.host]]) {
      if (v === null || list.includes(v)) continue;
      if (list.length >= this.limits.maxValuesPerIncident) inc.truncated = true;
      else list.push(v);
    }
    if (inc.samples.length < this.limits.maxSamplesPerIncident) {
      inc.samples.push({ source: ev.source, line: ev.line, time: ev.time, text: ev.text.slice(0, this.limits.maxSampleChars) });
    }
  }

  close(k) {
    const inc = k.inc;
    k.inc = null;
    this.listener('closed', this.snapshot(inc));
  }

  newest(k) {
    return k.inc === null ? k.maxT : Math.max(k.maxT, k.inc.last);
  }

  remove(key) {
    const k = this.keys.get(key);
    if (k.inc !== null) this.close(k);
    this.keys.delete(key);
  }

  evict() {
    const n = this.keys.size;
    const sorted = [...this.keys.values()].map((k) => this.newest(k)).sort((a, b) => a - b);
    const cut = sorted[Math.max(0, Math.floor(n / 8) - 1)];
    const want = Math.max(1, Math.floor(n / 8));
    const victims = [...this.keys].filter(([, k]) => this.newest(k) <= cut).slice(0, want).map(([key]) => key);
    for (const key of victims) this.remove(key);
    this.stats.evictedKeys += victims.length;
  }

  expire(watermark) {
    const size = this.keys.size;
    if (size === 0) return;
    if (!(this.sinceSweep >= size || (size <= 10_000 && watermark - this.sweptAt >= this.horizon))) return;
    this.sinceSweep = 0;
    this.sweptAt = watermark;
    for (const [key, k] of [...this.keys]) if (this.newest(k) + this.horizon < watermark) this.remove(key);
  }

  flush() {
    for (const k of this.keys.values()) if (k.inc !== null) this.close(k);
    this.keys.clear();
  }

  exportState() {
    const max = Math.min(this.limits.maxSampleChars, 300);
    return [...this.keys].map(([key, k]) => ({
      key,
      maxT: k.maxT,
      hits: k.hits.map((e) => [e.time, e.source, e.line, e.ip, e.user, e.host, e.text.slice(0, max)]),
      incident: k.inc === null ? null : {
        id: k.inc.id, first: k.inc.first, last: k.inc.last, firedAt: k.inc.firedAt, count: k.inc.count,
        ips: [...k.inc.ips], users: [...k.inc.users], hosts: [...k.inc.hosts], truncated: k.inc.truncated, samples: k.inc.samples.slice(),
      },
    }));
  }

  snapshot(inc) {
    const s = this.spec;
    return {
      id: inc.id, rule: s.name, severity: s.severity, key: s.key === null ? null : inc.key, keyField: s.key,
      first: inc.first, last: inc.last, firedAt: inc.firedAt, count: inc.count,
      ips: [...inc.ips], users: [...inc.users], hosts: [...inc.hosts], truncated: inc.truncated,
      samples: inc.samples.map((x) => ({ ...x })), windowMs: s.windowMs, threshold: s.threshold,
    };
  }
}

const settings = fc.record({
  // Multiples of 50 as often as not, so events land exactly on window and cooldown edges.
  windowMs: fc.oneof(fc.integer({ min: 1, max: 30 }).map((n) => n * 50), fc.integer({ min: 1, max: 1500 })),
  cooldownMs: fc.oneof(fc.integer({ min: 0, max: 40 }).map((n) => n * 50), fc.integer({ min: 0, max: 2000 })),
  threshold: fc.integer({ min: 1, max: 4 }),
  key: fc.constantFrom('user', null),
  base: fc.constantFrom(0, 1_700_000_000_000),
  limits: fc.record({
    maxKeysPerRule: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 8, max: 16 })),
    maxSamplesPerIncident: fc.integer({ min: 0, max: 4 }),
    maxValuesPerIncident: fc.integer({ min: 1, max: 3 }),
    maxSampleChars: fc.integer({ min: 1, max: 12 }),
  }),
});

/** Time moves by small steps back and forth, repeats itself, and now and then jumps. */
const step = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -8, max: 12 }).map((n) => n * 50) },
  { weight: 2, arbitrary: fc.integer({ min: -400, max: 600 }) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -5000, max: 5000 }) },
  { weight: 1, arbitrary: fc.constantFrom(86_400_000, 5_000_000_000, -3_000_000_000) },
);
const op = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant('add'), key: fc.oneof(fc.nat({ max: 2 }), fc.nat({ max: KEYS.length - 1 })), step, ip: fc.constantFrom(...VALUES), user: fc.constantFrom(...VALUES), host: fc.constantFrom(...VALUES), text: fc.string({ maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('expire'), ahead: fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 200 }).map((n) => n * 50), fc.integer({ min: -1000, max: 10_000 })) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' }) },
);

function makeWindow(s, calls) {
  const spec = { name: 'prop_rule', description: '', matchers: ['m'], key: s.key, windowMs: s.windowMs, threshold: s.threshold, cooldownMs: s.cooldownMs, severity: 'high', origin: 'test' };
  const w = new RuleWindow({ spec, index: 0 }, s.limits, { opened: (i) => calls.push(['opened', i]), closed: (i) => calls.push(['closed', i]) });
  return { w, spec };
}

/** Replays ops on both; times are base plus the running sum of steps. */
function replay(ops, s, targets) {
  let t = s.base;
  let newest = -Infinity;
  let line = 0;
  for (const o of ops) {
    if (o.op === 'add') {
      t += o.step;
      newest = Math.max(newest, t);
      line++;
      const ev = { rule: 'prop_rule', matcher: 'm', source: 'auth.log', line, time: t, ip: o.ip, user: o.user, host: o.host, program: 'sshd', text: `${line} ${o.text}` };
      for (const x of targets) x.add(KEYS[o.key], { ...ev });
    } else if (o.op === 'expire') {
      if (newest !== -Infinity) for (const x of targets) x.expire(newest + o.ahead);
    } else {
      for (const x of targets) x.flush();
    }
  }
}

test('a rule window opens and closes the same incidents as a naive model, for any order of event times', () => {
  fc.assert(fc.property(settings, fc.array(op, { minLength: 5, maxLength: 150, size: 'medium' }), (s, ops) => {
    const real = [];
    const model = [];
    const { w, spec } = makeWindow(s, real);
    const m = new Model(spec, s.limits, (kind, inc) => model.push([kind, inc]));
    replay(ops, s, [w, m]);
    assert.deepEqual(real, model);
    assert.deepEqual(w.exportState(), m.exportState());
    assert.deepEqual({ ...w.stats }, m.stats);
    assert.equal(w.size, m.keys.size);
    assert.equal(w.openIncidents, [...m.keys.values()].filter((k) => k.inc !== null).length);
    w.flush();
    m.flush();
    assert.deepEqual(real, model);
  }), params(300));
});

test('a window restored from exportState() behaves like the one it was exported from', () => {
  const adds = fc.array(op.filter((o) => o.op === 'add'), { maxLength: 80, size: 'medium' });
  fc.assert(fc.property(settings, fc.array(op, { maxLength: 80, size: 'medium' }), adds, (s, before, after) => {
    // Texts cut in checkpoints (300 characters) must not differ from what incidents keep.
    const first = [];
    const { w } = makeWindow(s, first);
    replay(before, s, [w]);
    const snap = JSON.parse(JSON.stringify(w.exportState()));
    const restoredCalls = [];
    const { w: restored } = makeWindow(s, restoredCalls);
    restored.importState(snap);
    assert.deepEqual(restored.exportState(), snap);
    const from = first.length;
    const t0 = before.filter((o) => o.op === 'add').reduce((a, o) => a + o.step, s.base);
    replay(after, { ...s, base: t0 }, [w, restored]);
    w.flush();
    restored.flush();
    assert.deepEqual(restoredCalls, first.slice(from));
  }), params(200));
});
