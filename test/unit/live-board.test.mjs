import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOARD_INCIDENTS, BOARD_MINUTES, LiveBoard } from '../../dist/http/live-board.js';
import { AFTER_FLUSH, BEFORE_FLUSH, feed } from '../contract/sink-contract.mjs';

const T0 = Date.UTC(2025, 9, 14, 12, 0, 0);
const status = {
  sources: () => [{ source: '/var/log/auth.log', kind: 'file', lines: 10, parsed: 9, notParsed: 1, events: 4, lastLineAt: T0, lagBytes: 0 }],
  ruleEvents: () => ({ ssh_bruteforce: 4 }),
  incidents: () => ({ alerted: 1, open: 1 }),
  outboxDepth: () => 2,
  enrichCache: () => null,
  health: () => ({ ok: true, problems: [] }),
};

function ev(rule, time, ip = '203.0.113.1') {
  return { rule, matcher: 'm', source: 'auth.log', line: 1, time, ip, user: 'root', host: 'h', program: 'sshd', text: `line from ${ip}` };
}

function incident(n, { keyField = 'ip', key = `198.51.100.${n % 250}`, ips = [key], count = 5, rule = 'ssh_bruteforce' } = {}) {
  return {
    id: `id${n}`, rule, severity: 'high', key, keyField, first: T0 + n, last: T0 + n, firedAt: T0 + n, count,
    ips, users: ['root'], hosts: ['h'], truncated: false, samples: [{ source: 'auth.log', line: n, time: T0 + n, text: `sample ${n}` }], windowMs: 60_000, threshold: 5,
  };
}

test('keeps only the newest incidents, newest first, however many open', () => {
  const b = new LiveBoard('h', T0, (ip) => `origin of ${ip}`);
  for (let n = 0; n < BOARD_INCIDENTS * 3; n++) b.opened(incident(n));
  const v = b.view(status, T0);
  assert.equal(v.incidents.length, BOARD_INCIDENTS);
  assert.equal(v.incidents[0].id, `id${BOARD_INCIDENTS * 3 - 1}`);
  assert.equal(v.incidents[0].origin, `origin of 198.51.100.${(BOARD_INCIDENTS * 3 - 1) % 250}`);
});

test('shows each open incident as the detector holds it now, host-wide ones too, and its final count once closed', () => {
  // The real pipeline: by_ip (threshold 3), by_user (4) and host_wide (5, no key) over the same lines.
  let f = null;
  const b = new LiveBoard('h', T0, undefined, (rule, key) => f.detector.openIncident(rule, key));
  f = feed([b]);
  const shown = () => b.view(status, T0).incidents.map((i) => [i.rule, i.open, i.count]);
  f.lines(BEFORE_FLUSH);
  assert.deepEqual(shown(), [['host_wide', true, 5], ['by_user', true, 4], ['by_ip', true, 4]], 'by_ip opened at 3 and grew by one');
  f.lines(AFTER_FLUSH.slice(0, 1)); // root from 203.0.113.7 once more
  assert.deepEqual(shown(), [['host_wide', true, 6], ['by_user', true, 5], ['by_ip', true, 5]], 'every open incident grew, the host-wide one too');
  const hostWide = b.view(status, T0).incidents[0];
  assert.equal(hostWide.key, null);
  assert.equal(hostWide.last, T0 + 7000, 'the time of its newest event');
  assert.deepEqual([hostWide.ips, hostWide.users], [['203.0.113.7', '198.51.100.2'], ['root', 'admin']]);
  f.lines(AFTER_FLUSH.slice(1));
  f.end();
  // The first by_ip incident stays at 5 though its address failed again after it closed.
  assert.deepEqual(shown(), [['by_ip', false, 3], ['host_wide', false, 6], ['by_user', false, 5], ['by_ip', false, 5]]);
});

test('shows an incident the detector no longer holds open as closed, with its last known counts', () => {
  const b = new LiveBoard('h', T0, undefined, (rule, key) => (key === '198.51.100.1' ? { ...incident(1, { key }), count: 8 } : null));
  b.opened(incident(1, { key: '198.51.100.1' }));
  b.opened(incident(2, { key: '198.51.100.2' })); // e.g. its rule left the configuration on a reload
  assert.deepEqual(b.view(status, T0).incidents.map((i) => [i.key, i.open, i.count]), [['198.51.100.2', false, 5], ['198.51.100.1', true, 8]]);
});

test('draws the last hour of event time per rule and forgets older minutes', () => {
  const b = new LiveBoard('h', T0);
  for (let m = 0; m < 200; m++) b.event(ev('ssh_bruteforce', T0 + m * 60_000 + 5));
  b.event(ev('ssh_bruteforce', T0 + 199 * 60_000 + 30_000));
  b.event(ev('ssh_bruteforce', T0)); // far older than the hour drawn: not counted
  const v = b.view(status, T0);
  assert.equal(v.minutes.length, BOARD_MINUTES);
  assert.equal(v.minutes.at(-1), T0 + 199 * 60_000);
  assert.deepEqual(v.series.ssh_bruteforce, [...Array(BOARD_MINUTES - 1).fill(1), 2]);
});

test('ranks offenders from incidents keyed by address only, with their origin', () => {
  const b = new LiveBoard('h', T0, (ip) => (ip === '203.0.113.5' ? 'NL (AS1)' : null));
  b.opened(incident(1, { key: '203.0.113.5', count: 5 }));
  b.opened(incident(2, { key: '203.0.113.5', count: 7, rule: 'web_scan' }));
  b.opened(incident(3, { key: '203.0.113.6', count: 50 }));
  b.opened(incident(4, { keyField: null, key: null, ips: ['203.0.113.7', '203.0.113.8'], count: 500, rule: 'failed_logins' }));
  const v = b.view(status, T0);
  assert.deepEqual(v.offenders.map((o) => [o.ip, o.incidents, o.events, o.rules.join(',')]), [
    ['203.0.113.5', 2, 12, 'ssh_bruteforce,web_scan'],
    ['203.0.113.6', 1, 50, 'ssh_bruteforce'],
  ]);
  assert.equal(v.offenders[0].origin, 'NL (AS1)');
  assert.equal(v.incidents[0].origin, null, 'a host-wide incident has no single origin');
  assert.deepEqual(v.totals, { lines: 10, notParsed: 1, events: 4, alerted: 1, open: 1, outbox: 2 });
  assert.equal(v.sources[0].state, 'ok');
});

test('tells each subscriber of a change until it unsubscribes', () => {
  const b = new LiveBoard('h', T0);
  let calls = 0;
  const off = b.subscribe(() => calls++);
  b.event(ev('r', T0));
  b.opened(incident(1));
  off();
  b.event(ev('r', T0));
  assert.equal(calls, 2);
});
