// No secret in any log, report, mail, state file or error. Four secrets are planted with
// unique values: SMTP_PASS, http.token, webhook.secret and IPINFO_TOKEN. scan, run, digest,
// mail test and validate then run against local servers that refuse (wrong password,
// HTTP 500 and 403), against closed ports, and against servers that accept, at the debug
// log level; every byte they print and every file they leave is searched for the secrets,
// raw, base64 (as SMTP AUTH sends them) and URL-encoded. mail-delivery.test.mjs covers the
// SMTP outbox paths one by one; this test covers the four together through every command.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ROOT, allFiles, runCli, tempDir } from '../helpers/cli.mjs';
import { startSmtpServer } from '../helpers/smtp.mjs';

const tag = `${process.pid}x${Date.now().toString(36)}`;
const SECRETS = {
  SMTP_PASS: `PlantedSmtpPass-${tag}-a1`,
  LOGWARD_HTTP_TOKEN: `PlantedHttpToken-${tag}-b2`,
  LOGWARD_WEBHOOK_SECRET: `PlantedHookSecret-${tag}-c3`,
  IPINFO_TOKEN: `PlantedIpinfoToken-${tag}-d4`,
};

/** Every form a secret could be written in. */
function forms(name, value) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const out = [value, b64(value), encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
  if (name === 'SMTP_PASS') out.push(b64(`\u0000lw\u0000${value}`), b64(`lw\u0000lw\u0000${value}`));
  // base64 of the value at each of the three alignments, without the padding-dependent ends.
  for (let k = 0; k < 3; k++) {
    const b = b64(`${'x'.repeat(k)}${value}`);
    out.push(b.slice(4, -4));
  }
  return out;
}

const FORMS = Object.entries(SECRETS).flatMap(([name, value]) => forms(name, value).map((f) => ({ name, f })));

function assertClean(text, where) {
  for (const { name, f } of FORMS) assert.ok(!text.includes(f), `${name} (${f.slice(0, 12)}...) found in ${where}`);
}

async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

/** An HTTP server answering every request with `status` (ipinfo-shaped JSON on 200). */
async function httpServer(status) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      requests.push({ url: req.url, headers: req.headers, body });
      const ip = decodeURIComponent(new URL(req.url, 'http://x').pathname.slice(1));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ ip, city: 'Mountain View', country: 'US', org: 'AS15169 Google LLC' }) : JSON.stringify({ error: `refused ${req.url}` }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, requests, close: () => new Promise((r) => server.close(r)) };
}

const attack = (n, ip) => `Oct 14 12:00:${String(n).padStart(2, '0')} host1 sshd[${100 + n}]: Failed password for invalid user admin${n} from ${ip} port ${40000 + n} ssh2\n`;

function setup({ smtpPort, ipinfoPort, hookPort }) {
  const dir = tempDir('logward-secrets-');
  fs.mkdirSync(path.join(dir, 'logs'));
  const lines = [];
  ['8.8.8.20', '8.8.8.21', '8.8.8.22'].forEach((ip, k) => { for (let n = 0; n < 5; n++) lines.push(attack(k * 5 + n, ip)); });
  fs.writeFileSync(path.join(dir, 'logs', 'auth.log'), lines.join(''));
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    'input: { timezone: UTC, year: 2025 }',
    `scan: { files: [${path.join(dir, 'logs', 'auth.log')}] }`,
    'sources:',
    `  - { path: ${path.join(dir, 'logs', 'auth.log')}, start_at: beginning }`,
    `state: { dir: ${path.join(dir, 'state')} }`,
    `reports: { dir: ${path.join(dir, 'reports')}, formats: [json, csv, html] }`,
    `enrich: { enabled: true, provider: ipinfo, base_url: "http://127.0.0.1:${ipinfoPort}", timeout_secs: 1, deadline_secs: 2, breaker_failures: 100 }`,
    `webhook: { url: "http://127.0.0.1:${hookPort}/hook", secret: "\${LOGWARD_WEBHOOK_SECRET}", min_severity: info, timeout_secs: 1 }`,
    'http: { enabled: true, port: 0, token: "${LOGWARD_HTTP_TOKEN}" }',
    'mail: { alert_min_severity: low, connect_timeout_secs: 1, greeting_timeout_secs: 1 }',
    'delivery: { retry_min_secs: 0.2, retry_max_secs: 0.5 }',
    'run: { poll_secs: 0.2, checkpoint_secs: 0.1 }',
    '',
  ].join('\n'));
  const env = {
    ...SECRETS,
    SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtpPort), SMTP_USER: 'lw', SMTP_FROM: 'logward@test.example', SMTP_TO: 'ops@test.example',
    SMTP_TLS: '', SMTP_SSL: '', LOGWARD_LOG_LEVEL: 'debug',
  };
  return { dir, cfg, env };
}

