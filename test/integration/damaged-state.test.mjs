// A damaged state file or incident journal never blinds logward and never stops it: the
// cases reported in issue 15 (a file entry that is not an object, a negative or string
// offset, rate.sent not a list, windows.rules null) and a few more, each on a real state
// file from a real run. logward run starts, names what it dropped in one warning, keeps
// the file as read aside (`*.damaged-<time>`), alerts on a fresh burst, and the next start
// is quiet.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.mjs';
import { alertedOn, alertsOf, baseState, freshBurst, runOnce, stateWarnings } from '../helpers/state-fixture.mjs';

let base;
let n = 0;
before(async () => {
  base = await baseState();
});
after(() => fs.rmSync(base.dir, { recursive: true, force: true }));

const stateDir = () => path.join(base.dir, 'state');
const logFile = () => Object.keys(base.doc.files)[0];

/** Restores the base, writes the state file (a document or text), appends a fresh burst and runs once. */
async function runWith(state) {
  base.restore();
  const text = typeof state === 'string' ? state : JSON.stringify(state);
  fs.writeFileSync(base.stateFile, text);
  const burst = freshBurst(n++);
  fs.appendFileSync(base.log, burst.text);
  const r = await runOnce(base.dir);
  return { ...r, text, ip: burst.ip };
}

function edit(fn) {
  const doc = structuredClone(base.doc);
  fn(doc);
  return doc;
}

