// Issue 16 end to end: six nginx basic-auth failures for a user name holding U+2028 gave no
// event at all, where the same lines with a plain name gave six and an alert; PAM's
// ruser=/user= the same. The real CLI scans real files; the alert must come, at the same
// line numbers, with the name in the visible escaped form every output shows.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/cli.mjs';

function nginxFailures(user) {
  const lines = [];
  for (let n = 0; n < 6; n++) {
    lines.push(`2025/10/14 12:50:0${n} [error] 2865#0: *6664${n} user "${user}" was not found in "/etc/nginx/.htpasswd", client: 203.0.113.50, server: example.com, request: "GET /admin HTTP/1.1", host: "example.com"`);
  }
  return `${lines.join('\n')}\n`;
}

function pamFailures(user) {
  const lines = [];
  for (let n = 0; n < 5; n++) {
    lines.push(`Oct 14 12:20:0${n} ftp1 vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= uid=0 euid=0 tty=ftp ruser=${user} rhost=203.0.113.60  user=${user}`);
  }
  return `${lines.join('\n')}\n`;
}

async function scan(name, text) {
  const dir = tempDir('logward-separators-');
  const log = path.join(dir, name);
  fs.writeFileSync(log, text);
  const events = path.join(dir, 'events.jsonl');
  const r = await runCli(['scan', log, '--out', path.join(dir, 'reports'), '--format', 'json', '--events', events, '--json', '--year', '2025', '--timezone', 'UTC']);
  assert.equal(r.code, 0, r.stderr);
  const evs = fs.readFileSync(events, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  return { summary: JSON.parse(r.stdout), events: evs, dir };
}

describe('separators in a user name do not hide an attack from scan', () => {
  test('six nginx basic-auth failures for a user name holding U+2028 give six events and an alert, as with a plain name', async () => {
    const plain = await scan('error.log', nginxFailures('admin'));
    const crafted = await scan('error.log', nginxFailures('ad\u2028min'));
    for (const { summary, events } of [plain, crafted]) {
      const alerts = summary.alerts.filter((a) => a.rule === 'web_auth_failures');
      assert.equal(alerts.length, 1, JSON.stringify(summary.alerts));
      assert.equal(alerts[0].count, 6);
      assert.deepEqual(alerts[0].ips, ['203.0.113.50']);
      assert.deepEqual(events.map((e) => [e.rule, e.ip, e.line]), [1, 2, 3, 4, 5, 6].map((n) => ['web_auth_failures', '203.0.113.50', n]));
    }
    // The name as every output shows it: the separator as its escape, never raw.
    assert.deepEqual(crafted.summary.alerts.find((a) => a.rule === 'web_auth_failures').users, ['ad\\u2028min']);
    assert.ok(crafted.events.every((e) => e.user === 'ad\\u2028min'));
    const [report] = fs.readdirSync(path.join(crafted.dir, 'reports')).filter((f) => f.endsWith('.json'));
    const text = fs.readFileSync(path.join(crafted.dir, 'reports', report), 'utf8');
    assert.ok(!text.includes('\u2028'), 'no raw separator in the report');
    assert.ok(JSON.parse(text).alerts.some((a) => a.users.includes('ad\\u2028min')));
  });

  test('five PAM failures whose ruser and user hold U+2029 and NEL give an alert, as with a plain name', async () => {
    for (const user of ['mark', 'ma\u2029rk\u0085']) {
      const { summary, events } = await scan('auth.log', pamFailures(user));
      const alerts = summary.alerts.filter((a) => a.rule === 'pam_bruteforce');
      assert.equal(alerts.length, 1, `${JSON.stringify(user)}: ${JSON.stringify(summary.alerts)}`);
      assert.equal(alerts[0].count, 5);
      assert.deepEqual(alerts[0].ips, ['203.0.113.60']);
      assert.deepEqual(events.map((e) => e.user), Array(5).fill(user === 'mark' ? 'mark' : 'ma\\u2029rk\\x85'));
    }
  });
});
