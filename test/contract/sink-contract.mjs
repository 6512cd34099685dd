// The contract every sink of the detection pipeline keeps (DESIGN.md style 6): what the
// pipeline delivers (events, incidents as they open and as they close) is recorded in the
// order it was delivered; nothing handed to the sink before a flush is lost by that flush
// or the close that follows; a close after a flush, and a second close, are harmless; an
// incident that opened and then closed is recorded with its final count. Each sink runs
// sinkContract, then adds its own cases in its own file. The input is real: syslog lines
// fed through the real Pipeline and Detector, so the events and incidents are the ones a
// scan or the daemon would deliver. It never waits on timers or the wall clock.
//
// makeSink({ dir }) (dir: a fresh directory, removed after the test) returns an adapter:
//   sink      the object the pipeline is given
//   keeps     what it keeps, so the contract knows what to expect back:
//             events:    'each'        every event, in delivery order
//                        'per-minute'  counts per rule and event-time minute
//                        null          none
//             incidents: 'log'         every opened and closed, in delivery order
//                        'latest'      one per incident, in the order they opened, as last delivered
//                        null          none
//   flush()   what its driver does to make what it holds durable (a no-op for one that holds nothing)
//   close()   what its driver does at the end of a scan or at a stop
//   read()    what it recorded, read back from where it keeps it (its file, its view), as
//             { events, incidents } in the shapes of eventFields / incidentFields below
// sinkContract(name, makeSink, { keepsIncidents }): keepsIncidents false for a sink that
// records events only (the final-count case is then not registered)
// in the output without failing the suite until the sink is fixed.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { compileRuleSet } from '../../dist/core/rules.js';
import { Pipeline } from '../../dist/runtime/pipeline.js';
import { tempDir } from '../helpers/cli.mjs';

const LIMITS = { maxKeysPerRule: 1000, maxSamplesPerIncident: 10, maxValuesPerIncident: 10, maxSampleChars: 500 };
export const TIME = { timeZone: 'UTC', year: 2025, refMs: 0 };
export const LABEL = '/var/log/auth.log';
/** Start of the minute of the first line below (event time). */
export const T0 = Date.UTC(2025, 9, 14, 12, 0, 0);

const failed = (time, pid, user, ip) => `Oct 14 ${time} web1 sshd[${pid}]: Failed password for ${user} from ${ip} port ${pid} ssh2`;

/**
 * Up to the flush: by_ip opens for 203.0.113.7 (at 3 events), by_user for root (at 4) and
 * the host-wide rule (at 5). A line no rule matches sits among them.
 */
export const BEFORE_FLUSH = [
  failed('12:00:01', 101, 'root', '203.0.113.7'),
  failed('12:00:02', 102, 'root', '203.0.113.7'),
  'Oct 14 12:00:03 web1 sshd[103]: Accepted password for alice from 192.0.2.10 port 103 ssh2',
  failed('12:00:04', 104, 'invalid user admin', '198.51.100.2'),
  failed('12:00:05', 105, 'root', '203.0.113.7'),
  failed('12:00:06', 106, 'root', '203.0.113.7'),
];

/**
 * After it: the incidents grow (by_ip and by_user to 5, host_wide to 6), close when the next
 * burst comes after their cooldown, and that burst opens a second by_ip incident, which the
 * end of input closes.
 */
export const AFTER_FLUSH = [
  failed('12:00:07', 107, 'root', '203.0.113.7'),
  failed('12:03:00', 108, 'root', '203.0.113.7'),
  failed('12:03:01', 109, 'root', '203.0.113.7'),
  failed('12:03:02', 110, 'root', '203.0.113.7'),
  failed('12:03:03', 111, 'invalid user admin', '198.51.100.2'),
];