/** Every command that can touch a secret, succeeding or failing; returns what they printed. */
async function everyCommand(s) {
  const out = [];
  const run = async (args) => {
    const r = await runCli([...args], { cwd: s.dir, env: s.env });
    out.push({ args: args.join(' '), code: r.code, text: `${r.stdout}\n${r.stderr}` });
    return r;
  };
  await run(['validate', '--config', s.cfg]);
  await run(['scan', '--config', s.cfg, '--email', '--events', path.join(s.dir, 'reports', 'events.jsonl')]);
  await run(['scan', '--config', s.cfg, '--json', '--out', path.join(s.dir, 'reports-json')]);
  await run(['run', '--config', s.cfg, '--events', path.join(s.dir, 'run-events.jsonl'), '--once']);
  await run(['digest', '--config', s.cfg, '--hours', '48']);
  await run(['digest', '--config', s.cfg, '--hours', '48', '--send']);
  await run(['mail', 'test', '--config', s.cfg]);
  return out;
}

function assertNothingLeaked(s, printed) {
  for (const p of printed) assertClean(p.text, `the output of logward ${p.args} (exit ${p.code})`);
  const files = allFiles(s.dir).filter((f) => f !== s.cfg);
  assert.ok(files.length > 5, files.join('\n'));
  for (const f of files) assertClean(fs.readFileSync(f, 'latin1'), path.relative(s.dir, f));
  // The config names the secrets only as ${...}.
  assertClean(fs.readFileSync(s.cfg, 'utf8'), 'the config');
}

describe('planted secrets', () => {
  const servers = [];
  after(async () => { for (const c of servers) await c(); });

  test('appear nowhere when the SMTP server refuses the password and the webhook and ipinfo answer 500 and 403', async () => {
    const smtp = await startSmtpServer({ auth: { user: 'lw', pass: 'not-the-planted-one' } });
    const hook = await httpServer(500);
    const ipinfo = await httpServer(403);
    servers.push(() => smtp.stop(), hook.close, ipinfo.close);
    const s = setup({ smtpPort: smtp.port, ipinfoPort: ipinfo.port, hookPort: hook.port });
    const printed = await everyCommand(s);
    assert.ok(printed.some((p) => /authentication|535|login/i.test(p.text)), 'a refused SMTP login was reported');
    assert.ok(hook.requests.length > 0, 'the webhook was tried');
    assert.ok(ipinfo.requests.length > 0, 'ipinfo was asked');
    assert.ok(printed.find((p) => p.args.startsWith('mail test')).code !== 0);
    assertNothingLeaked(s, printed);
  });

  test('appear nowhere when every server is down', async () => {
    const s = setup({ smtpPort: await closedPort(), ipinfoPort: await closedPort(), hookPort: await closedPort() });
    const printed = await everyCommand(s);
    assert.ok(printed.some((p) => /ECONNREFUSED|refused|unreachable/i.test(p.text)), printed.map((p) => p.text).join('\n').slice(0, 2000));
    assertNothingLeaked(s, printed);
  });

  test('appear nowhere, and reach only their own servers, when every server accepts', async () => {
    const smtp = await startSmtpServer({ auth: { user: 'lw', pass: SECRETS.SMTP_PASS } });
    const hook = await httpServer(200);
    const ipinfo = await httpServer(200);
    servers.push(() => smtp.stop(), hook.close, ipinfo.close);
    const s = setup({ smtpPort: smtp.port, ipinfoPort: ipinfo.port, hookPort: hook.port });
    const printed = await everyCommand(s);
    assert.equal(printed.find((p) => p.args.startsWith('mail test')).code, 0, printed.map((p) => p.text).join('\n'));
    assert.ok(smtp.messages.length >= 3, `mails delivered: ${smtp.messages.length}`);
    assertNothingLeaked(s, printed);
    // The mails and the webhook carry no secret either; the signature is an HMAC, not the key.
    for (const m of smtp.messages) assertClean(m.raw, `the mail "${m.parsed.subject}"`);
    assert.ok(hook.requests.length > 0);
    for (const r of hook.requests) {
      assertClean(r.body, 'a webhook body');
      assertClean(JSON.stringify(r.headers), 'the webhook headers');
      assert.match(r.headers['x-logward-signature'], /^sha256=[0-9a-f]{64}$/);
    }
    assert.ok(ipinfo.requests.some((r) => r.url.includes(`token=${SECRETS.IPINFO_TOKEN}`)), 'the ipinfo token went to ipinfo');
  });
});