/** Exit 0, one warning naming `field`, the file as read kept aside, and both rules alerting on the burst. */
function assertRecovered(r, field) {
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const w = stateWarnings(r.lines);
  assert.equal(w.length, 1, r.stdout);
  assert.ok(w[0].problems.some((p) => p.startsWith(field)), `${JSON.stringify(w[0].problems)} names ${field}`);
  assert.ok(w[0].msg.includes(field), w[0].msg);
  assert.match(path.basename(w[0].keptAt), /^logward-state\.json\.damaged-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(fs.readFileSync(w[0].keptAt, 'utf8'), r.text, 'the file as read is kept');
  const a = alertedOn(r.lines, r.ip);
  assert.ok(a.keyed, `the keyed rule alerts on ${r.ip}\n${r.stdout}`);
  assert.ok(a.hostWide, `the host-wide rule alerts\n${r.stdout}`);
  return w[0];
}

describe('a damaged state file', () => {
  test('a file entry that is not an object is dropped: the file is read from its start_at, nothing is alerted twice', async () => {
    const r = await runWith(edit((d) => { d.files[logFile()] = 5; }));
    assertRecovered(r, `files[${JSON.stringify(logFile())}]`);
    // Re-read from the beginning: the base incidents are in the journal and not alerted again.
    // (The two re-read lines of 10.8.8.8 join its restored window: counted twice, it alerts.)
    const again = alertsOf(r.lines).filter((l) => ['10.9.9.9', '10.7.7.7'].includes(l.alert.key) || l.alert.first === '2025-10-14T12:00:01Z');
    assert.deepEqual(again, [], r.stdout);
  });

  test('a negative offset is dropped, named as the field', async () => {
    const r = await runWith(edit((d) => { d.files[logFile()].offset = -5; }));
    const w = assertRecovered(r, `files[${JSON.stringify(logFile())}].offset`);
    assert.ok(w.problems.includes(`files[${JSON.stringify(logFile())}].offset: not a non-negative integer`), JSON.stringify(w.problems));
  });

  test('a string offset is dropped (it was concatenated into a read position)', async () => {
    const r = await runWith(edit((d) => { d.files[logFile()].offset = String(d.files[logFile()].offset); }));
    assertRecovered(r, `files[${JSON.stringify(logFile())}].offset`);
    assert.ok(!r.stdout.includes('Reading a source failed'), r.stdout);
  });

  test('rate.sent not a list: the limiter starts empty and the alert mail goes out', async () => {
    const r = await runWith(edit((d) => { d.rate.sent = 5; }));
    assertRecovered(r, 'rate.sent');
    assert.ok(!r.stdout.includes('A sink failed'), r.stdout);
    const alert = alertsOf(r.lines).find((l) => l.alert.key === r.ip);
    const outbox = path.join(base.dir, 'reports', 'outbox');
    assert.ok(fs.readdirSync(outbox).some((f) => f.includes(`alert-${alert.alert.id}`)), 'the alert mail was written');
  });

  test('windows.rules: null no longer exits 70', async () => {
    const r = await runWith(edit((d) => { d.windows.rules = null; }));
    assertRecovered(r, 'windows.rules');
  });

  test('an incident dated in the future cannot take every later event of a host-wide rule', async () => {
    // Past the watermark but before now: without the check it absorbed every later event.
    const r = await runWith(edit((d) => { d.windows.rules.failed_logins[0].incident.last = Date.parse('2025-12-31T00:00:00Z'); }));
    const w = assertRecovered(r, 'windows.rules["failed_logins"][0].incident.last');
    assert.ok(w.problems[0].endsWith('after windows.watermark'), w.problems[0]);
  });

  test('a watermark far in the future is dropped and the windows are kept', async () => {
    const r = await runWith(edit((d) => { d.windows.watermark = 8e15; }));
    const w = assertRecovered(r, 'windows.watermark');
    assert.deepEqual(w.problems, ['windows.watermark: after now']);
    // The open incident of 10.9.9.9 was restored: more of its burst is not a new alert.
    base.restore();
    fs.writeFileSync(base.stateFile, JSON.stringify(edit((d) => { d.windows.watermark = 8e15; })));
    fs.appendFileSync(base.log, 'Oct 14 12:00:20 host1 sshd[999]: Failed password for root from 10.9.9.9 port 20999 ssh2\n');
    const again = await runOnce(base.dir);
    assert.equal(again.code, 0);
    assert.equal(alertsOf(again.lines).length, 0, again.stdout);
  });

  test('a file that is not JSON is kept as .damaged-<time> and reading starts afresh', async () => {
    const r = await runWith('{"version":2,"files":{');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const w = stateWarnings(r.lines);
    assert.equal(w.length, 1, r.stdout);
    assert.match(w[0].msg, /^The state file is damaged \(the file: not JSON \(22 bytes\)\); nothing of it can be used/);
    assert.equal(fs.readFileSync(w[0].keptAt, 'utf8'), '{"version":2,"files":{');
    assert.deepEqual(fs.readdirSync(stateDir()).filter((f) => f.includes('.corrupt-')), []);
    assert.ok(alertedOn(r.lines, r.ip).keyed);
    // Replaced by a whole state file at once, not left for the next start to trip over.
    assert.equal(JSON.parse(fs.readFileSync(base.stateFile, 'utf8')).version, 2);
  });

  test('an unknown version is kept aside, named, and reading starts afresh', async () => {
    const r = await runWith(edit((d) => { d.version = 9; }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const w = stateWarnings(r.lines);
    assert.deepEqual(w[0].problems, ['version: not a version this logward reads (1 or 2)']);
    assert.ok(alertedOn(r.lines, r.ip).keyed);
  });

  test('the next start after a damaged one is quiet: the checked state was saved', async () => {
    const r = await runWith(edit((d) => { d.windows.rules.ssh_bruteforce[2].hits[0][0] = 'soon'; d.coverage.sources[logFile()].lastGrowth = 1e300; }));
    assert.equal(r.code, 0);
    const w = stateWarnings(r.lines);
    assert.deepEqual(w[0].problems, [
      'windows.rules["ssh_bruteforce"][2].hits[0][0]: not a time',
      `coverage.sources[${JSON.stringify(logFile())}].lastGrowth: after now`,
    ]);
    assert.equal(w[0].dropped, 2);
    const burst = freshBurst(n++);
    fs.appendFileSync(base.log, burst.text);
    const again = await runOnce(base.dir);
    assert.equal(again.code, 0);
    assert.deepEqual(stateWarnings(again.lines), [], again.stdout);
    assert.ok(alertedOn(again.lines, burst.ip).keyed, again.stdout);
    assert.equal(fs.readdirSync(stateDir()).filter((f) => f.includes('.damaged-')).length, 1, 'kept once');
  });

  test('logward digest reads a damaged state file without keeping or changing anything', async () => {
    base.restore();
    const text = JSON.stringify(edit((d) => { d.coverage.sources[logFile()].lines = -1; d.files[logFile()] = null; }));
    fs.writeFileSync(base.stateFile, text);
    const r = await runCli(['digest', '--config', path.join(base.dir, 'logward.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(base.stateFile, 'utf8'), text);
    assert.deepEqual(fs.readdirSync(stateDir()).filter((f) => f.includes('.damaged-')), []);
  });
});

describe('a damaged incident journal', () => {
  test('a complete record with a bad field is dropped and named, the journal as read is kept, the good records stay', async () => {
    base.restore();
    const journal = path.join(stateDir(), 'incidents.jsonl');
    const good = fs.readFileSync(journal, 'utf8').split('\n').filter((l) => l !== '');
    const bad = JSON.stringify({ ...JSON.parse(good[0]), at: 'yesterday' });
    const noRule = JSON.stringify({ ...JSON.parse(good[0]), rule: undefined });
    const text = [good[0], bad, ...good.slice(1), noRule, ''].join('\n');
    fs.writeFileSync(journal, text);
    const burst = freshBurst(n++);
    fs.appendFileSync(base.log, burst.text);
    const r = await runOnce(base.dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const w = r.lines.filter((l) => l.level === 'warn' && /^The incident journal had damaged lines/.test(l.msg));
    assert.equal(w.length, 1, r.stdout);
    assert.deepEqual(w[0].problems, ['line 2.at: not a time', `line ${good.length + 2}.rule: missing`]);
    assert.match(path.basename(w[0].keptAt), /^incidents\.jsonl\.damaged-/);
    assert.equal(fs.readFileSync(w[0].keptAt, 'utf8'), text);
    const now = fs.readFileSync(journal, 'utf8').split('\n').filter((l) => l !== '');
    assert.deepEqual(now.slice(0, good.length), good, 'the good records are kept, in order');
    assert.ok(now.slice(good.length).every((l) => JSON.parse(l).at !== 'yesterday'));
    assert.ok(alertedOn(r.lines, burst.ip).keyed, r.stdout);
    // The next start reads a clean journal.
    const again = await runOnce(base.dir);
    assert.equal(again.lines.filter((l) => /incident journal/.test(l.msg ?? '')).length, 0, again.stdout);
  });

  test('a last line cut by a crash is dropped without a copy', async () => {
    base.restore();
    const journal = path.join(stateDir(), 'incidents.jsonl');
    fs.appendFileSync(journal, '{"type":"opened","id":"x","at":"2025');
    const r = await runOnce(base.dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const w = r.lines.find((l) => /^The incident journal had damaged lines/.test(l.msg ?? ''));
    assert.ok(w.problems[0].endsWith('cut short (no newline: a write cut by a crash)'), JSON.stringify(w.problems));
    assert.equal(w.keptAt, null);
    assert.deepEqual(fs.readdirSync(stateDir()).filter((f) => f.includes('.damaged-')), []);
  });
});
