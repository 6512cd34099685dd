// The daemon's mail, webhook and digest against real servers (smtp-server, node:http):
// an alert mailed while the server is down is delivered exactly once after a restart,
// the digest goes out once per day whatever its schedule, and no secret leaks.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { attackLine, daemonDir, killAll, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { allFiles, runCli } from '../helpers/cli.mjs';
import { startSmtpServer } from '../helpers/smtp.mjs';

after(killAll);
const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

const SECRET = 'pl4nted-Secr3t-9f1c';

function mailDir(smtp, extra = '') {
  const dir = daemonDir({
    extra: [
      'mail:',
      '  alert_min_severity: low',
      '  connect_timeout_secs: 1',
      '  greeting_timeout_secs: 1',
      'delivery:',
      '  retry_min_secs: 0.2',
      '  retry_max_secs: 0.5',
      extra,
    ].join('\n'),
  });
  const env = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'logward@test.example', SMTP_TO: 'ops@test.example,oncall@test.example', SMTP_USER: 'lw', SMTP_PASS: SECRET };
  return { dir, env };
}


describe('logward run delivers alerts', () => {
  test('mails an alert exactly once when the SMTP server was down across a restart', async () => {
    const smtp = await startSmtpServer({ auth: { user: 'lw', pass: SECRET } });
    servers.push(smtp);
    await smtp.stop(); // down before the first alert
    const { dir, env } = mailDir(smtp);
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), range(0, 3).map((n) => attackLine(n)).join(''));
    const d1 = startDaemon(dir, [], env);
    await waitFor(() => /ALERT failed_logins/.test(d1.output), 'the alert');
    await waitFor(() => /mail alert-[0-9a-f]+ not delivered \(attempt 1\)/.test(d1.output), 'a failed delivery');
    assert.equal((await stopDaemon(d1)).code, 0, d1.output);
    const pending = fs.readdirSync(path.join(dir, 'state', 'outbox', 'pending'));
    assert.equal(pending.length, 1, 'the alert mail waits in the outbox');
    const d2 = startDaemon(dir, [], env); // restarted, the server still down
    await waitFor(() => /Following source/.test(d2.output), 'the restart');
    await smtp.start();
    await smtp.waitFor(1, 10_000);
    fs.appendFileSync(path.join(dir, 'logs', 'app.log'), attackLine(3));
    await waitFor(() => seen(dir).length === 4, '4 events');
    await new Promise((r) => setTimeout(r, 800)); // time for any duplicate to show up
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.equal(smtp.messages.length, 1, smtp.messages.map((m) => m.parsed.subject).join('\n'));
    const m = smtp.messages[0];
    assert.match(m.parsed.subject, /^\[logward\] MEDIUM failed_logins host-wide: 3 events on /);
    assert.deepEqual(m.envelope.to, ['ops@test.example', 'oncall@test.example']);
    assert.match(m.parsed.messageId, /^<alert-[0-9a-f]{16}\..+@logward>$/);
    assert.match(m.parsed.text, /Failed password for root from 10\.0\.0\.0/);
    assert.equal(fs.readdirSync(path.join(dir, 'state', 'outbox', 'pending')).length, 0);
    // No secret anywhere: daemon output, state, reports.
    assert.ok(!d1.output.includes(SECRET) && !d2.output.includes(SECRET));
    for (const f of allFiles(dir)) assert.ok(!fs.readFileSync(f, 'utf8').includes(SECRET) || f.endsWith('.yaml'), `the password is in ${f}`);
  });

  test('sends the daily digest once per day, however often its schedule fires', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const { dir, env } = mailDir(smtp, 'run:\n  digest_cron: "* * * * * *"');
    const cfg = path.join(dir, 'logward.yaml');
    // One run: section (the fixture's own has poll and checkpoint settings).
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('run:\n  digest_cron: "* * * * * *"', '').replace('run:\n', 'run:\n  digest_cron: "* * * * * *"\n'));
    delete env.SMTP_USER;
    delete env.SMTP_PASS;
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), range(0, 3).map((n) => attackLine(n)).join('') + 'Oct 14 12:01:00 host1 cron[5]: (root) CMD (run-parts /etc/cron.hourly)\n');
    const d = startDaemon(dir, [], env);
    await waitFor(() => smtp.messages.some((m) => /^<digest-/.test(m.parsed.messageId)), 'the digest', 10_000);
    await new Promise((r) => setTimeout(r, 2500)); // the schedule fires twice more
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    const digests = smtp.messages.filter((m) => /^<digest-/.test(m.parsed.messageId));
    assert.equal(digests.length, 1);
    const dg = digests[0].parsed;
    assert.match(dg.subject, /^\[logward\] .+: 1 alert in the last 24 h \(worst: medium\)$/);
    assert.match(dg.text, /== ssh ==[\s\S]*failed_logins\s+1/);
    assert.match(dg.text, /app\.log \(file\): 4 lines, 0 not parsed/);
    assert.match(dg.html, /<h2>logward daily digest for /);
    assert.equal(dg.attachments.length, 1);
    assert.equal(dg.attachments[0].contentType, 'text/csv');
    assert.match(dg.attachments[0].content.toString('utf8'), /"failed_logins"/);
  });

  test('posts alerts to the webhook with a signature the receiver can check', async () => {
    const bodies = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        bodies.push({ body, sig: req.headers['x-logward-signature'], id: req.headers['x-logward-id'] });
        res.writeHead(204).end();
      });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    servers.push({ stop: () => new Promise((r) => hook.close(r)) });
    const dir = daemonDir({ extra: `webhook:\n  url: http://127.0.0.1:${hook.address().port}/alerts\n  secret: hook-key\n  min_severity: low\ndelivery:\n  retry_min_secs: 0.2` });
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), range(0, 3).map((n) => attackLine(n)).join(''));
    const d = startDaemon(dir);
    await waitFor(() => bodies.length === 1, 'the webhook post');
    assert.equal((await stopDaemon(d)).code, 0);
    const { body, sig, id } = bodies[0];
    assert.equal(sig, `sha256=${createHmac('sha256', 'hook-key').update(body).digest('hex')}`);
    const doc = JSON.parse(body);
    assert.equal(doc.rule, 'failed_logins');
    assert.equal(doc.count, 3);
    assert.equal(id, `webhook-${doc.id}`);
    assert.equal(doc.origins['10.0.0.1'], 'private address', 'origins travel with the alert');
    // The SIEM stream got the same alert.
    const stream = fs.readFileSync(path.join(dir, 'reports', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(stream.map((a) => a.id), [doc.id]);
  });
});

