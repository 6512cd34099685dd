// Mail delivery against a real SMTP server (smtp-server on 127.0.0.1): plain with AUTH,
// STARTTLS, implicit TLS, certificate and authentication failures, a server that is down
// across a restart, deferrals and refusals, .eml files without a server, `logward mail
// test` and `validate` through the CLI, and a planted password that must never show.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { ROOT, runCli, tempDir } from '../helpers/cli.mjs';
import { closedPort, makeCert, startSilentServer, startSmtpServer } from '../helpers/smtp.mjs';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/util/logger.js';
import { manualClock, systemClock } from '../../dist/util/clock.js';
import { Outbox, fileName } from '../../dist/delivery/outbox.js';
import { classifySmtpError } from '../../dist/delivery/smtp.js';
import { readSmtpSettings } from '../../dist/config/mail-env.js';

const servers = [];
const outboxes = [];
after(async () => {
  await Promise.all(outboxes.map((o) => o.stop()));
  await Promise.all(servers.map((s) => (s.stop ?? s.close)()));
});

async function server(opts) {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

const cert = await makeCert();

/** A temp directory with logward.yaml (JSON is YAML), the CA file and a state dir. */
function setup({ mail = {}, delivery = {}, trustCa = false } = {}) {
  const dir = tempDir('logward-mail-');
  fs.writeFileSync(path.join(dir, 'ca.pem'), cert.cert);
  const cfg = {
    rules: { files: [path.join(ROOT, 'config', 'rules', '*.yaml')] },
    state: { dir: path.join(dir, 'state') },
    reports: { dir: path.join(dir, 'reports') },
    mail: { outbox_dir: path.join(dir, 'eml'), connect_timeout_secs: 2, greeting_timeout_secs: 2, ...(trustCa ? { ca_file: path.join(dir, 'ca.pem') } : {}), ...mail },
    delivery: { retry_min_secs: 0.05, retry_max_secs: 0.4, alert_stream: false, ...delivery },
  };
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return { dir, file, config: loadConfig(file, { env: {} }), outboxDir: path.join(dir, 'state', 'outbox') };
}

function capture() {
  const lines = [];
  const log = createLogger({ level: 'debug', destination: { write: (s) => { lines.push(s); } } });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l)) };
}

/** An outbox whose config was loaded with `env` (the SMTP_* settings are read at load). */
/** Its clock is a manual one (shared by the outboxes of one setup): a retry is made due by moving it, not by sleeping. */
function outbox(setupResult, env, logs = capture()) {
  setupResult.clock ??= manualClock(Date.parse('2026-01-01T00:00:00Z'));
  const o = new Outbox({ dir: setupResult.outboxDir, config: loadConfig(setupResult.file, { env }), log: logs.log, clock: setupResult.clock });
  outboxes.push(o);
  return { o, logs, clock: setupResult.clock };
}

function smtpEnv(s, extra = {}) {
  return { SMTP_HOST: s.host, SMTP_PORT: String(s.port), SMTP_FROM: 'logward@test.example', SMTP_TO: 'ops@example.com, oncall@example.com', ...extra };
}

let seq = 0;
function mailMessage(id = `msg-${process.pid}-${++seq}`) {
  const now = Date.now();
  return {
    kind: 'mail',
    id,
    created: now,
    mail: {
      messageId: `${id}.host1@logward`,
      subject: `logward digest ${id}`,
      text: 'Yesterday on host1: 3 incidents.\n',
      html: '<p>Yesterday on <b>host1</b>: 3 incidents.</p>',
      attachments: [{ filename: 'incidents.csv', content: 'rule,key,count\nssh_bruteforce,203.0.113.7,12\n', contentType: 'text/csv' }],
      date: now,
    },
  };
}

function pendingRecord(o, id) {
  return JSON.parse(fs.readFileSync(path.join(o.dir, 'pending', fileName(id)), 'utf8'));
}

/** Every file under dir, as text. */
function allFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ path: p, text: fs.readFileSync(p, 'latin1') });
    }
  };
  walk(dir);
  return out;
}

