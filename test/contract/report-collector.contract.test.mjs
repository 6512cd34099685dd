// The report collector (scan's and the daemon's report) keeps the sink contract: every
// event in order, and each incident once, as last delivered. It holds everything in
// memory, so flush and close have nothing to do. It is given to the pipeline as it is:
// scan hands it to the Detector directly, without a name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportCollector } from '../../dist/sinks/collector.js';
import { AFTER_FLUSH, BEFORE_FLUSH, eventFields, feed, incidentFields, sinkContract } from './sink-contract.mjs';

function collector(maxEvents = 1000) {
  return () => {
    const c = new ReportCollector(maxEvents);
    return {
      sink: c,
      keeps: { events: 'each', incidents: 'latest' },
      flush() {},
      close() {},
      read: () => ({ events: c.events.map(eventFields), incidents: [...c.incidents.values()].map(incidentFields) }),
    };
  };
}

sinkContract('the report collector', collector());

test('the report collector keeps the first max_events events and still counts the rest', () => {
  const c = new ReportCollector(3);
  const f = feed([c]);
  f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
  f.end();
  const events = f.delivered.filter((d) => d.kind === 'event').map((d) => d.value);
  assert.deepEqual(c.events.map(eventFields), events.slice(0, 3).map(eventFields));
  assert.equal(c.eventsTotal, events.length);
  assert.equal(c.summaries().get('by_ip').events, events.filter((e) => e.rule === 'by_ip').length);
});

test('the report collector lists incidents by the time of their first event, with their final counts', () => {
  const c = new ReportCollector(1000);
  const f = feed([c]);
  f.lines([...BEFORE_FLUSH, ...AFTER_FLUSH]);
  f.end();
  const sorted = c.sortedIncidents();
  assert.deepEqual(sorted.map((i) => i.first), [...sorted.map((i) => i.first)].sort((a, b) => a - b));
  assert.deepEqual(sorted.map(incidentFields).map((i) => [i.rule, i.count]), [['by_ip', 5], ['by_user', 5], ['host_wide', 6], ['by_ip', 3]]);
});

test('a report written while incidents are open shows them as they stand, and the next one those that grew since', () => {
  // As the daemon does: a flush swaps the collector behind the sink the pipeline holds.
  let c = new ReportCollector(1000);
  const f = feed([{ name: 'report', event: (e) => c.event(e), opened: (i) => c.opened(i), closed: (i) => c.closed(i) }]);
  f.lines([...BEFORE_FLUSH, AFTER_FLUSH[0]]);
  const told = () => c.sortedIncidents().map((i) => [i.rule, i.count]);
  assert.deepEqual(told(), [['by_ip', 3], ['by_user', 4], ['host_wide', 5]], 'as they were told when they opened');
  let open = f.detector.openIncidents();
  c.refresh(open);
  assert.deepEqual(told(), [['by_ip', 5], ['by_user', 5], ['host_wide', 6]], 'as they stand at the flush');
  assert.equal(c.sortedIncidents().find((i) => i.rule === 'host_wide').last, Date.UTC(2025, 9, 14, 12, 0, 7));
  c = new ReportCollector(1000, open);
  c.refresh(f.detector.openIncidents());
  assert.deepEqual(told(), [], 'nothing grew since the last report');
  open = f.detector.openIncidents();
  c = new ReportCollector(1000, open);
  // admin from 198.51.100.2 again: only the host-wide incident grows.
  f.lines(['Oct 14 12:00:08 web1 sshd[112]: Failed password for invalid user admin from 198.51.100.2 port 112 ssh2']);
  c.refresh(f.detector.openIncidents());
  assert.deepEqual(told(), [['host_wide', 7]]);
});
