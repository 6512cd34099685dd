// The --events files keep the sink contract: scan's EventsFile (batched into a temporary
// file, renamed into place by commit) and the daemon's EventsAppender (appended per batch,
// fsynced by sync before a checkpoint, cut back at start to the size the checkpoint
// recorded, when it is the file that checkpoint names). Both keep every event, in order,
// and no incident. The appender runs the contract twice: fresh, and reopened at a
// checkpoint past a torn tail, as a restart after kill -9 does. Each then adds its own cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EventsAppender, EventsFile } from '../../dist/sinks/events-jsonl.js';
import { tempDir } from '../helpers/cli.mjs';
import { AFTER_FLUSH, BEFORE_FLUSH, detectedEvents, eventFields, feed, sinkContract } from './sink-contract.mjs';

/** The events of a JSON-lines events file, in the shape of eventFields; a torn line fails. */
function parseEvents(text) {
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  return text.split('\n').slice(0, -1).map((line) => {
    const o = JSON.parse(line);
    assert.deepEqual(Object.keys(o), ['rule', 'file', 'line', 'time', 'ip', 'user', 'host', 'program']);
    return { rule: o.rule, source: o.file, line: o.line, time: Date.parse(o.time), ip: o.ip, user: o.user, host: o.host, program: o.program };
  });
}

const readEvents = (file) => parseEvents(fs.readFileSync(file, 'utf8'));

// Both close through DurableAppend/fs.closeSync on an fd they do not forget: the second
// call throws EBADF, or closes whatever file was given that fd number in between.

sinkContract('the scan events file', ({ dir }) => {
  const target = path.join(dir, 'events.jsonl');
  const f = EventsFile.create(target);
  return {
    sink: f,
    keeps: { events: 'each', incidents: null },
    // It writes a batch by itself every 1 MiB; scan has no flush of its own to call.
    flush() {},
    close: () => f.commit(),
    read: () => ({ events: readEvents(target) }),
  };
}, { keepsIncidents: false });

sinkContract('the daemon events file', ({ dir }) => {
  const target = path.join(dir, 'events.jsonl');
  const a = new EventsAppender(target, null);
  return {
    sink: a,
    keeps: { events: 'each', incidents: null },
    flush: () => a.sync(),
    close: () => a.close(),
    read: () => ({ events: readEvents(target) }),
  };
}, { keepsIncidents: false });

/** A checkpoint as the state file holds it (its size and which file): through JSON and back. */
const checkpointed = (appender) => {
  const state = JSON.parse(JSON.stringify({ eventsBytes: appender.size, eventsFile: appender.identity }));
  return { bytes: state.eventsBytes, file: state.eventsFile };
};

/**
 * A first life of the daemon: events of earlier lines made durable and covered by a
 * checkpoint, then events written after it, then a write cut by kill -9. Returns the
 * checkpoint (eventsBytes its byte count, checkpoint as the appender takes it), the bytes
 * it covers and their events.
 */
function crashedAfterCheckpoint(target) {
  const before = new EventsAppender(target, null);
  const covered = detectedEvents(BEFORE_FLUSH, { label: '/var/log/auth.log.1' });
  for (const ev of covered) before.event(ev);
  before.sync();
  const checkpoint = checkpointed(before);
  const eventsBytes = checkpoint.bytes;
  for (const ev of detectedEvents(AFTER_FLUSH, { label: '/var/log/auth.log.1', startLine: BEFORE_FLUSH.length })) before.event(ev);
  before.write();
  before.close();
  fs.appendFileSync(target, '{"rule":"by_ip","file":"/var/log/auth.log.1","li');
  assert.ok(fs.statSync(target).size > eventsBytes, 'the file holds more than the checkpoint covers');
  return { eventsBytes, checkpoint, bytes: fs.readFileSync(target).subarray(0, eventsBytes), events: covered.map(eventFields) };
}

sinkContract('the daemon events file reopened at its checkpoint past a torn tail', ({ dir }) => {
  const target = path.join(dir, 'events.jsonl');
  const covered = crashedAfterCheckpoint(target);
  const a = new EventsAppender(target, covered.checkpoint);
  return {
    sink: a,
    keeps: { events: 'each', incidents: null },
    flush: () => a.sync(),
    close: () => a.close(),
    read() {
      assert.deepEqual(fs.readFileSync(target).subarray(0, covered.eventsBytes), covered.bytes, 'what the checkpoint covers is kept as it was');
      const all = readEvents(target);
      assert.deepEqual(all.slice(0, covered.events.length), covered.events, 'the covered events come first, whole');
      return { events: all.slice(covered.events.length) };
    },
  };
}, { keepsIncidents: false });

