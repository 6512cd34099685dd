// The pipeline's side of the sink contract: fanOut calls every sink in the order given, a
// sink that throws never stops the sinks after it from hearing of each event, opened and
// closed incident and unmatched line, and onSinkError hears of every failure with the
// failing sink's name. Real lines through the real Pipeline and Detector; the sinks are
// recorders, one that throws on every call, and a real ReportCollector.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../dist/runtime/pipeline.js';
import { ReportCollector } from '../../dist/sinks/collector.js';
import { AFTER_FLUSH, BEFORE_FLUSH, LABEL, TIME, eventFields, expected, incidentFields, ruleset } from './sink-contract.mjs';

const KINDS = ['event', 'opened', 'closed', 'unmatched'];

/** Lines no rule matches, among the attack: the detector samples one in 16 as unmatched. */
const QUIET = Array.from({ length: 40 }, (_, n) => `Oct 14 12:01:${String(n).padStart(2, '0')} web1 CRON[${900 + n}]: (root) CMD (run-parts /etc/cron.hourly)`);
const LINES = [...BEFORE_FLUSH, ...QUIET, ...AFTER_FLUSH];

/** A sink that records every call in `log` as { sink, kind, value }. */
function recorder(name, log = []) {
  const sink = { name, log };
  for (const kind of KINDS) {
    sink[kind] = kind === 'unmatched' ? (source, message) => log.push({ sink: name, kind, value: `${source} ${message}` }) : (value) => log.push({ sink: name, kind, value });
  }
  return sink;
}

/** A sink that notes each call in `log`, then throws; `thrown` keeps what it threw. */
function broken(name, log = []) {
  const thrown = [];
  const sink = { name, thrown };
  for (const kind of KINDS) {
    sink[kind] = () => {
      log.push({ sink: name, kind });
      const err = new Error(`${name} fails on ${kind}`);
      thrown.push(err);
      throw err;
    };
  }
  return sink;
}

/** Runs LINES through a Pipeline over `sinks`; returns what onSinkError heard. */
function run(sinks) {
  const errors = [];
  const pipeline = new Pipeline(ruleset(), sinks, (sink, what, err) => errors.push({ sink, what, err }));
  const src = pipeline.detector.source({ label: LABEL, format: 'syslog', time: TIME });
  for (const l of LINES) src.line(l);
  src.end();
  pipeline.detector.flush();
  return errors;
}

/** What a lone sink hears of LINES: the reference the others are held to. */
function reference() {
  const alone = recorder('alone');
  assert.deepEqual(run([alone]), []);
  const kinds = new Set(alone.log.map((d) => d.kind));
  assert.deepEqual(KINDS.filter((k) => !kinds.has(k)), [], 'the lines give every kind of delivery');
  return alone.log.map(({ kind, value }) => ({ kind, value }));
}

/** A log without the sink names, with events and incidents as the fields sinks keep. */
const comparable = (log) => log.map(({ kind, value }) => ({ kind, value: kind === 'event' ? eventFields(value) : kind === 'unmatched' ? value : incidentFields(value) }));

test('a sink that throws on every call does not stop the sinks after it from receiving every event, opened and closed incident and unmatched line', () => {
  const ref = reference();
  const before = recorder('before');
  const after = recorder('after');
  const collector = new ReportCollector(1000);
  run([before, broken('broken'), after, collector]);
  assert.deepEqual(comparable(before.log), comparable(ref));
  assert.deepEqual(comparable(after.log), comparable(ref));
  const keeps = { events: 'each', incidents: 'latest' };
  assert.deepEqual({ events: collector.events.map(eventFields), incidents: [...collector.incidents.values()].map(incidentFields) }, expected(ref, keeps));
});

test('onSinkError hears of each failure once, with the failing sink\'s name, what it was given and the error it threw', () => {
  const ref = reference();
  const bad = broken('events file');
  const worse = broken('alerts');
  const errors = run([recorder('report'), bad, worse]);
  const expectedErrors = ref.flatMap(({ kind }) => [['events file', kind], ['alerts', kind]]);
  assert.deepEqual(errors.map((e) => [e.sink, e.what]), expectedErrors);
  assert.deepEqual(errors.filter((e) => e.sink === 'events file').map((e) => e.err), bad.thrown);
  assert.deepEqual(errors.filter((e) => e.sink === 'alerts').map((e) => e.err), worse.thrown);
});

test('the pipeline calls the sinks in the order they were given at every delivery, a failing one included', () => {
  const ref = reference();
  const log = [];
  const order = ['report', 'events file', 'dashboard', 'alerts'];
  run([recorder('report', log), broken('events file', log), recorder('dashboard', log), recorder('alerts', log)]);
  assert.equal(log.length, ref.length * order.length);
  for (let k = 0; k < ref.length; k++) {
    const round = log.slice(k * order.length, (k + 1) * order.length);
    assert.deepEqual(round.map((c) => c.sink), order, `delivery ${k + 1} (${ref[k].kind})`);
    assert.deepEqual(new Set(round.map((c) => c.kind)), new Set([ref[k].kind]));
  }
});

test('the pipeline calls a sink only for what it implements', () => {
  const ref = reference();
  const seen = [];
  const closedOnly = { name: 'digest', closed: (i) => seen.push(['closed', i.id]) };
  const unmatchedOnly = { name: 'coverage', unmatched: (source, message) => seen.push(['unmatched', source, message]) };
  assert.deepEqual(run([closedOnly, unmatchedOnly]), []);
  const want = ref.filter((d) => d.kind === 'closed' || d.kind === 'unmatched')
    .map((d) => (d.kind === 'closed' ? ['closed', d.value.id] : ['unmatched', ...splitUnmatched(d.value)]));
  assert.deepEqual(seen, want);
});

/** The reference recorder joins source and message with a space; the label has none. */
function splitUnmatched(v) {
  const at = v.indexOf(' ');
  return [v.slice(0, at), v.slice(at + 1)];
}