describe('SMTP settings from the environment', () => {
  const { config } = setup();

  test('defaults: port 587, 465 with SMTP_SSL=1, From logward@<hostname>, several recipients', () => {
    const a = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_TO: 'a@example.com, b@example.com' }, config);
    assert.deepEqual(a.problems, []);
    assert.equal(a.settings.port, 587);
    assert.equal(a.settings.from, `logward@${os.hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}`);
    assert.deepEqual(a.settings.to, ['a@example.com', 'b@example.com']);
    const b = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_TO: 'a@example.com', SMTP_SSL: '1' }, config);
    assert.equal(b.settings.port, 465);
    assert.equal(b.settings.secure, true);
    assert.equal(readSmtpSettings({}, config).settings, null);
  });

  test('each problem names the variable; the password never appears', () => {
    const secret = 'pw-in-problem-check-9f31';
    const r = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_PORT: '99999', SMTP_TLS: '1', SMTP_SSL: '1', SMTP_TO: '' }, config);
    assert.equal(r.settings, null);
    const all = r.problems.join('\n');
    assert.match(all, /SMTP_PORT: "99999" is not a port number/);
    assert.match(all, /SMTP_TLS and SMTP_SSL are both set/);
    assert.match(all, /SMTP_TO is empty/);
    const u = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_TO: 'x@example.com', SMTP_USER: 'bob' }, config);
    assert.match(u.problems.join('\n'), /SMTP_USER is set but SMTP_PASS is empty/);
    const p = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_TO: 'not an address', SMTP_PASS: secret }, config);
    assert.match(p.problems.join('\n'), /SMTP_TO: "not an address" is not a mail address/);
    assert.match(p.problems.join('\n'), /SMTP_PASS is set but SMTP_USER is empty/);
    assert.ok(!p.problems.join('\n').includes(secret));
  });

  test('server or library text that echoes the AUTH command or the password is scrubbed', () => {
    const pass = 'echoed-Secret-77';
    const plain = Buffer.from(`\u0000logward\u0000${pass}`).toString('base64');
    const err = Object.assign(new Error(`Invalid login: 535 5.7.8 AUTH PLAIN ${plain} rejected; password ${pass} (${Buffer.from(pass).toString('base64')})`), { code: 'EAUTH', responseCode: 535, response: `535 auth ${pass} failed` });
    const c = classifySmtpError(err, { host: 'mail.example.com', port: 587, user: 'logward', pass });
    assert.equal(c.kind, 'config');
    assert.match(c.message, /SMTP authentication failed at mail\.example\.com:587 for user logward/);
    for (const bad of [pass, plain, Buffer.from(pass).toString('base64')]) assert.ok(!c.message.includes(bad), c.message);
    const other = classifySmtpError(Object.assign(new Error(`weird failure AUTH LOGIN ${Buffer.from(pass).toString('base64')} ${pass}`), { code: 'EPROTOCOL' }), { host: 'h', port: 25, user: 'u', pass });
    assert.ok(!other.message.includes(pass) && !other.message.includes(Buffer.from(pass).toString('base64')), other.message);
  });

  test('replies are classified: 4xx transient, 550/552/554 permanent, 535 and TLS failures config', () => {
    const reply = (code, extra = {}) => classifySmtpError(Object.assign(new Error(`Message failed: ${code} x`), { code: 'EMESSAGE', responseCode: code, response: `${code} x`, ...extra }), { host: 'h', port: 25 });
    assert.equal(reply(421).kind, 'transient');
    assert.equal(reply(452).kind, 'transient');
    for (const c of [550, 552, 554]) assert.equal(reply(c).kind, 'permanent');
    assert.equal(reply(535, { code: 'EAUTH' }).kind, 'config');
    assert.equal(classifySmtpError(Object.assign(new Error('self-signed certificate'), { code: 'ESOCKET' }), { host: 'h', port: 25 }).kind, 'config');
  });

  test('a missing mail.ca_file is a problem', () => {
    const s = setup({ mail: { ca_file: '/nonexistent/ca.pem' } });
    const r = readSmtpSettings({ SMTP_HOST: 'mail.example.com', SMTP_TO: 'x@example.com' }, s.config);
    assert.match(r.problems.join('\n'), /mail\.ca_file: cannot read \/nonexistent\/ca\.pem \(ENOENT/);
  });
});

