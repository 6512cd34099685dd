// The daemon's alerting sink keeps the sink contract: every incident that opens and every
// one that closes is in the incident journal, in delivery order, the closed record with
// the final count. It is built as the daemon builds it: a real IncidentJournal and a real
// AlertDispatcher with an Outbox, in a temp state directory, from a config loaded from a
// temp YAML. Its flush is the journal's sync before a checkpoint; its close is the
// daemon's stop closing the journal and the dispatcher. Then its own cases: each alert goes
// out once, and once only across a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../dist/config/load.js';
import { AlertDispatcher } from '../../dist/delivery/alerts.js';
import { Outbox } from '../../dist/delivery/outbox.js';
import { AlertSink } from '../../dist/runtime/alert-sink.js';
import { IncidentJournal, readJournal } from '../../dist/sinks/incident-journal.js';
import { fixedClock } from '../../dist/util/clock.js';
import { createLogger } from '../../dist/util/logger.js';
import { ROOT, tempDir } from '../helpers/cli.mjs';
import { AFTER_FLUSH, BEFORE_FLUSH, T0, feed, sinkContract } from './sink-contract.mjs';

const clock = fixedClock(T0 + 3_600_000);
const log = createLogger({ level: 'warn', destination: { write() {} } });

/** The config the daemon would load for `dir` (JSON is YAML); the alert stream goes there too. */
function configIn(dir) {
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, JSON.stringify({
    rules: { files: [path.join(ROOT, 'config', 'rules', '*.yaml')] },
    state: { dir: path.join(dir, 'state') },
    reports: { dir: path.join(dir, 'reports') },
    delivery: { alert_stream: path.join(dir, 'alerts.jsonl') },
    enrich: { enabled: false },
  }, null, 2));
  return loadConfig(file, { env: {} });
}

/** An AlertSink over a journal, dispatcher and outbox in dir/state, as the daemon starts one. */
function alertSink(dir) {
  const config = configIn(dir);
  const outbox = new Outbox({ dir: path.join(config.state.dir, 'outbox'), config, log, clock });
  const dispatcher = new AlertDispatcher(config, 'web1', outbox, log, clock, null);
  const journal = new IncidentJournal(config.state.dir);
  const sink = new AlertSink({ journal, dispatcher: () => dispatcher, log, clock, originOf: undefined, enrichLater: () => {} });
  return {
    sink, journal, outbox, stream: config.delivery.alertStream,
    flush: () => sink.sync(),
    close() {
      journal.close();
      dispatcher.close();
    },
  };
}

const journalFields = (r) => ({ type: r.type, id: r.id, rule: r.rule, key: r.key, count: r.count });

sinkContract('the alert sink', ({ dir }) => {
  const a = alertSink(dir);
  return {
    sink: a.sink,
    keeps: { events: null, incidents: 'log' },
    flush: a.flush,
    close: a.close,
    read: () => ({ incidents: readJournal(a.journal.file).map(journalFields) }),
  };
});

function scratchDir(t) {
  const dir = tempDir('logward-alerts-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const streamIds = (file) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).id);

test('the alert sink sends each incident that opens out once, through the alert stream and the outbox', (t) => {
  const a = alertSink(scratchDir(t));
  const f = feed([a.sink]);
  f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
  f.end();
  a.close();
  const opened = f.delivered.filter((d) => d.kind === 'opened').map((d) => d.value.id);
  assert.equal(opened.length, 4);
  assert.equal(a.sink.fired, 4);
  assert.deepEqual(streamIds(a.stream), opened);
  assert.equal(a.outbox.pendingCount(), 4, 'one alert mail each (severity high, under alerts_per_hour)');
});

test('the alert sink neither alerts nor journals again an incident its journal holds after a restart', (t) => {
  const dir = scratchDir(t);
  const first = alertSink(dir);
  const f = feed([first.sink]);
  f.lines(BEFORE_FLUSH);
  first.flush();
  first.close();
  const journaled = readJournal(first.journal.file).map(journalFields);
  assert.deepEqual(journaled.map((r) => r.type), ['opened', 'opened', 'opened']);
  // kill -9 before the checkpoint: the restart reads the same lines again, and the rest.
  const again = alertSink(dir);
  const g = feed([again.sink]);
  g.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
  g.end();
  again.close();
  assert.equal(again.sink.fired, 1, 'only the incident of the new lines');
  assert.equal(again.outbox.pendingCount(), 4);
  const records = readJournal(again.journal.file).map(journalFields);
  assert.deepEqual(records.slice(0, 3), journaled);
  assert.deepEqual(records.map((r) => r.type), ['opened', 'opened', 'opened', 'closed', 'closed', 'closed', 'opened', 'closed']);
  assert.equal(new Set(records.map((r) => `${r.type} ${r.id}`)).size, records.length, 'no record twice');
  assert.deepEqual(streamIds(again.stream), g.delivered.filter((d) => d.kind === 'opened').map((d) => d.value.id));
});
