// The parts that read back what logward wrote, on damaged input: the problem list and its
// paths, the `.damaged-<time>` copy, the snapshot check's time bounds, a restored window
// that was full, the journal record check, and a state store that only reads.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Problems, entry, field, item } from '../../dist/util/check.js';
import { damagedName, keepAside } from '../../dist/util/keep-aside.js';
import { checkDetectorSnapshot } from '../../dist/core/snapshot-check.js';
import { RuleWindow } from '../../dist/core/window.js';
import { checkRecord } from '../../dist/sinks/journal-record.js';
import { IncidentJournal } from '../../dist/sinks/incident-journal.js';
import { StateStore } from '../../dist/runtime/state.js';
import { fixedClock } from '../../dist/util/clock.js';
import { tempDir } from '../helpers/cli.mjs';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const T = Date.parse('2025-10-14T12:00:00Z');

describe('problems', () => {
  test('name a field by its path and stay bounded under a flood', () => {
    assert.equal(field(entry('files', '/var/log/auth.log'), 'offset'), 'files["/var/log/auth.log"].offset');
    assert.equal(item(field('rate', 'sent'), 3), 'rate.sent[3]');
    assert.ok(entry('x', 'k'.repeat(1000)).length < 140, 'a long key is cut');
    const p = new Problems(3);
    for (let i = 0; i < 10; i++) p.add(item('rate.sent', i), 'not a time');
    assert.equal(p.count, 10);
    assert.equal(p.first.length, 3);
    assert.equal(p.summary(), 'rate.sent[0]: not a time, and 9 more');
  });
});

describe('keepAside', () => {
  test('writes the bytes as read to <file>.damaged-<time>, never over an earlier copy', () => {
    const dir = tempDir();
    const file = path.join(dir, 'logward-state.json');
    assert.equal(damagedName(file, NOW), `${file}.damaged-2026-01-01T00:00:00.000Z`);
    const a = keepAside(file, Buffer.from([0x7b, 0xff, 0x00]), NOW);
    const b = keepAside(file, 'second', NOW);
    assert.equal(a.kept, damagedName(file, NOW));
    assert.equal(b.kept, `${damagedName(file, NOW)}_2`);
    assert.deepEqual([...fs.readFileSync(a.kept)], [0x7b, 0xff, 0x00]);
    assert.equal(fs.statSync(a.kept).mode & 0o777, 0o640);
  });

  test('reports, never throws, when the copy cannot be written', () => {
    const r = keepAside(path.join(tempDir(), 'missing-dir', 'logward-state.json'), 'x', NOW);
    assert.equal(r.kept, null);
    assert.match(r.error, /ENOENT/);
  });
});

function key(k, maxT, o = {}) {
  return { key: k, maxT, hits: [], incident: null, ...o };
}

function incident(first, last, o = {}) {
  return { id: 'a771e8bd255307ab', first, last, firedAt: first, count: 3, ips: ['10.9.9.9'], users: ['root'], hosts: ['h'], truncated: false, samples: [], ...o };
}