describe('mail through the outbox', () => {
  test('plain SMTP with AUTH: From, To, Subject, Message-ID, HTML part and CSV attachment arrive', async () => {
    const srv = await server({ auth: { user: 'logward', pass: 'right-pass-1' } });
    const s = setup();
    const { o, logs } = outbox(s, smtpEnv(srv, { SMTP_USER: 'logward', SMTP_PASS: 'right-pass-1' }));
    const msg = mailMessage();
    assert.equal(o.enqueue(msg), 'queued');
    assert.ok(fs.existsSync(path.join(o.dir, 'pending', fileName(msg.id))), 'pending file written before enqueue returned');
    assert.equal(fs.statSync(path.join(o.dir, 'pending', fileName(msg.id))).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(o.dir, 'pending')).mode & 0o777, 0o700);
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(srv.messages.length, 1);
    const m = srv.messages[0];
    assert.equal(m.user, 'logward');
    assert.deepEqual(m.envelope.to, ['ops@example.com', 'oncall@example.com']);
    assert.equal(m.parsed.from.text, 'logward@test.example');
    assert.equal(m.parsed.to.text, 'ops@example.com, oncall@example.com');
    assert.equal(m.parsed.subject, msg.mail.subject);
    assert.equal(m.parsed.messageId, `<${msg.mail.messageId}>`);
    assert.equal(m.parsed.text.trim(), msg.mail.text.trim());
    assert.match(m.parsed.html, /<b>host1<\/b>/);
    assert.equal(m.parsed.attachments.length, 1);
    assert.equal(m.parsed.attachments[0].filename, 'incidents.csv');
    assert.equal(m.parsed.attachments[0].contentType, 'text/csv');
    assert.equal(m.parsed.attachments[0].content.toString('utf8'), msg.mail.attachments[0].content);
    assert.equal(o.pendingCount(), 0);
    assert.match(fs.readFileSync(path.join(o.dir, 'sent.jsonl'), 'utf8'), new RegExp(msg.id));
    assert.ok(logs.records().some((r) => r.level === 'info' && r.id === msg.id && /delivered via 127\.0\.0\.1:\d+ \(plain\)/.test(r.msg)));
    assert.equal(o.enqueue(msg), 'duplicate');
  });

  test('STARTTLS required (SMTP_TLS=1) with a self-signed certificate trusted through mail.ca_file', async () => {
    const srv = await server({ tls: 'starttls', cert });
    const { o } = outbox(setup({ trustCa: true }), smtpEnv(srv, { SMTP_TLS: '1' }));
    o.enqueue(mailMessage());
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(srv.messages[0].secure, true, 'the session was upgraded to TLS');
  });

  test('SMTP_TLS=1 against a server that offers no STARTTLS fails clearly and keeps the message', async () => {
    const srv = await server({ tls: 'none' });
    const s = setup();
    const { o, logs } = outbox(s, smtpEnv(srv, { SMTP_TLS: '1' }));
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    assert.equal(srv.messages.length, 0);
    const err = logs.records().find((r) => r.level === 'error' && r.id === msg.id);
    assert.ok(err, 'an error is logged');
    assert.match(err.msg, /does not offer STARTTLS but SMTP_TLS=1 requires it/);
    assert.equal(pendingRecord(o, msg.id).attempts, 1);
  });

  test('implicit TLS (SMTP_SSL=1)', async () => {
    const srv = await server({ tls: 'implicit', cert });
    const { o } = outbox(setup({ trustCa: true }), smtpEnv(srv, { SMTP_SSL: '1' }));
    o.enqueue(mailMessage());
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(srv.messages[0].secure, true);
  });

  test('an untrusted certificate gives a clear TLS message that points at mail.ca_file', async () => {
    const srv = await server({ tls: 'starttls', cert });
    const s = setup();
    const { o, logs } = outbox(s, smtpEnv(srv, { SMTP_TLS: '1' }));
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    const err = logs.records().find((r) => r.level === 'error' && r.id === msg.id);
    assert.match(err.msg, /TLS error with 127\.0\.0\.1:\d+: the server's certificate is not trusted .*set mail\.ca_file/);
    assert.equal(o.pendingCount(), 1, 'a configuration failure is retried, not dead-lettered');
  });

  test('a wrong password: "authentication failed", logged as an error, the password nowhere', async () => {
    const wrong = `wrong-pass-${process.pid}-x7`;
    const srv = await server({ auth: { user: 'logward', pass: 'right-pass-2' } });
    const s = setup();
    const { o, logs } = outbox(s, smtpEnv(srv, { SMTP_USER: 'logward', SMTP_PASS: wrong }));
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    const err = logs.records().find((r) => r.level === 'error' && r.id === msg.id);
    assert.match(err.msg, /SMTP authentication failed at 127\.0\.0\.1:\d+ for user logward .*check SMTP_USER and SMTP_PASS/);
    assert.ok(!logs.lines.join('').includes(wrong));
    assert.ok(!logs.lines.join('').includes(Buffer.from(wrong).toString('base64')));
    for (const f of allFiles(s.dir)) assert.ok(!f.text.includes(wrong), `password in ${f.path}`);
    assert.equal(o.pendingCount(), 1);
  });

  test('connection refused: a clear warning naming host:port, and the message stays pending', async () => {
    const port = await closedPort();
    const s = setup();
    const { o, logs } = outbox(s, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_TO: 'ops@example.com' });
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    const warn = logs.records().find((r) => r.level === 'warn' && r.id === msg.id);
    assert.match(warn.msg, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}: is the SMTP server running`));
  });

  test('no greeting within mail.greeting_timeout_secs: a timeout, retried', async () => {
    const silent = await startSilentServer();
    servers.push(silent);
    const s = setup({ mail: { greeting_timeout_secs: 0.3 } });
    const { o, logs } = outbox(s, { SMTP_HOST: silent.host, SMTP_PORT: String(silent.port), SMTP_TO: 'ops@example.com' });
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    assert.match(logs.records().find((r) => r.id === msg.id && r.level === 'warn').msg, /no SMTP greeting from 127\.0\.0\.1:\d+ within 0\.3 s/);
  });

  test('a DNS failure is classified with the host name', () => {
    const c = classifySmtpError(Object.assign(new Error('getaddrinfo ENOTFOUND smtp.nowhere.invalid'), { code: 'EDNS' }), { host: 'smtp.nowhere.invalid', port: 587 });
    assert.equal(c.kind, 'config');
    assert.match(c.message, /cannot resolve the SMTP host smtp\.nowhere\.invalid \(DNS: no such host\); check SMTP_HOST/);
  });

  test('server down: attempts and next time persist; after a restart with the server up it is delivered exactly once', async () => {
    const srv = await server({});
    await srv.stop();
    const s = setup();
    const env = smtpEnv(srv);
    const { o: first, clock } = outbox(s, env);
    const msg = mailMessage();
    first.enqueue(msg);
    assert.deepEqual(await first.flush(), { sent: 0, retried: 1, dead: 0 });
    const before = clock.now();
    let rec = pendingRecord(first, msg.id);
    assert.equal(rec.attempts, 1);
    assert.ok(rec.nextAttemptAt > before && rec.nextAttemptAt <= before + 1000);
    assert.match(rec.lastError, /connection refused/);
    clock.set(rec.nextAttemptAt);
    assert.deepEqual(await first.flush(), { sent: 0, retried: 1, dead: 0 });
    rec = pendingRecord(first, msg.id);
    assert.equal(rec.attempts, 2, 'the second try doubled the delay');
    await first.stop();

    await srv.start();
    const second = outbox(s, env).o;
    assert.equal(second.pendingCount(), 1, 'the new outbox (a restart) finds the message');
    assert.equal(second.enqueue(msg), 'duplicate', 'a pending id is a duplicate');
    assert.deepEqual(await second.flush(), { sent: 0, retried: 0, dead: 0 }, 'not due before its backoff');
    clock.set(rec.nextAttemptAt);
    assert.deepEqual(await second.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(srv.countById(msg.mail.messageId), 1);
    assert.deepEqual(await second.flush(), { sent: 0, retried: 0, dead: 0 });
    assert.equal(second.enqueue(msg), 'duplicate');
    await second.stop();
    const third = outbox(s, env).o;
    assert.equal(third.enqueue(msg), 'duplicate', 'sent ids survive a restart');
    await third.flush();
    assert.equal(srv.countById(msg.mail.messageId), 1);
  });

  test('a 4xx reply is retried with backoff, then delivered', async () => {
    const srv = await server({});
    srv.failNext(451, 'greylisted, try again later');
    const s = setup({ delivery: { retry_min_secs: 1 } });
    const { o, logs, clock } = outbox(s, smtpEnv(srv));
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 1, dead: 0 });
    assert.match(logs.records().find((r) => r.level === 'warn').msg, /deferred the message \(451 greylisted/);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 0 }, 'not due yet');
    clock.set(pendingRecord(o, msg.id).nextAttemptAt);
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    assert.equal(srv.countById(msg.mail.messageId), 1);
  });

  test('a 550 reply dead-letters the message with the error, logged as an error', async () => {
    const srv = await server({});
    srv.failNext(550, 'mailbox unavailable');
    const s = setup();
    const { o, logs } = outbox(s, smtpEnv(srv));
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 0, retried: 0, dead: 1 });
    const dead = JSON.parse(fs.readFileSync(path.join(o.dir, 'dead', fileName(msg.id)), 'utf8'));
    assert.equal(dead.message.id, msg.id);
    assert.match(dead.error, /rejected the message \(550 mailbox unavailable\)/);
    assert.equal(o.pendingCount(), 0);
    assert.ok(logs.records().some((r) => r.level === 'error' && r.id === msg.id && /moved to .*dead/.test(r.msg)));
    assert.equal(o.enqueue(msg), 'duplicate', 'a dead id is a duplicate');
  });

  test('over delivery.max_pending a message is dead-lettered as "full" and logged', async () => {
    const s = setup({ delivery: { max_pending: 2 } });
    const { o, logs } = outbox(s, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(await closedPort()), SMTP_TO: 'ops@example.com' });
    assert.equal(o.enqueue(mailMessage()), 'queued');
    assert.equal(o.enqueue(mailMessage()), 'queued');
    const third = mailMessage();
    assert.equal(o.enqueue(third), 'full');
    assert.ok(fs.existsSync(path.join(o.dir, 'dead', fileName(third.id))));
    assert.match(logs.records().find((r) => r.level === 'error').msg, /outbox full: 2 messages pending/);
    assert.equal(o.pendingCount(), 2);
  });

  test('started, it delivers soon after an enqueue and retries on its own; stop() waits', async () => {
    const srv = await server({});
    srv.failNext(421, 'busy');
    // Real timers and the real clock: the delivery loop schedules its own retries.
    const s = { ...setup(), clock: systemClock };
    const { o } = outbox(s, smtpEnv(srv));
    o.start();
    const msg = mailMessage();
    o.enqueue(msg);
    await srv.waitFor(1, 5000);
    await o.stop();
    assert.equal(srv.countById(msg.mail.messageId), 1);
    assert.equal(o.pendingCount(), 0);
  });

  test('without SMTP_HOST a message becomes an .eml file in mail.outbox_dir that mailparser reads back', async () => {
    const s = setup();
    const { o } = outbox(s, { SMTP_TO: 'ops@example.com' });
    const msg = mailMessage();
    o.enqueue(msg);
    assert.deepEqual(await o.flush(), { sent: 1, retried: 0, dead: 0 });
    const files = fs.readdirSync(path.join(s.dir, 'eml'));
    assert.equal(files.length, 1);
    assert.match(files[0], new RegExp(`^\\d{8}_\\d{6}_${msg.mail.messageId.replace(/\./g, '\\.')}\\.eml$`));
    const parsed = await simpleParser(fs.readFileSync(path.join(s.dir, 'eml', files[0])));
    assert.equal(parsed.subject, msg.mail.subject);
    assert.equal(parsed.messageId, `<${msg.mail.messageId}>`);
    assert.equal(parsed.to.text, 'ops@example.com');
    assert.equal(parsed.attachments[0].filename, 'incidents.csv');
  });
});

describe('logward mail test and validate', () => {
  function cliSetup() {
    const s = setup();
    return { ...s, cli: (args, env) => runCli(args, { cwd: s.dir, env: { SMTP_HOST: '', SMTP_USER: '', SMTP_PASS: '', SMTP_TLS: '', SMTP_SSL: '', SMTP_PORT: '', SMTP_FROM: '', SMTP_TO: '', ...env } }) };
  }

  test('mail test sends one message through the server and says how', async () => {
    const srv = await server({ auth: { user: 'logward', pass: 'cli-pass-3' } });
    const { file, cli } = cliSetup();
    const r = await cli(['mail', 'test', '--config', file], smtpEnv(srv, { SMTP_USER: 'logward', SMTP_PASS: 'cli-pass-3' }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `test message sent to ops@example.com, oncall@example.com via 127.0.0.1:${srv.port} (plain)\n`);
    assert.equal(srv.messages.length, 1);
    assert.match(srv.messages[0].parsed.subject, /^logward test message from /);
    const r2 = await cli(['mail', 'test', '--config', file, '--to', 'someone@example.org'], smtpEnv(srv, { SMTP_USER: 'logward', SMTP_PASS: 'cli-pass-3' }));
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(srv.messages[1].envelope.to, ['someone@example.org']);
  });

  test('mail test failures exit 69 with one clear line', async () => {
    const srv = await server({ auth: { user: 'logward', pass: 'cli-pass-4' } });
    const { file, cli } = cliSetup();
    const bad = await cli(['mail', 'test', '--config', file], smtpEnv(srv, { SMTP_USER: 'logward', SMTP_PASS: 'nope-5' }));
    assert.equal(bad.code, 69);
    assert.match(bad.stderr, /^logward: test message not sent: SMTP authentication failed at 127\.0\.0\.1:\d+ for user logward .*check SMTP_USER and SMTP_PASS\n$/);
    const port = await closedPort();
    const refused = await cli(['mail', 'test', '--config', file], { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_TO: 'ops@example.com' });
    assert.equal(refused.code, 69);
    assert.match(refused.stderr, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
    const tls = await cli(['mail', 'test', '--config', file], smtpEnv(srv, { SMTP_TLS: '1' }));
    assert.equal(tls.code, 69);
    assert.match(tls.stderr, /does not offer STARTTLS/);
  });

  test('mail test without SMTP_HOST writes the .eml into mail.outbox_dir and prints its path', async () => {
    const { dir, file, cli } = cliSetup();
    const r = await cli(['mail', 'test', '--config', file], {});
    assert.equal(r.code, 0, r.stderr);
    const m = /^no SMTP_HOST: test message written to (.+\.eml)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(m[1].startsWith(path.join(dir, 'eml')));
    const parsed = await simpleParser(fs.readFileSync(m[1]));
    assert.match(parsed.subject, /^logward test message from /);
  });

  test('validate prints the mail line, or every SMTP problem with exit 78', async () => {
    const { file, cli } = cliSetup();
    const none = await cli(['validate', '--config', file], {});
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /mail: no SMTP_HOST; messages are written to .*eml\n/);
    const ok = await cli(['validate', '--config', file], { SMTP_HOST: 'mail.example.com', SMTP_TLS: '1', SMTP_TO: 'a@example.com,b@example.com' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /mail: SMTP mail\.example\.com:587 \(STARTTLS\) to 2 recipients\n/);
    const bad = await cli(['validate', '--config', file], { SMTP_HOST: 'mail.example.com', SMTP_PORT: 'x', SMTP_TLS: '1', SMTP_SSL: '1', SMTP_USER: 'bob' });
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /^logward: invalid mail settings: 4 problems;/);
    for (const re of [/\n {2}SMTP_TLS and SMTP_SSL are both set/, /\n {2}SMTP_PORT: "x" is not a port number/, /\n {2}SMTP_USER is set but SMTP_PASS is empty/, /\n {2}SMTP_TO is empty/]) assert.match(bad.stderr, re);
  });
});

test('a planted SMTP_PASS appears in no output, log line or file, failing or succeeding', async () => {
  const secret = `Planted-${process.pid}-${Date.now()}-Zq9`;
  const b64 = Buffer.from(secret).toString('base64');
  const good = await server({ auth: { user: 'logward', pass: secret } });
  const other = await server({ auth: { user: 'logward', pass: 'something-else' } });
  const noTls = await server({});
  const s = setup();
  const seen = [];

  // Through the outbox: accepted, refused login, missing STARTTLS, refused connection, 550.
  const cases = [
    smtpEnv(good, { SMTP_USER: 'logward', SMTP_PASS: secret }),
    smtpEnv(other, { SMTP_USER: 'logward', SMTP_PASS: secret }),
    smtpEnv(noTls, { SMTP_USER: 'logward', SMTP_PASS: secret, SMTP_TLS: '1' }),
    { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(await closedPort()), SMTP_TO: 'ops@example.com', SMTP_USER: 'logward', SMTP_PASS: secret },
  ];
  good.failNext(550, 'no such user');
  for (const env of cases) {
    const { o, logs } = outbox(s, env);
    o.enqueue(mailMessage());
    await o.flush();
    await o.stop();
    seen.push(...logs.lines);
  }
  const { o, logs } = outbox(s, cases[0]);
  o.enqueue(mailMessage());
  assert.equal((await o.flush()).sent >= 1, true);
  await o.stop();
  seen.push(...logs.lines);
  // A problem report: USER without... PASS present but USER missing.
  seen.push(...readSmtpSettings({ SMTP_HOST: 'x.example.com', SMTP_PASS: secret, SMTP_TO: 'bad address' }, s.config).problems);

  // Through the CLI: mail test ok and failing, validate ok and failing.
  const cliEnv = (env) => ({ SMTP_TLS: '', SMTP_SSL: '', LOGWARD_LOG_LEVEL: 'debug', ...env });
  for (const [args, env] of [
    [['mail', 'test', '--config', s.file], cases[0]],
    [['mail', 'test', '--config', s.file], cases[1]],
    [['mail', 'test', '--config', s.file], cases[2]],
    [['mail', 'test', '--config', s.file], cases[3]],
    [['validate', '--config', s.file], cases[0]],
    [['validate', '--config', s.file], { SMTP_HOST: 'x.example.com', SMTP_PASS: secret, SMTP_PORT: 'bad' }],
  ]) {
    const r = await runCli(args, { cwd: s.dir, env: cliEnv(env) });
    seen.push(r.stdout, r.stderr);
  }
  assert.ok(good.messages.length >= 2, 'the succeeding cases delivered');
  assert.ok(seen.join('').length > 0);
  for (const text of seen) {
    assert.ok(!text.includes(secret), `password in: ${text}`);
    assert.ok(!text.includes(b64), `base64 password in: ${text}`);
  }
  for (const f of allFiles(s.dir)) {
    assert.ok(!f.text.includes(secret), `password in ${f.path}`);
    assert.ok(!f.text.includes(b64), `base64 password in ${f.path}`);
  }
});
