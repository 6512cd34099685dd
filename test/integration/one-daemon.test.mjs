// One daemon per state directory, and one send per outbox message whoever flushes it:
// a second `logward run` on the same state directory exits 75 and the first goes on
// alerting; a stale pid file is taken over with a warning; two processes flushing one
// outbox at once (two node processes, the daemon and `digest --send`) against a real SMTP
// server deliver each Message-ID exactly once; damaged outbox files are dropped with one
// warning, kept aside, and never stop the good messages.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, runCli } from '../helpers/cli.mjs';
import { attackLine, caughtUp, daemonDir, killAll, logged, range, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { startSmtpServer } from '../helpers/smtp.mjs';
import { loadConfig } from '../../dist/config/load.js';
import { Outbox, fileName } from '../../dist/delivery/outbox.js';
import { lockStateDir } from '../../dist/runtime/lock.js';
import { systemClock } from '../../dist/util/clock.js';
import { createLogger } from '../../dist/util/logger.js';

after(killAll);
const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

async function smtpServer(opts) {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const count = (text, re) => (text.match(new RegExp(re.source, 'g')) ?? []).length;

function smtpEnv(s) {
  return { SMTP_HOST: s.host, SMTP_PORT: String(s.port), SMTP_FROM: 'logward@test.example', SMTP_TO: 'ops@test.example' };
}


/** A pid that ran a moment ago and is gone now. */
function deadPid() {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

function quietLog() {
  const lines = [];
  return { log: createLogger({ level: 'debug', destination: { write: (s) => { lines.push(s); } } }), lines };
}

let seq = 0;
function mailMessage(id = `one-${process.pid}-${++seq}`) {
  const now = Date.now();
  return { kind: 'mail', id, created: now, mail: { messageId: `${id}.host1@logward`, subject: `logward test ${id}`, text: 'one message\n', date: now } };
}

/** Queues messages into the outbox of dir's state without sending them (no SMTP_HOST here). */
function fillOutbox(dir, n, prefix) {
  const outbox = new Outbox({ dir: path.join(dir, 'state', 'outbox'), config: loadConfig(path.join(dir, 'logward.yaml'), { env: {} }), log: quietLog().log, clock: systemClock });
  const msgs = range(0, n).map((i) => mailMessage(`${prefix}-${String(i).padStart(3, '0')}`));
  for (const m of msgs) assert.equal(outbox.enqueue(m), 'queued');
  return msgs;
}

function assertEachOnce(smtp, msgs) {
  for (const m of msgs) assert.equal(smtp.countById(m.mail.messageId), 1, `${m.mail.messageId} received ${smtp.countById(m.mail.messageId)} times`);
}

describe('one logward run per state directory', () => {
  test('a second run on the same state directory exits 75 naming the other pid; the first goes on alerting', async () => {
    const dir = daemonDir();
    const log = path.join(dir, 'logs', 'app.log');
    const stateDir = path.join(dir, 'state');
    const pidFile = path.join(stateDir, 'logward.pid');
    fs.writeFileSync(log, range(0, 3).map((n) => attackLine(n)).join(''));
    const first = startDaemon(dir);
    await caughtUp(first);
    assert.equal(count(first.output, /ALERT failed_logins/), 1, first.output);
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]), first.pid);

    const t0 = Date.now();
    const second = await runCli(['run', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'second.jsonl')]);
    assert.ok(Date.now() - t0 < 10_000, `the second run took ${Date.now() - t0} ms to give up`);
    assert.equal(second.code, 75, second.stderr);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0], new RegExp(`^logward: another logward run \\(pid ${first.pid}, started \\d{4}-\\d\\d-\\d\\dT[^)]+\\) is using the state directory ${escape(stateDir)}; stop it first, or give this one its own --state-dir$`));
    assert.equal(second.stdout, '');
    assert.ok(!fs.existsSync(path.join(dir, 'second.jsonl')), 'the refused run wrote nothing');
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]), first.pid, 'the pid file is still the first one\'s');

    // A new burst ten minutes later (event time): the first daemon still reads and alerts.
    fs.appendFileSync(log, range(0, 3).map((n) => `Oct 14 12:10:0${n} host1 sshd[${2000 + n}]: Failed password for root from 10.0.9.${n} port 2222 ssh2\n`).join(''));
    await waitFor(() => count(first.output, /ALERT failed_logins/) === 2, 'the second alert');
    assert.equal((await stopDaemon(first)).code, 0, first.output);
    assert.ok(!fs.existsSync(pidFile), 'the pid file is removed at stop');

    const third = await runCli(['run', '--config', path.join(dir, 'logward.yaml'), '--once']);
    assert.equal(third.code, 0, third.stderr);
    assert.ok(!fs.existsSync(pidFile));
  });

  test('a pid file of a process that is gone is taken over with one warning', async () => {
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const pidFile = path.join(dir, 'state', 'logward.pid');
    const gone = deadPid();
    fs.mkdirSync(path.join(dir, 'state'));
    fs.writeFileSync(pidFile, `${gone}\n2025-01-01T00:00:00.000Z\n`);
    const d = startDaemon(dir);
    await caughtUp(d);
    const warnings = d.output.split('\n').filter((l) => l.includes('no longer runs'));
    assert.equal(warnings.length, 1, d.output);
    const w = JSON.parse(warnings[0]);
    assert.equal(w.level, 'warn');
    assert.equal(w.pid, gone);
    assert.equal(w.file, pidFile);
    assert.match(w.msg, new RegExp(`held by pid ${gone}, which no longer runs`));
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]), d.pid);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.ok(!fs.existsSync(pidFile));
  });

  test('a pid file naming a running process, even of another user (pid 1), holds the directory', async () => {
    const dir = daemonDir();
    fs.mkdirSync(path.join(dir, 'state'));
    fs.writeFileSync(path.join(dir, 'state', 'logward.pid'), '1\n');
    const r = await runCli(['run', '--config', path.join(dir, 'logward.yaml'), '--once']);
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /another logward run \(pid 1\) is using the state directory/);
    assert.equal(fs.readFileSync(path.join(dir, 'state', 'logward.pid'), 'utf8'), '1\n', 'left as it was');
  });

  test('in one process: our own pid left by an earlier process is stale; a lock we hold is not', () => {
    const dir = daemonDir();
    const stateDir = path.join(dir, 'state');
    fs.mkdirSync(stateDir);
    fs.writeFileSync(path.join(stateDir, 'logward.pid'), `${process.pid}\n`);
    const { log, lines } = quietLog();
    const lock = lockStateDir(stateDir, { clock: systemClock, log });
    assert.equal(lines.filter((l) => /no longer runs/.test(l)).length, 1, 'a container restarted with the same pid takes it over');
    assert.throws(() => lockStateDir(stateDir, { clock: systemClock, log }), (err) => err.code === 'STATE_LOCKED' && err.exitCode === 75);
    fs.writeFileSync(lock.file, '999999999\n');
    lock.release();
    assert.equal(fs.readFileSync(lock.file, 'utf8'), '999999999\n', 'a pid file that is no longer ours is not removed');
  });
});