function scratchDir(t) {
  const dir = tempDir('logward-events-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the daemon events file reopened with the checkpoint\'s byte count holds each event of the re-read lines once', (t) => {
  const target = path.join(scratchDir(t), 'events.jsonl');
  const { eventsBytes, checkpoint } = crashedAfterCheckpoint(target);
  // The restart reads the lines after the checkpoint again: the same events come again.
  const a = new EventsAppender(target, checkpoint);
  assert.equal(a.size, eventsBytes);
  for (const ev of detectedEvents(AFTER_FLUSH, { label: '/var/log/auth.log.1', startLine: BEFORE_FLUSH.length })) a.event(ev);
  a.close();
  const all = detectedEvents([...BEFORE_FLUSH, ...AFTER_FLUSH], { label: '/var/log/auth.log.1' });
  assert.deepEqual(readEvents(target), all.map(eventFields));
});

test('the daemon events file refuses to cut a file the checkpoint does not name as its own, and leaves it as it was', (t) => {
  const dir = scratchDir(t);
  const target = path.join(dir, 'events.jsonl');
  const { checkpoint } = crashedAfterCheckpoint(target);
  // Someone else's file at the path now, longer than what the checkpoint covers.
  const theirs = `${'their own line\n'.repeat(200)}`;
  fs.writeFileSync(path.join(dir, 'theirs'), theirs);
  fs.renameSync(path.join(dir, 'theirs'), target);
  for (const cp of [checkpoint, { bytes: checkpoint.bytes, file: null }]) {
    assert.throws(() => new EventsAppender(target, cp), (err) => {
      assert.equal(err.code, 'OUTPUT_UNWRITABLE');
      assert.match(err.message, new RegExp(`refusing to cut the events file ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(err.message, /Move .* aside or pass another --events file/);
      return true;
    });
    assert.equal(fs.readFileSync(target, 'utf8'), theirs, 'the file is left as it was');
  }
});

test('the daemon events file appends to another file no longer than the checkpoint covers, cutting nothing', (t) => {
  const dir = scratchDir(t);
  const target = path.join(dir, 'events.jsonl');
  const { checkpoint } = crashedAfterCheckpoint(target);
  fs.rmSync(target);
  fs.writeFileSync(target, 'a line of theirs\n');
  const a = new EventsAppender(target, checkpoint);
  assert.equal(a.size, fs.statSync(target).size);
  const later = detectedEvents(AFTER_FLUSH);
  for (const ev of later) a.event(ev);
  a.close();
  assert.ok(fs.readFileSync(target, 'utf8').startsWith('a line of theirs\n'));
  assert.deepEqual(parseEvents(fs.readFileSync(target, 'utf8').slice('a line of theirs\n'.length)), later.map(eventFields));
});

test('the daemon events file reopened without a checkpoint keeps what the file holds and appends after it', (t) => {
  const target = path.join(scratchDir(t), 'events.jsonl');
  const first = new EventsAppender(target, null);
  const earlier = detectedEvents(BEFORE_FLUSH, { label: '/var/log/auth.log.1' });
  for (const ev of earlier) first.event(ev);
  first.close();
  const a = new EventsAppender(target, null);
  assert.equal(a.size, fs.statSync(target).size);
  const later = detectedEvents(AFTER_FLUSH);
  for (const ev of later) a.event(ev);
  a.close();
  assert.deepEqual(readEvents(target), [...earlier, ...later].map(eventFields));
});

test('the daemon events file counts in its size exactly the bytes it wrote, not those only added', (t) => {
  const target = path.join(scratchDir(t), 'events.jsonl');
  const a = new EventsAppender(target, null);
  const f = feed([a]);
  f.lines(BEFORE_FLUSH);
  assert.equal(a.size, 0, 'added events are not written before write()');
  a.write();
  assert.equal(a.size, fs.statSync(target).size);
  f.lines(AFTER_FLUSH);
  f.end();
  a.sync();
  assert.equal(a.size, fs.statSync(target).size);
  a.close();
});

test('the scan events file writes a batch every 1 MiB and commits every event in order', (t) => {
  const dir = scratchDir(t);
  const target = path.join(dir, 'events.jsonl');
  const f = EventsFile.create(target);
  // ~150 bytes an event, three events a line: 3000 lines pass 1 MiB.
  const lines = Array.from({ length: 3000 }, (_, n) => `Oct 14 12:${String(Math.floor(n / 100) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')} web1 sshd[${n}]: Failed password for user${n} from 10.${n >> 8}.${n & 255}.1 port ${n} ssh2`);
  const run = feed([f]);
  run.lines(lines);
  run.end();
  const tmp = fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));
  assert.equal(tmp.length, 1);
  assert.ok(fs.statSync(path.join(dir, tmp[0])).size >= 1 << 20, 'a batch was written before the commit');
  assert.equal(fs.existsSync(target), false, 'nothing is in place before the commit');
  f.commit();
  const events = run.delivered.filter((d) => d.kind === 'event').map((d) => d.value);
  assert.equal(events.length, 9000);
  assert.deepEqual(readEvents(target), events.map(eventFields));
  assert.deepEqual(fs.readdirSync(dir), ['events.jsonl']);
});

test('the scan events file leaves no file behind when the scan fails', (t) => {
  const dir = scratchDir(t);
  const f = EventsFile.create(path.join(dir, 'events.jsonl'));
  const run = feed([f]);
  run.lines(BEFORE_FLUSH);
  f.abort();
  assert.deepEqual(fs.readdirSync(dir), []);
});
