// Damaged state never blinds: a real state file (left by `logward run --once` on a real
// log, with file positions, open windows and incidents, coverage and an alert-mail rate)
// is mutated one field at a time, at every path of the document: a wrong type, a negative
// number, the field missing, null, a huge number, a huge string, an empty object.
// In-process, every mutation goes through the state check: it never throws, each problem
// names the mutated field, and what it keeps still works (the restored detector alerts on
// a fresh burst, the rate limiter and coverage take new data). Spawned, a sample of the
// mutations runs the real `logward run --once`: it exits 0, logs one warning naming the
// field when something was dropped (the file as read is kept aside), and alerts on a
// fresh burst from a new address.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkState } from '../../dist/runtime/state-check.js';
import { loadConfig, rulesOf } from '../../dist/config/load.js';
import { Detector } from '../../dist/core/detector.js';
import { AlertDispatcher } from '../../dist/delivery/alerts.js';
import { Coverage } from '../../dist/digest/coverage.js';
import { fixedClock } from '../../dist/util/clock.js';
import { alertedOn, baseState, freshBurst, runOnce, stateWarnings } from '../helpers/state-fixture.mjs';
import { fc, params } from './fc-params.mjs';

const KINDS = ['wrong type', 'negative', 'missing', 'null', 'huge number', 'huge string', 'empty object'];
const HUGE_STRING = 'x'.repeat(100_000);

let bases = [];
let config;
let paths;

before(async () => {
  // Two directories, so the spawned cases run two at a time on the machine's two cores.
  bases = await Promise.all([baseState(), baseState()]);
  config = loadConfig(path.join(bases[0].dir, 'logward.yaml'));
  paths = [...walk(bases[0].doc, [], '', false)];
});
after(() => {
  for (const b of bases) fs.rmSync(b.dir, { recursive: true, force: true });
});

// Entries of these objects are keyed by data (a path, a rule name, a shape): `["key"]`.
const MAPS = [/^files$/, /^journal$/, /^windows\.rules$/, /^coverage\.sources$/, /\.shapes$/];
// Fields that may be null in a state file.
const NULLABLE = [/^eventsBytes$/, /^eventsFile$/, /^windows$/, /^windows\.watermark$/, /\]\.incident$/, /^coverage$/, /^rate$/, /^lastDigest$/, /\.lastGrowth$/, /\.hits\[\d+\]\[[345]\]$/, /^rate\.folded\[\d+\]\.(key|keyField)$/];

/** Every path below the root: { segs (for mutating), at (as the state check names it), value, inMap, inList }. */
function* walk(v, segs, at, isMap) {
  if (v === null || typeof v !== 'object') return;
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    const childAt = Array.isArray(v) ? `${at}[${k}]` : isMap ? `${at}[${JSON.stringify(k)}]` : at === '' ? k : `${at}.${k}`;
    const childIsMap = !Array.isArray(x) && MAPS.some((re) => re.test(childAt));
    yield { segs: [...segs, k], at: childAt, value: x, inMap: isMap, inList: Array.isArray(v) };
    yield* walk(x, [...segs, k], childAt, childIsMap);
  }
}

function wrongType(v) {
  if (typeof v === 'number') return '7';
  if (typeof v === 'string') return 7;
  if (typeof v === 'boolean') return 'true';
  if (v === null) return [];
  return Array.isArray(v) ? 'a list' : 'an object';
}

/** The document with one mutation; `missing` deletes the field (or removes the list element). */
function mutate(doc, p, kind) {
  const out = structuredClone(doc);
  let parent = out;
  for (const s of p.segs.slice(0, -1)) parent = parent[s];
  const last = p.segs.at(-1);
  if (kind === 'missing') {
    if (Array.isArray(parent)) parent.splice(last, 1);
    else delete parent[last];
    return out;
  }
  parent[last] = {
    'wrong type': wrongType(p.value), negative: -1, null: null, 'huge number': 1e17, 'huge string': HUGE_STRING, 'empty object': {},
  }[kind];
  return out;
}

/** Does a problem (`path: why`) name the field at `at`: the field itself, a field inside it, the entry holding it, or it by name? */
function names(problem, at) {
  const where = problem.slice(0, problem.indexOf(': '));
  const inside = (a, b) => a === b || (a.startsWith(b) && (a[b.length] === '.' || a[b.length] === '['));
  return inside(where, at) || inside(at, where) || problem.slice(where.length).includes(at);
}

/** Must the state check refuse this mutation, whatever else it accepts? */
function mustFlag(p, kind) {
  if (kind === 'wrong type' || kind === 'negative') return true;
  const leaf = p.value === null || typeof p.value !== 'object';
  if (kind === 'empty object') return leaf || (!Array.isArray(p.value) && !MAPS.some((re) => re.test(p.at)) && Object.keys(p.value).length > 0);
  if (kind === 'null') return !NULLABLE.some((re) => re.test(p.at));
  // Optional: parts older versions did not write (a position's `before`, the events file's identity).
  if (kind === 'missing') return !p.inMap && !p.inList && !['journal', 'eventsBytes', 'eventsFile', 'windows', 'coverage', 'rate', 'lastDigest'].includes(p.at) && !/\.before$/.test(p.at);
  return false;
}