describe('two processes flushing one outbox send each message once', () => {
  test('two node processes flush 20 messages at once against one SMTP server: every Message-ID arrives once', async () => {
    const smtp = await smtpServer({ delayMs: 60 });
    const dir = daemonDir();
    const msgs = fillOutbox(dir, 20, 'pair');
    const env = { ...process.env, ...smtpEnv(smtp), LOGWARD_LOG_LEVEL: 'info' };
    const procs = [0, 1].map(() => {
      const p = spawn(process.execPath, [path.join(ROOT, 'test', 'helpers', 'flush-outbox.mjs'), path.join(dir, 'logward.yaml'), path.join(dir, 'state', 'outbox')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      p.out = '';
      p.err = '';
      p.stdout.on('data', (d) => { p.out += d; });
      p.stderr.on('data', (d) => { p.err += d; });
      p.done = new Promise((resolve) => p.on('exit', resolve));
      return p;
    });
    await waitFor(() => procs.every((p) => p.out.includes('ready\n')), 'both processes to open the outbox');
    for (const p of procs) p.stdin.end('go\n');
    const codes = await Promise.all(procs.map((p) => p.done));
    assert.deepEqual(codes, [0, 0], procs.map((p) => p.err).join('\n'));
    const results = procs.map((p) => JSON.parse(p.out.split('\n')[1]));
    assert.equal(results[0].sent + results[1].sent, 20, JSON.stringify(results));
    assert.ok(results[0].sent > 0 && results[1].sent > 0, `both sent some (they ran at once): ${JSON.stringify(results)}`);
    assert.equal(smtp.messages.length, 20);
    assertEachOnce(smtp, msgs);
    const outbox = path.join(dir, 'state', 'outbox');
    assert.deepEqual(fs.readdirSync(path.join(outbox, 'pending')), []);
    assert.deepEqual(fs.readdirSync(path.join(outbox, 'claimed')), []);
    const sent = fs.readFileSync(path.join(outbox, 'sent.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id);
    assert.deepEqual(sent.sort(), msgs.map((m) => m.id).sort());
  });

  test('the daemon delivering its backlog and `digest --send` at the same time: each Message-ID once', async () => {
    const smtp = await smtpServer({ delayMs: 60 });
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const msgs = fillOutbox(dir, 15, 'backlog');
    const env = smtpEnv(smtp);
    const d = startDaemon(dir, [], env);
    await logged(d, /outbox: 15 messages waiting from before/, 'the backlog');
    const digest = await runCli(['digest', '--send', '--config', path.join(dir, 'logward.yaml')], { env });
    assert.equal(digest.code, 0, digest.stderr);
    assert.match(digest.stdout, /^sent to ops@test\.example via 127\.0\.0\.1/);
    await smtp.waitFor(16, 20_000);
    await caughtUp(d);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    assert.equal(smtp.messages.length, 16, smtp.messages.map((m) => m.parsed.messageId).join('\n'));
    assertEachOnce(smtp, msgs);
    assert.equal(smtp.messages.filter((m) => /^<digest-.*\.manual-/.test(m.parsed.messageId)).length, 1);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'state', 'outbox', 'claimed')), []);
  });

  test('a claim left by a process that is gone is taken back at open; a live one is left alone', async () => {
    const smtp = await smtpServer();
    const dir = daemonDir();
    const [orphan, held] = fillOutbox(dir, 2, 'claim');
    const outboxDir = path.join(dir, 'state', 'outbox');
    fs.mkdirSync(path.join(outboxDir, 'claimed'), { recursive: true });
    fs.renameSync(path.join(outboxDir, 'pending', fileName(orphan.id)), path.join(outboxDir, 'claimed', `${fileName(orphan.id)}.${deadPid()}-0a0b`));
    // pid 1 runs: as if init were sending it right now.
    fs.renameSync(path.join(outboxDir, 'pending', fileName(held.id)), path.join(outboxDir, 'claimed', `${fileName(held.id)}.1-0c0d`));
    const outbox = new Outbox({ dir: outboxDir, config: loadConfig(path.join(dir, 'logward.yaml'), { env: smtpEnv(smtp) }), log: quietLog().log, clock: systemClock });
    try {
      assert.equal(outbox.pendingCount(), 1);
      assert.deepEqual(await outbox.flush(), { sent: 1, retried: 0, dead: 0 });
      assert.equal(smtp.countById(orphan.mail.messageId), 1);
      assert.equal(outbox.status(held.id).state, 'pending', 'claimed by a live process: still on its way');
      assert.equal(outbox.enqueue(held), 'duplicate', 'a claimed id is a duplicate');
      assert.equal(smtp.countById(held.mail.messageId), 0);
    } finally {
      await outbox.stop();
    }
  });

  test('a dead letter moved back into pending/ by hand (as the README says) is delivered', async () => {
    const smtp = await smtpServer();
    const dir = daemonDir();
    const outboxDir = path.join(dir, 'state', 'outbox');
    const msg = mailMessage();
    fs.mkdirSync(path.join(outboxDir, 'pending'), { recursive: true });
    fs.writeFileSync(path.join(outboxDir, 'pending', fileName(msg.id)), JSON.stringify({ v: 1, message: msg, attempts: 1, error: 'refused (550 mailbox unavailable)', deadAt: Date.now(), enqueuedAt: Date.now() }));
    const outbox = new Outbox({ dir: outboxDir, config: loadConfig(path.join(dir, 'logward.yaml'), { env: smtpEnv(smtp) }), log: quietLog().log, clock: systemClock });
    try {
      assert.deepEqual(await outbox.flush(), { sent: 1, retried: 0, dead: 0 });
      assert.equal(smtp.countById(msg.mail.messageId), 1);
    } finally {
      await outbox.stop();
    }
  });
});

describe('damaged outbox files never blind the daemon', () => {
  test('a damaged sent.jsonl and damaged pending files: one warning each, kept aside, the good message delivered', async () => {
    const smtp = await smtpServer();
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const [good, already] = fillOutbox(dir, 2, 'damaged');
    const outboxDir = path.join(dir, 'state', 'outbox');
    const pending = path.join(outboxDir, 'pending');
    const sentText = `${JSON.stringify({ id: already.id, at: 1 })}\nnot json at all\n${JSON.stringify({ id: 42, at: 2 })}\n{"id":"half-writ`;
    fs.writeFileSync(path.join(outboxDir, 'sent.jsonl'), sentText);
    const torn = 'torn-0000000000000000.json';
    const tornText = fs.readFileSync(path.join(pending, fileName(good.id)), 'utf8').slice(0, 40);
    fs.writeFileSync(path.join(pending, torn), tornText);
    const fax = 'fax-0000000000000000.json';
    const faxDoc = JSON.parse(fs.readFileSync(path.join(pending, fileName(good.id)), 'utf8'));
    faxDoc.message = { ...faxDoc.message, id: 'fax-1', kind: 'fax' };
    fs.writeFileSync(path.join(pending, fax), JSON.stringify(faxDoc));

    const d = startDaemon(dir, [], smtpEnv(smtp));
    await caughtUp(d);
    await smtp.waitFor(1, 10_000);
    await waitFor(() => /delivered via/.test(d.output), 'the delivery log');
    assert.equal((await stopDaemon(d)).code, 0, d.output);

    // Only the good message went out: the one listed as sent was not sent again.
    assert.equal(smtp.messages.length, 1);
    assert.equal(smtp.countById(good.mail.messageId), 1);

    const records = d.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const sentWarn = records.filter((r) => r.file === path.join(outboxDir, 'sent.jsonl'));
    assert.equal(sentWarn.length, 1, d.output);
    assert.equal(sentWarn[0].level, 'warn');
    assert.deepEqual(sentWarn[0].lines, [2, 3, 4]);
    assert.match(sentWarn[0].msg, /had 3 damaged lines \(2, 3, 4; line 2: not JSON\); they were dropped and the file was copied to .*sent\.jsonl\.damaged-\d{4}-/);
    assert.equal(fs.readFileSync(sentWarn[0].aside, 'utf8'), sentText, 'the damaged file is kept as it was');
    const ids = fs.readFileSync(path.join(outboxDir, 'sent.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id);
    assert.deepEqual(ids, [already.id, good.id]);

    for (const [name, problem] of [[torn, /not JSON/], [fax, /message\.kind: expected "mail" or "webhook"/]]) {
      const w = records.filter((r) => r.file === path.join(pending, name));
      assert.equal(w.length, 1, `${name}: ${d.output}`);
      assert.equal(w[0].level, 'warn');
      assert.match(w[0].msg, problem);
      assert.match(w[0].aside, new RegExp(`${escape(path.join(outboxDir, 'dead', name))}\\.damaged-\\d{4}-`));
      assert.ok(fs.existsSync(w[0].aside), `${name} is kept aside`);
      assert.ok(!fs.existsSync(path.join(pending, name)));
    }
    assert.equal(fs.readFileSync(records.find((r) => r.file === path.join(pending, torn)).aside, 'utf8'), tornText);
    assert.deepEqual(fs.readdirSync(pending), []);

    // A restart reads none of them again: no warning the second time.
    const again = startDaemon(dir, [], smtpEnv(smtp));
    await caughtUp(again);
    assert.equal((await stopDaemon(again)).code, 0, again.output);
    assert.ok(!/damaged/.test(again.output), again.output);
    assert.equal(smtp.messages.length, 1);
  });
});
