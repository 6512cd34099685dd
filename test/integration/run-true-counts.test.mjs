// Incidents are shown with their true counts wherever `logward run` shows them, though the
// detector tells its sinks only when an incident opens and when it closes: the scheduled
// reports, the dashboard (a host-wide incident too, and after a restart the journal's
// incidents), the scheduled digest and `logward digest`, with origins from the bundled
// GeoLite2 data (a country-centroid record as the country alone).

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { caughtUp, daemonDir, events, killAll, logged, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { runCli } from '../helpers/cli.mjs';
import { startSmtpServer } from '../helpers/smtp.mjs';

after(killAll);
const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

// 49.36.0.1: IN/Mumbai (AS55836 Reliance Jio); 8.8.8.8: a US country centroid; 1.6.0.1: an IN one.
const failure = (time, n, ip, user = 'root') => `Oct 14 ${time} host1 sshd[${2000 + n}]: Failed password for ${user} from ${ip} port ${30000 + n} ssh2\n`;
const sec = (base, n) => `${base}:${String(n).padStart(2, '0')}`;
/** Burst A: 10 failures from 1.6.0.1 at 12:00:00..09; it closes when burst B starts, 5 minutes later. */
const burstA = Array.from({ length: 10 }, (_, n) => failure(sec('12:00', n), n, '1.6.0.1')).join('');
/** Burst B: 30 failures at 12:05:00..29, alternating address and user. */
const burstB = (from, to) => Array.from({ length: to - from }, (_, k) => {
  const n = from + k;
  return failure(sec('12:05', n), 100 + n, n % 2 === 0 ? '49.36.0.1' : '8.8.8.8', n % 2 === 0 ? 'root' : 'oracle');
}).join('');

const urlOf = (output) => JSON.parse(output.split('\n').find((l) => l.includes('Serving the dashboard'))).url;
const board = async (d) => (await fetch(`${urlOf(d.output)}/api/dashboard`)).json();
const shown = (view) => view.incidents.filter((i) => i.rule === 'failed_logins').map((i) => [i.open, i.count, i.last]);

/** The reports `d` logged as written, oldest first, with why. */
function reports(d) {
  return d.output.split('\n').filter((l) => l.includes('"Report written."')).map((l) => JSON.parse(l)).map((r) => ({ why: r.why, doc: JSON.parse(fs.readFileSync(`${r.report}.json`, 'utf8')) }));
}

describe('logward run shows incidents as they stand', () => {
  test('in scheduled reports, on the dashboard, after a restart, in the scheduled digest and in `logward digest`', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const dir = daemonDir({ extra: 'http:\n  enabled: true\n  port: 0' });
    const cfg = path.join(dir, 'logward.yaml');
    const log = path.join(dir, 'logs', 'app.log');
    // failed_logins counts the whole host (no key): threshold 3 in 60 s, cooldown 60 s. Reports every second.
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('run:\n', 'run:\n  report_cron: "* * * * * *"\n'));
    fs.writeFileSync(log, '');
    const d1 = startDaemon(dir);
    await caughtUp(d1);
    await logged(d1, /Serving the dashboard/);

    fs.appendFileSync(log, burstA + burstB(0, 5));
    await waitFor(() => events(dir).length === 15, '15 events');
    assert.deepEqual(shown(await board(d1)), [[true, 5, Date.UTC(2025, 9, 14, 12, 5, 4)], [false, 10, Date.UTC(2025, 9, 14, 12, 0, 9)]]);
    fs.appendFileSync(log, burstB(5, 30));
    await waitFor(() => events(dir).length === 40, '40 events');
    const live = (await board(d1)).incidents.find((i) => i.open);
    assert.deepEqual([live.key, live.count, live.last], [null, 30, Date.UTC(2025, 9, 14, 12, 5, 29)], 'the host-wide incident counted live');
    assert.deepEqual([live.ips, live.users], [['49.36.0.1', '8.8.8.8'], ['root', 'oracle']]);

    // Every event reaches a scheduled report; each report shows B as it stood when written.
    const inSchedule = () => reports(d1).filter((r) => r.why === 'schedule');
    await waitFor(() => inSchedule().reduce((n, r) => n + r.doc.events_summary.total, 0) === 40, 'all 40 events in scheduled reports');
    let soFar = 0;
    let lastB = null;
    for (const { doc } of inSchedule()) {
      soFar += doc.events.filter((e) => e.time >= '2025-10-14T12:05:00Z').length;
      const b = doc.alerts.find((a) => a.first === '2025-10-14T12:05:00Z');
      if (b === undefined) continue;
      assert.equal(b.count, soFar, `a report shows burst B with ${b.count} events beside ${soFar}`);
      lastB = b;
    }
    assert.deepEqual([lastB.count, lastB.last, lastB.ips, lastB.users], [30, '2025-10-14T12:05:29Z', ['49.36.0.1', '8.8.8.8'], ['root', 'oracle']]);
    assert.match(lastB.origins['49.36.0.1'], /^IN\/Mumbai \(AS55836 /);
    assert.equal(lastB.origins['8.8.8.8'], 'US (AS15169 Google LLC)', 'a country centroid is the country alone');
    assert.equal((await stopDaemon(d1)).code, 0, d1.output);

    // The journal holds B's opening count only; `logward digest` reads its state from the checkpoint.
    const journal = fs.readFileSync(path.join(dir, 'state', 'incidents.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(journal.map((r) => [r.type, r.count]), [['opened', 3], ['closed', 10], ['opened', 3]]);
    const dry = await runCli(['digest', '--config', cfg]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /2025-10-14T12:05:00Z\s+medium\s+failed_logins\s+\(host-wide\)\s+30\n/);
    assert.match(dry.stdout, /2025-10-14T12:00:00Z\s+medium\s+failed_logins\s+\(host-wide\)\s+10\n/);
    assert.match(dry.stdout, /49\.36\.0\.1\s+IN\/Mumbai \(AS55836 [^)]*\) 1 incident/);
    assert.match(dry.stdout, /8\.8\.8\.8\s+US \(AS15169 Google LLC\) 1 incident/);
    assert.match(dry.stdout, /1\.6\.0\.1\s+IN \(AS\d+ [^)]*\) 1 incident/, 'not IN/Kolkata');

    // Restarted with the digest due every second: the dashboard lists the journal's incidents, the digest B's count.
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('run:\n', 'run:\n  digest_cron: "* * * * * *"\n'));
    const saved = { ...process.env };
    Object.assign(process.env, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_FROM: 'logward@test.example', SMTP_TO: 'ops@test.example' });
    let d2;
    try {
      d2 = startDaemon(dir);
    } finally {
      for (const k of ['SMTP_HOST', 'SMTP_PORT', 'SMTP_FROM', 'SMTP_TO']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
    await logged(d2, /Serving the dashboard/);
    const after = await board(d2);
    assert.deepEqual(shown(after), [[true, 30, Date.UTC(2025, 9, 14, 12, 5, 29)], [false, 10, Date.UTC(2025, 9, 14, 12, 0, 9)]], 'open and recent incidents after the restart');
    await smtp.waitFor(1, 20_000);
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    const digest = smtp.messages.find((m) => /^<digest-/.test(m.parsed.messageId)).parsed;
    assert.match(digest.text, /2025-10-14T12:05:00Z\s+medium\s+failed_logins\s+\(host-wide\)\s+30\n/);
    assert.match(digest.text, /49\.36\.0\.1\s+IN\/Mumbai \(AS55836 [^)]*\) 1 incident/);
    assert.match(digest.text, /8\.8\.8\.8\s+US \(AS15169 Google LLC\) 1 incident/);
    assert.match(digest.attachments[0].content.toString('utf8'), /,"?30"?,/);
  });
});