/** What the checked state restores still works: a fresh burst alerts on both rules, the limiter and coverage take data. */
function assertUsable(state, n) {
  const opened = [];
  const detector = new Detector(rulesOf(config), { event() {}, opened: (i) => opened.push(i), closed() {} });
  if (state.windows !== null) detector.importState(state.windows);
  const src = detector.source({ label: 'app.log', format: 'syslog', time: { timeZone: 'UTC', year: 2025, refMs: Date.now() } });
  const { ip, text } = freshBurst(n);
  for (const line of text.split('\n').filter((l) => l !== '')) src.line(line);
  src.end();
  assert.ok(opened.some((i) => i.rule === 'ssh_bruteforce' && i.key === ip), 'the keyed rule alerts on the fresh burst');
  assert.ok(opened.some((i) => i.rule === 'failed_logins' && i.first === Date.parse('2025-10-14T14:00:01Z')), 'the host-wide rule alerts on the fresh burst');
  const queue = { enqueue: () => 'queued' };
  const log = { error() {}, warn() {}, info() {}, debug() {} };
  const d = new AlertDispatcher(config, 'host1', queue, log, fixedClock(Date.now()), state.rate ?? null);
  d.alert(opened[0], { id: opened[0].id });
  d.tick();
  JSON.stringify(d.state());
  const c = new Coverage(Date.now(), state.coverage ?? null);
  c.observe('app.log', 'file', { lines: 4, unparsed: 0, parsed: 4, events: 4, matchedLines: 4 }, Date.now());
  c.unmatched('app.log', 'file', 'a message no rule matched');
  JSON.stringify(c.snapshot());
}

function checkOne(p, kind, n) {
  const doc = mutate(bases[0].doc, p, kind);
  const text = JSON.stringify(doc);
  const r = checkState(JSON.parse(text), Date.now());
  const what = `${kind} at ${p.at}`;
  for (const problem of r.problems.first) assert.ok(names(problem, p.at), `${what}: the problem "${problem.slice(0, 300)}" names the field`);
  if (mustFlag(p, kind)) assert.ok(r.problems.count > 0, `${what} is refused`);
  assert.deepEqual(JSON.parse(JSON.stringify(r.state)), r.state, `${what}: the checked state is plain JSON`);
  assertUsable(r.state, n);
  return r;
}

test('the state check accepts the real state file whole', () => {
  const r = checkState(bases[0].doc, Date.now());
  assert.deepEqual(r.problems.first, []);
  assert.deepEqual(r.state, bases[0].doc);
  assert.ok(paths.length > 100, `${paths.length} paths`);
  for (const want of ['files', 'windows.watermark', 'windows.rules["failed_logins"][0].incident.last', 'windows.rules["ssh_bruteforce"][2].hits[0][0]', 'coverage.sources', 'rate.sent[0]', 'rate.folded[0].first', 'lastDigest']) {
    assert.ok(paths.some((p) => p.at === want || p.at.startsWith(`${want}[`)), `the document has ${want}`);
  }
});

test('every mutation of every field is checked on its own, and what is kept still alerts (in-process)', () => {
  let n = 0;
  let refused = 0;
  for (const p of paths) {
    for (const kind of KINDS) {
      if (checkOne(p, kind, n++).problems.count > 0) refused++;
    }
  }
  assert.ok(refused > paths.length * 3, `${refused} of ${n} mutations refused`);
});

test('any JSON value at any path is checked without throwing, and what is kept still alerts (in-process)', () => {
  fc.assert(fc.property(fc.nat(), fc.jsonValue({ maxDepth: 3 }), (i, value) => {
    const p = paths[i % paths.length];
    const doc = structuredClone(bases[0].doc);
    let parent = doc;
    for (const s of p.segs.slice(0, -1)) parent = parent[s];
    parent[p.segs.at(-1)] = value;
    const r = checkState(JSON.parse(JSON.stringify(doc)), Date.now());
    for (const problem of r.problems.first) assert.ok(names(problem, p.at), `${p.at}: "${problem.slice(0, 300)}"`);
    assertUsable(r.state, i);
  }), params(400));
});

test('logward run starts, names the damaged field once and alerts on a fresh burst, for any one mutation (spawned)', async () => {
  const cases = fc.sample(fc.record({ p: fc.constantFrom(...paths), kind: fc.constantFrom(...KINDS) }), params(30));
  const lane = async (base, list, offset) => {
    // The same path in this directory's document (its keys name its own log file).
    const own = [...walk(base.doc, [], '', false)];
    for (const [j, c] of list.entries()) {
      const { kind } = c;
      const p = own[paths.indexOf(c.p)];
      assert.equal(p.at.replaceAll(base.dir, bases[0].dir), c.p.at);
      base.restore();
      const text = JSON.stringify(mutate(base.doc, p, kind));
      fs.writeFileSync(base.stateFile, text);
      const expected = checkState(JSON.parse(text), Date.now());
      const { ip, text: burst } = freshBurst(1000 + offset + j);
      fs.appendFileSync(base.log, burst);
      const r = await runOnce(base.dir);
      const what = `${kind} at ${p.at}`;
      assert.equal(r.code, 0, `${what}: exit 0\n${r.stdout.slice(-3000)}${r.stderr}`);
      const warnings = stateWarnings(r.lines);
      if (expected.problems.count > 0) {
        assert.equal(warnings.length, 1, `${what}: one warning`);
        assert.ok(warnings[0].problems.some((pr) => names(pr, p.at)), `${what}: the warning names the field: ${JSON.stringify(warnings[0].problems).slice(0, 500)}`);
        assert.equal(fs.readFileSync(warnings[0].keptAt, 'utf8'), text, `${what}: the file as read is kept aside`);
      } else {
        assert.equal(warnings.length, 0, `${what}: no warning`);
      }
      const alerted = alertedOn(r.lines, ip);
      assert.ok(alerted.keyed && alerted.hostWide, `${what}: alerts on the fresh burst ${JSON.stringify(alerted)}\n${r.stdout.slice(-3000)}`);
    }
  };
  const half = Math.ceil(cases.length / 2);
  await Promise.all([lane(bases[0], cases.slice(0, half), 0), lane(bases[1], cases.slice(half), half)]);
});
