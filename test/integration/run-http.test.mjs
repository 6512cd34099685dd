// The daemon's /metrics and /healthz, scraped from the real `logward run` over HTTP, and
// its Host check, login limit and sessions against real clients.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { attackLine, daemonDir, events, killAll, logged, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { request } from '../helpers/http-raw.mjs';

after(killAll);

function httpDir(http) {
  return daemonDir({ extra: `http:\n  enabled: true\n  port: 0\n${http}` });
}

const urlOf = (output) => JSON.parse(output.split('\n').find((l) => l.includes('Serving the dashboard'))).url;

/** The value of one sample line of the Prometheus text. */
function sample(text, name, labels = '') {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('logward run serves metrics and health', () => {
  test('counts lines, events and incidents of what it read, and reports healthy', async () => {
    const dir = httpDir('');
    const file = path.join(dir, 'logs', 'app.log');
    fs.writeFileSync(file, range(0, 3).map((n) => attackLine(n)).join(''));
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output) && seen(dir).length === 3, 'the endpoint and 3 events');
    const base = urlOf(d.output);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.equal(sample(text, 'logward_source_lines_total', `{source="${file}",kind="file"}`), 3);
    assert.equal(sample(text, 'logward_source_events_total', `{source="${file}",kind="file"}`), 3);
    assert.equal(sample(text, 'logward_source_lag_bytes', `{source="${file}",kind="file"}`), 0);
    assert.equal(sample(text, 'logward_rule_events_total', '{rule="failed_logins"}'), 3);
    assert.equal(sample(text, 'logward_incidents_alerted_total'), 1);
    assert.equal(sample(text, 'logward_incidents_open'), 1);
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    fs.appendFileSync(file, attackLine(3));
    await waitFor(() => seen(dir).length === 4, '4 events');
    const again = await (await fetch(`${base}/metrics`)).text();
    assert.equal(sample(again, 'logward_source_lines_total', `{source="${file}",kind="file"}`), 4);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
  });

  test('counts the keys a flood of addresses made the key cap drop, and warns once per rule', async () => {
    const dir = daemonDir({ extra: 'http:\n  enabled: true\n  port: 0\nlimits:\n  max_keys_per_rule: 16' });
    // ssh_bruteforce is keyed by address (failed_logins counts the whole host).
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('enabled: [failed_logins]', 'enabled: [failed_logins, ssh_bruteforce]'));
    const byAddress = () => events(dir).filter((e) => e.rule === 'ssh_bruteforce').length;
    const file = path.join(dir, 'logs', 'app.log');
    fs.writeFileSync(file, range(0, 40).map((n) => attackLine(n)).join('')); // 40 addresses, one line each
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output) && byAddress() === 40, 'the endpoint and 40 events');
    await waitFor(() => /max_keys_per_rule keys/.test(d.output), 'the key cap warning');
    const text = await (await fetch(`${urlOf(d.output)}/metrics`)).text();
    const held = sample(text, 'logward_rule_keys', '{rule="ssh_bruteforce"}');
    const evicted = sample(text, 'logward_rule_keys_evicted_total', '{rule="ssh_bruteforce"}');
    assert.ok(held > 0 && held <= 16, `held ${held}`);
    assert.ok(evicted >= 40 - 16, `evicted ${evicted}`);
    fs.appendFileSync(file, range(40, 80).map((n) => attackLine(n)).join(''));
    await waitFor(() => byAddress() === 80, '80 events');
    // The stop saves a last checkpoint, where the warning is decided: no wait for a timer.
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    const warnings = d.output.split('\n').filter((l) => l.includes('max_keys_per_rule keys'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.equal(JSON.parse(warnings[0]).rule, 'ssh_bruteforce');
  });

  test('lists an incident still open at the last stop on the dashboard right after a restart', async () => {
    const dir = httpDir('');
    const file = path.join(dir, 'logs', 'app.log');
    fs.writeFileSync(file, range(0, 3).map((n) => attackLine(n)).join('')); // failed_logins fires at 3
    const d1 = startDaemon(dir);
    await waitFor(() => /ALERT failed_logins/.test(d1.output), 'the alert');
    assert.equal((await stopDaemon(d1)).code, 0, d1.output);
    const d2 = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d2.output), 'the endpoint');
    const view = await (await fetch(`${urlOf(d2.output)}/api/dashboard`)).json();
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    const listed = view.incidents.filter((i) => i.rule === 'failed_logins');
    assert.equal(listed.length, 1, JSON.stringify(view.incidents));
    assert.equal(listed[0].open, true);
    assert.equal(listed[0].count, 3);
    assert.doesNotMatch(d2.output, /ALERT failed_logins/, 'restored, not alerted again');
  });

  test('refuses a request without the bearer token when one is set', async () => {
    const dir = httpDir('  token: s3cret-token-42');
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output), 'the endpoint');
    const base = urlOf(d.output);
    assert.equal((await fetch(`${base}/metrics`)).status, 401);
    assert.equal((await fetch(`${base}/healthz`, { headers: { authorization: 'Bearer s3cret-token-42' } })).status, 200);
    assert.equal((await stopDaemon(d)).code, 0);
    assert.ok(!d.output.includes('s3cret-token-42'), 'the token is never logged');
  });

  test('answers 421 to a rebinding-style Host, and 200 to loopback names and http.allowed_hosts', async () => {
    const dir = httpDir('  allowed_hosts: [logward.example.org]');
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), range(0, 3).map((n) => attackLine(n)).join(''));
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output) && seen(dir).length === 3, 'the endpoint and 3 events');
    const base = urlOf(d.output);
    const { port } = new URL(base);
    const rebound = await request(base, { path: '/api/dashboard', headers: { host: `attacker.example:${port}` } });
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /10\.0\.0|failed_logins|host1/);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `logward.example.org:${port}`]) {
      assert.equal((await request(base, { path: '/api/dashboard', headers: { host } })).status, 200, host);
    }
    assert.equal(sample((await request(base, { path: '/metrics' })).body, 'logward_http_misdirected_total'), 1);
    assert.equal((await stopDaemon(d)).code, 0, d.output);
  });

  test('limits wrong logins per address with 429 and Retry-After, logging the burst twice', async () => {
    const dir = httpDir('  token: s3cret-token-0123456789');
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output), 'the endpoint');
    const base = urlOf(d.output);
    const codes = [];
    for (let k = 0; k < 30; k++) codes.push((await request(base, { method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=guess-${k}` })).status);
    assert.deepEqual(codes, [...Array(5).fill(401), ...Array(25).fill(429)]);
    const limited = await request(base, { method: 'POST', path: '/login', body: 'token=s3cret-token-0123456789' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60);
    assert.equal((await stopDaemon(d)).code, 0);
    const lines = d.output.split('\n').filter((l) => /dashboard login/.test(l));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.doesNotMatch(d.output, /guess-|s3cret-token/);
  });

  test('a new token on reload (SIGHUP) ends every dashboard session', async () => {
    const dir = httpDir('  token: first-token-0123456789');
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const d = startDaemon(dir);
    await waitFor(() => /Serving the dashboard/.test(d.output), 'the endpoint');
    const base = urlOf(d.output);
    const login = await request(base, { method: 'POST', path: '/login', body: 'token=first-token-0123456789' });
    assert.equal(login.status, 303);
    const cookie = login.headers['set-cookie'][0].split(';')[0];
    assert.ok(!cookie.includes('first-token'), 'the cookie is a session id, not the token');
    assert.equal((await request(base, { path: '/api/dashboard', headers: { cookie } })).status, 200);
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('first-token-0123456789', 'second-token-0123456789'));
    d.kill('SIGHUP');
    await logged(d, /Configuration reloaded/, 'the reload');
    assert.equal((await request(base, { path: '/api/dashboard', headers: { cookie } })).status, 401);
    assert.equal((await request(base, { path: '/metrics', headers: { authorization: 'Bearer first-token-0123456789' } })).status, 401);
    assert.equal((await request(base, { path: '/metrics', headers: { authorization: 'Bearer second-token-0123456789' } })).status, 200);
    assert.equal((await stopDaemon(d)).code, 0);
    assert.match(d.output, /the token changed; every dashboard session ended/);
    assert.doesNotMatch(d.output, /first-token|second-token/);
  });
});