/** Three rules fed by one matcher, so one line is three events, in rule order; one is host-wide (no key). */
export function ruleset() {
  const matcher = {
    name: 'ssh_failed', description: '', formats: null, programs: ['sshd'], excludePrograms: [], statuses: null, requireFields: [],
    prefilter: null, caseInsensitive: false, ignore: [], origin: 'test/contract',
    patterns: [{ regex: '^Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>\\S+)', emit: true, set: [], requires: [], minUsers: 0, clear: false }],
    maxSeverity: null, context: null,
  };
  const rule = (name, key, threshold) => ({
    name, description: '', matchers: ['ssh_failed'], key, windowMs: 60_000, threshold, cooldownMs: 60_000, severity: 'high', origin: 'test/contract',
  });
  const { ruleset: rs, problems } = compileRuleSet({ matchers: [matcher], rules: [rule('by_ip', 'ip', 3), rule('by_user', 'user', 4), rule('host_wide', null, 5)], limits: LIMITS });
  assert.deepEqual(problems, []);
  return rs;
}

/**
 * A real Pipeline over `sinks`, with a first sink that records every delivery as
 * { kind, value }. Lines go in through lines(); end() is the end of input (every open
 * incident closes). A sink that throws fails the test here: the pipeline would hide it.
 */
export function feed(sinks, { label = LABEL, startLine } = {}) {
  const delivered = [];
  const recorder = {
    name: 'recorder',
    event: (value) => delivered.push({ kind: 'event', value }),
    opened: (value) => delivered.push({ kind: 'opened', value }),
    closed: (value) => delivered.push({ kind: 'closed', value }),
  };
  const errors = [];
  const pipeline = new Pipeline(ruleset(), [recorder, ...sinks], (sink, what, err) => errors.push({ sink, what, err }));
  const src = pipeline.detector.source({ label, format: 'syslog', time: TIME, startLine });
  const noErrors = () => assert.deepEqual(errors, [], 'no sink threw');
  return {
    delivered,
    /** The pipeline's detector, for a sink that reads incidents' current state from it. */
    detector: pipeline.detector,
    lines(ls) {
      for (const l of ls) src.line(l);
      src.settle();
      noErrors();
    },
    end() {
      src.end();
      pipeline.detector.flush();
      noErrors();
    },
  };
}

/** The events of `lines` as the pipeline delivers them (for a sink's own cases). */
export function detectedEvents(lines, opts) {
  const f = feed([], opts);
  f.lines(lines);
  f.end();
  return f.delivered.filter((d) => d.kind === 'event').map((d) => d.value);
}

/** What of an event every sink that keeps events can give back. */
export function eventFields(ev) {
  return { rule: ev.rule, source: ev.source, line: ev.line, time: ev.time, ip: ev.ip, user: ev.user, host: ev.host, program: ev.program };
}

/** What of an incident every sink that keeps incidents can give back. */
export function incidentFields(i) {
  return { id: i.id, rule: i.rule, key: i.key, count: i.count };
}