describe('logward run refuses bad mail settings', () => {
  test('exits 78 before reading when the SMTP environment is contradictory, and an unwritable state dir is named', async () => {
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), attackLine(0));
    const cfg = path.join(dir, 'logward.yaml');
    const bad = await runCli(['run', '--once', '--config', cfg], { env: { SMTP_HOST: '127.0.0.1', SMTP_TO: 'a@b.example', SMTP_TLS: '1', SMTP_SSL: '1' } });
    assert.equal(bad.code, 78, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /SMTP_TLS.*SMTP_SSL|SMTP_SSL.*SMTP_TLS/);
    assert.ok(!fs.existsSync(path.join(dir, 'events.jsonl')));
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, '');
    const unwritable = await runCli(['run', '--once', '--config', cfg, '--state-dir', path.join(file, 'state')]);
    assert.equal(unwritable.code, 73, unwritable.stderr);
    assert.match(unwritable.stderr, /not-a-dir/);
  });
});

describe('logward digest and scan --email', () => {
  test('prints the digest of what the daemon recorded, and sends it on --send with its attachment', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const dir = daemonDir();
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), range(0, 3).map((n) => attackLine(n)).join(''));
    const cfg = path.join(dir, 'logward.yaml');
    assert.equal((await runCli(['run', '--once', '--config', cfg])).code, 0);
    const dry = await runCli(['digest', '--config', cfg]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^logward daily digest for /);
    assert.match(dry.stdout, /failed_logins\s+1/);
    const env = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_TO: 'ops@test.example' };
    const sent = await runCli(['digest', '--config', cfg, '--send'], { env });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^sent to ops@test\.example via 127\.0\.0\.1: \[logward\]/);
    assert.equal(smtp.messages.length, 1);
    assert.match(smtp.messages[0].parsed.messageId, /^<digest-\d{4}-\d\d-\d\d\..+\.manual-\d{8}T\d{6}@logward>$/);
    assert.equal(smtp.messages[0].parsed.attachments[0].filename.endsWith('.csv'), true);
  });

  test('scan --email mails the summary even when nothing was found, and reports a refused connection clearly', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const dir = daemonDir();
    const clean = path.join(dir, 'clean.log');
    fs.writeFileSync(clean, 'Oct 14 12:00:00 host1 cron[5]: (root) CMD (true)\n');
    const env = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_TO: 'ops@test.example' };
    const args = ['scan', clean, '--config', path.join(dir, 'logward.yaml'), '--out', path.join(dir, 'out'), '--state-dir', path.join(dir, 'state'), '--email'];
    const r = await runCli(args, { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mail: sent to ops@test\.example/);
    assert.equal(smtp.messages.length, 1);
    assert.match(smtp.messages[0].parsed.subject, /scan of 1 file found no alerts$/);
    assert.match(smtp.messages[0].parsed.text, /No alerts in the scanned logs\./);
    await smtp.stop();
    const down = await runCli(args, { env });
    assert.equal(down.code, 69, down.stdout + down.stderr);
    assert.match(down.stderr, /not sent yet \(.*127\.0\.0\.1.*\); it stays in .*outbox and `logward run` retries it/);
  });
});
