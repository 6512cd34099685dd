// The dashboard's LiveBoard keeps the sink contract as far as it keeps things: events as
// counts per rule and minute of event time, incidents once each as last delivered (it lists
// them newest first; read back oldest first), each closed one with its final count. It is
// memory only: nothing to flush or close. Read back through view(), as the dashboard does.
// The daemon hands it to the pipeline behind a wrapper named "dashboard"; here it is given
// as it is (the last case also hands it the detector's open incidents, as the daemon does).
// Its own cases (bounds, live counts of every kind of key) are in test/unit/live-board.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveBoard } from '../../dist/http/live-board.js';
import { AFTER_FLUSH, BEFORE_FLUSH, T0, feed, incidentFields, sinkContract } from './sink-contract.mjs';

const status = {
  sources: () => [],
  ruleEvents: () => ({}),
  incidents: () => ({ alerted: 0, open: 0 }),
  outboxDepth: () => 0,
  enrichCache: () => null,
  health: () => ({ ok: true, problems: [] }),
};
const NOW = T0 + 3_600_000;

/** The board's chart as sorted [rule, minute, n] for the minutes that had events. */
function chart(view) {
  const out = [];
  for (const [rule, counts] of Object.entries(view.series)) counts.forEach((n, k) => { if (n > 0) out.push([rule, view.minutes[k], n]); });
  return out.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
}

sinkContract('the live board', () => {
  const b = new LiveBoard('web1', T0);
  return {
    sink: b,
    keeps: { events: 'per-minute', incidents: 'latest' },
    flush() {},
    close() {},
    read() {
      const v = b.view(status, NOW);
      return { events: chart(v), incidents: [...v.incidents].reverse().map(incidentFields) };
    },
  };
});

test('the live board shows an incident open until it closes, then closed with its final count', () => {
  // As the daemon builds it: open incidents are read from the detector when a picture is drawn.
  let f = null;
  const b = new LiveBoard('web1', T0, undefined, (rule, key) => f.detector.openIncident(rule, key));
  f = feed([b]);
  f.lines(BEFORE_FLUSH);
  const shown = () => b.view(status, NOW).incidents.map((i) => [i.rule, i.open, i.count]);
  // by_ip opened at 3 and has one more event since; host_wide opened with the last line.
  assert.deepEqual(shown(), [['host_wide', true, 5], ['by_user', true, 4], ['by_ip', true, 4]]);
  f.lines(AFTER_FLUSH);
  f.end();
  assert.deepEqual(shown(), [['by_ip', false, 3], ['host_wide', false, 6], ['by_user', false, 5], ['by_ip', false, 5]]);
});