describe('checkDetectorSnapshot', () => {
  test('drops what lies past the watermark: a key, an incident, a hit past its key', () => {
    const p = new Problems();
    const snap = checkDetectorSnapshot({
      watermark: T,
      rules: {
        r: [
          key('10.0.0.1', T + 1),
          key('10.0.0.2', T, { incident: incident(T - 5000, T + 3_600_000) }),
          key('10.0.0.3', T - 1000, { hits: [[T, 'f', 1, null, null, null, 'x'], [T - 2000, 'f', 2, null, null, null, 'y']] }),
          key('10.0.0.4', T, { incident: incident(T - 5000, T) }),
        ],
      },
    }, 'windows', NOW, p);
    assert.deepEqual(p.first, [
      'windows.rules["r"][0].maxT: after windows.watermark',
      'windows.rules["r"][1].incident.last: after windows.watermark',
      'windows.rules["r"][2].hits[0][0]: after windows.rules["r"][2].maxT',
    ]);
    assert.deepEqual(snap.rules.r.map((k) => [k.key, k.incident !== null, k.hits.length]), [['10.0.0.2', false, 0], ['10.0.0.3', false, 1], ['10.0.0.4', true, 0]]);
  });

  test('a watermark in the future is dropped; the times are then held to now', () => {
    const p = new Problems();
    const snap = checkDetectorSnapshot({ watermark: NOW + 10 * 86_400_000, rules: { r: [key('a', T), key('b', NOW + 1)] } }, 'windows', NOW, p);
    assert.deepEqual(p.first, ['windows.watermark: after now', 'windows.rules["r"][1].maxT: after now']);
    assert.equal(snap.watermark, null);
    assert.deepEqual(snap.rules.r.map((k) => k.key), ['a']);
  });

  test('keeps a sample list without its bad samples, and a string list without its bad values', () => {
    const p = new Problems();
    const snap = checkDetectorSnapshot({
      watermark: T,
      rules: { r: [key('a', T, { incident: incident(T, T, { users: ['root', 7], samples: [{ source: 'f', line: 1, time: T, text: 'x' }, { source: 'f', line: -1, time: T, text: 'y' }] }) })] },
    }, 'windows', NOW, p);
    assert.deepEqual(p.first, ['windows.rules["r"][0].incident.users[1]: not a string', 'windows.rules["r"][0].incident.samples[1].line: not a non-negative integer']);
    assert.deepEqual(snap.rules.r[0].incident.users, ['root']);
    assert.equal(snap.rules.r[0].incident.samples.length, 1);
  });
});

describe('a restored window that was full', () => {
  const spec = (threshold) => ({ name: 'r', description: '', matchers: ['m'], key: 'ip', windowMs: 3_600_000, threshold, cooldownMs: 3_600_000, severity: 'high', origin: 'test' });
  const limits = { maxKeysPerRule: 1000, maxSamplesPerIncident: 5, maxValuesPerIncident: 10, maxSampleChars: 100 };
  const hit = (t) => [t, 'f', 1, '10.0.0.1', null, null, 'x'];

  test('holds at most threshold-1 hits, so the next event fires without touching the next key', () => {
    // A snapshot of threshold 4 read by a run whose threshold is 3 (or a damaged one).
    const snap = [
      key('10.0.0.1', T + 3000, { hits: [hit(T), hit(T + 1000), hit(T + 2000), hit(T + 3000)] }),
      key('10.0.0.2', T + 3000, { hits: [hit(T + 500), hit(T + 3000)] }),
    ];
    const opened = [];
    const w = new RuleWindow({ spec: spec(3), index: 0 }, limits, { opened: (i) => opened.push(i), closed() {} });
    w.importState(snap);
    const before = w.exportState().find((k) => k.key === '10.0.0.2');
    assert.equal(w.exportState().find((k) => k.key === '10.0.0.1').hits.length, 2);
    w.add('10.0.0.1', { rule: 'r', matcher: 'm', source: 'f', line: 9, time: T + 4000, ip: '10.0.0.1', user: null, host: null, program: null, text: 'y' });
    assert.equal(opened.length, 1);
    assert.equal(opened[0].count, 3);
    assert.equal(opened[0].first, T + 2000);
    assert.deepEqual(w.exportState().find((k) => k.key === '10.0.0.2'), before, 'the next key is untouched');
  });
});