/** Per rule and minute of event time, the number of events, as sorted [rule, minute, n]. */
export function perMinute(events) {
  const counts = new Map();
  for (const ev of events) {
    const k = `${ev.rule}\u0000${Math.floor(ev.time / 60_000) * 60_000}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => [k.split('\u0000')[0], Number(k.split('\u0000')[1]), n]).sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
}

/** What a sink that keeps `keeps` should give back after the deliveries `delivered`. */
export function expected(delivered, keeps) {
  const out = {};
  const events = delivered.filter((d) => d.kind === 'event').map((d) => d.value);
  if (keeps.events === 'each') out.events = events.map(eventFields);
  else if (keeps.events === 'per-minute') out.events = perMinute(events);
  const incidents = delivered.filter((d) => d.kind === 'opened' || d.kind === 'closed');
  if (keeps.incidents === 'log') {
    out.incidents = incidents.map((d) => ({ type: d.kind, ...incidentFields(d.value) }));
  } else if (keeps.incidents === 'latest') {
    const latest = new Map();
    for (const d of incidents) latest.set(d.value.id, incidentFields(d.value));
    out.incidents = [...latest.values()];
  }
  return out;
}

/** A sink in a fresh directory; closed (if the test did not) and removed after the test. */
function scratch(t, makeSink) {
  const dir = tempDir('logward-sink-');
  const adapter = makeSink({ dir });
  let closed = false;
  t.after(() => {
    if (!closed) {
      try { adapter.close(); } catch { /* the test already failed */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    sink: adapter.sink,
    keeps: adapter.keeps,
    flush: () => adapter.flush(),
    close: () => {
      closed = true;
      adapter.close();
    },
    read: () => adapter.read(),
  };
}

function assertRecorded(s, delivered) {
  assert.deepEqual(s.read(), expected(delivered, s.keeps));
}

/** The fixture delivers what the cases rely on: otherwise an empty read would pass them. */
function assertFixture(delivered) {
  const kinds = delivered.map((d) => d.kind);
  assert.equal(kinds.filter((k) => k === 'event').length, 30, 'ten failed logins, three rules each');
  assert.deepEqual(kinds.filter((k) => k === 'opened' || k === 'closed'), ['opened', 'opened', 'opened', 'closed', 'closed', 'closed', 'opened', 'closed']);
}

export function sinkContract(name, makeSink, { keepsIncidents = true } = {}) {
  describe(`${name} keeps the sink contract`, () => {
    test('records events, opened and closed incidents in the order the pipeline delivers them', (t) => {
      const s = scratch(t, makeSink);
      const f = feed([s.sink]);
      f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
      f.end();
      s.close();
      assertFixture(f.delivered);
      assertRecorded(s, f.delivered);
    });

    test('loses nothing delivered before a flush to the flush or to the close that follows', (t) => {
      const s = scratch(t, makeSink);
      const f = feed([s.sink]);
      f.lines(BEFORE_FLUSH);
      assert.ok(f.delivered.some((d) => d.kind === 'event') && f.delivered.some((d) => d.kind === 'opened'), 'events and an opened incident come before the flush');
      s.flush();
      f.lines(AFTER_FLUSH);
      f.end();
      s.close();
      assertFixture(f.delivered);
      assertRecorded(s, f.delivered);
    });

    test('a close right after a flush throws nothing and keeps all that was delivered', (t) => {
      const s = scratch(t, makeSink);
      const f = feed([s.sink]);
      f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
      f.end();
      s.flush();
      assert.doesNotThrow(() => s.close());
      assertRecorded(s, f.delivered);
    });

    test('a second close throws nothing and changes nothing recorded', (t) => {
      const s = scratch(t, makeSink);
      const f = feed([s.sink]);
      f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
      f.end();
      s.flush();
      s.close();
      const first = s.read();
      assert.doesNotThrow(() => s.close());
      assert.deepEqual(s.read(), first);
      assertRecorded(s, f.delivered);
    });

    // Only for sinks that keep incidents (the events files keep events only): not registered otherwise.
    if (keepsIncidents) test('an incident that opened and then closed is recorded with its final count', (t) => {
      const s = scratch(t, makeSink);
      const f = feed([s.sink]);
      f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
      f.end();
      s.close();
      const opened = f.delivered.filter((d) => d.kind === 'opened').map((d) => d.value);
      const final = new Map(f.delivered.filter((d) => d.kind === 'closed').map((d) => [d.value.id, d.value.count]));
      assert.deepEqual(opened.map((i) => [i.rule, i.count, final.get(i.id)]), [['by_ip', 3, 5], ['by_user', 4, 5], ['host_wide', 5, 6], ['by_ip', 3, 3]], 'the fixture: each closed, most having grown since they opened');
      const got = s.read().incidents;
      for (const i of opened) {
        const mine = got.filter((r) => r.id === i.id);
        if (s.keeps.incidents === 'log') assert.deepEqual(mine.map((r) => [r.type, r.count]), [['opened', i.count], ['closed', final.get(i.id)]], `${i.rule} ${i.key}`);
        else assert.deepEqual(mine.map((r) => r.count), [final.get(i.id)], `${i.rule} ${i.key}`);
      }
    });
  });
}