describe('checkRecord', () => {
  const good = {
    type: 'opened', at: '2026-01-01T00:00:00.000Z', id: 'a771e8bd255307ab', rule: 'failed_logins', severity: 'high', time: '2025-10-14T12:00:01Z',
    first: '2025-10-14T12:00:01Z', last: '2025-10-14T12:00:03Z', count: 3, key_field: null, key: null, ips: ['10.9.9.9'], users: ['root'], hosts: ['h'],
  };

  test('passes a record the journal wrote', () => {
    const p = new Problems();
    assert.deepEqual(checkRecord(good, 'line 1', p), good);
    assert.equal(p.count, 0);
  });

  for (const [name, value, why] of [
    ['type', 'fired', 'not opened or closed'], ['id', '', 'empty'], ['id', 7, 'not a string'], ['at', 'yesterday', 'not a time'], ['at', undefined, 'missing'],
    ['rule', null, 'not a string'], ['severity', 3, 'not a string'], ['count', -1, 'not a non-negative integer'], ['count', '3', 'not a non-negative integer'],
    ['first', 'soon', 'not a time'], ['last', 1e15, 'not a string'], ['key_field', 5, 'not a string or null'], ['key', {}, 'not a string or null'],
    ['ips', '10.9.9.9', 'not a list'], ['users', [1], null], ['hosts', undefined, 'missing'],
  ]) {
    test(`refuses ${name}: ${JSON.stringify(value)}`, () => {
      const p = new Problems();
      const rec = { ...good, [name]: value };
      if (value === undefined) delete rec[name];
      assert.equal(checkRecord(rec, 'line 4', p), null);
      assert.deepEqual(p.first, [why === null ? `line 4.${name}[0]: not a string` : `line 4.${name}: ${why}`]);
    });
  }
});

describe('the incident journal at load', () => {
  test('drops a line that is not JSON and keeps the journal as read', () => {
    const dir = tempDir();
    const rec = JSON.stringify({ type: 'opened', at: '2026-01-01T00:00:00.000Z', id: 'b1', rule: 'r', severity: 'high', first: '2025-10-14T12:00:01Z', last: '2025-10-14T12:00:01Z', count: 1, key_field: 'ip', key: '10.0.0.1', ips: [], users: [], hosts: [] });
    const text = `${rec}\n{"type":"opened",,}\n`;
    fs.writeFileSync(path.join(dir, 'incidents.jsonl'), text);
    const j = new IncidentJournal(dir, { clock: fixedClock(NOW) });
    j.close();
    assert.deepEqual(j.problems.first, ['line 2: not JSON']);
    assert.equal(j.keptAt, path.join(dir, 'incidents.jsonl.damaged-2026-01-01T00:00:00.000Z'));
    assert.equal(fs.readFileSync(j.keptAt, 'utf8'), text);
    assert.equal(fs.readFileSync(j.file, 'utf8'), `${rec}\n`);
    assert.ok(j.hasOpened('b1'));
    assert.match(j.damageReport().message, /^The incident journal had damaged lines \(line 2: not JSON\); they were dropped; the journal as read was kept as /);
  });
});

describe('the state store', () => {
  test('load() keeps a damaged file aside; read() only reads', () => {
    const dir = tempDir();
    const store = new StateStore(dir);
    const text = JSON.stringify({ version: 2, files: { '/var/log/auth.log': { path: '/var/log/auth.log', fingerprint: { dev: 1, ino: 2, head: 'ab', headLen: 2 }, offset: -1, line: 0 } }, journal: {}, eventsBytes: null, windows: null });
    fs.writeFileSync(store.file, text);
    const r = store.read(NOW);
    assert.deepEqual(r.problems.first, ['files["/var/log/auth.log"].offset: not a non-negative integer']);
    assert.deepEqual(fs.readdirSync(dir), ['logward-state.json']);
    const l = store.load(NOW);
    assert.deepEqual(l.state.files, {});
    assert.equal(l.fresh, false);
    assert.equal(fs.readFileSync(l.keptAt, 'utf8'), text);
  });

  test('a file that is not JSON gives an empty state, and its text never reaches the problem', () => {
    const dir = tempDir();
    const store = new StateStore(dir);
    fs.writeFileSync(store.file, '{"files":{"/var/log/auth.log":{"text":"Failed password for hunter2');
    const l = store.load(NOW);
    assert.equal(l.fresh, true);
    assert.deepEqual(l.state.files, {});
    assert.equal(l.problems.first.length, 1);
    assert.match(l.problems.first[0], /^the file: not JSON \(\d+ bytes\)$/);
  });
});
