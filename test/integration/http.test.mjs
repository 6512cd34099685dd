import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { startHttpServer } from '../../dist/http/server.js';
import { createLogger } from '../../dist/util/logger.js';
import { systemClock } from '../../dist/util/clock.js';
import { runCli, tempDir } from '../helpers/cli.mjs';

const HOSTILE = 'evil"source\nlogward_incidents_open 999 \\';

/** A StatusProvider (the interface the daemon implements) whose answers a test can change. */
function fakeStatus() {
  const state = {
    now: Date.now(),
    sources: [
      { source: '/var/log/auth.log', kind: 'file', lines: 1200, parsed: 1150, notParsed: 50, events: 37, lastLineAt: null, lagBytes: 4096 },
      { source: 'journal:ssh.service', kind: 'journal', lines: 80, parsed: 80, notParsed: 0, events: 5, lastLineAt: null, lagBytes: null },
    ],
    rules: { ssh_bruteforce: 30, failed_logins: 12 },
    keys: { ssh_bruteforce: { held: 100000, evicted: 25000 }, failed_logins: { held: 7, evicted: 0 } },
    incidents: { alerted: 4, open: 2 },
    outbox: 3,
    enrich: { hits: 70, misses: 9 },
    health: { ok: true, problems: [] },
    fail: null,
  };
  state.sources[0].lastLineAt = state.now - 42_000;
  const guard = (name) => { if (state.fail === name) throw new Error(`${name} exploded`); };
  const status = {
    sources() { guard('sources'); return state.sources; },
    ruleEvents() { guard('ruleEvents'); return state.rules; },
    ruleKeys() { guard('ruleKeys'); return state.keys; },
    incidents() { guard('incidents'); return state.incidents; },
    outboxDepth() { guard('outboxDepth'); return state.outbox; },
    enrichCache() { guard('enrichCache'); return state.enrich; },
    health() { guard('health'); return state.health; },
  };
  return { state, status };
}

function memoryLogger() {
  const lines = [];
  const log = createLogger({ level: 'info', destination: { write: (l) => { lines.push(l); } } });
  return { log, lines };
}

/** Prometheus text -> Map of `name{labels}` -> number; every line must be a comment or a sample. */
function parseMetrics(text) {
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.set(m[1], Number(m[2]));
  }
  return samples;
}

async function get(url, headers = {}, method = 'GET') {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('the HTTP endpoint', async () => {
  const { state, status } = fakeStatus();
  const { log, lines } = memoryLogger();
  const server = await startHttpServer({ enabled: true, host: '127.0.0.1', port: 0, token: null }, status, log, { clock: systemClock });
  after(() => server.close());

  test('listens on the port it was given (0: a free one) and says where', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.url, 'http://127.0.0.1:0');
  });

  test('GET /metrics answers the provider\'s counts as Prometheus samples', async () => {
    const r = await get(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.ok(r.body.split('\n').includes('logward_source_lines_total{source="/var/log/auth.log",kind="file"} 1200'), r.body);
    assert.ok(r.body.includes('# TYPE logward_source_lines_total counter\n'));
    assert.ok(r.body.includes('# TYPE logward_incidents_open gauge\n'));
    const s = parseMetrics(r.body);
    assert.equal(s.get('logward_source_parsed_total{source="/var/log/auth.log",kind="file"}'), 1150);
    assert.equal(s.get('logward_source_not_parsed_total{source="/var/log/auth.log",kind="file"}'), 50);
    assert.equal(s.get('logward_source_events_total{source="journal:ssh.service",kind="journal"}'), 5);
    assert.equal(s.get('logward_source_lines_total{source="journal:ssh.service",kind="journal"}'), 80);
    assert.equal(s.get('logward_source_lag_bytes{source="/var/log/auth.log",kind="file"}'), 4096);
    // The journal has no byte lag and has not read yet: no sample rather than a made-up value.
    assert.equal(s.has('logward_source_lag_bytes{source="journal:ssh.service",kind="journal"}'), false);
    assert.equal(s.has('logward_source_last_line_age_seconds{source="journal:ssh.service",kind="journal"}'), false);
    const age = s.get('logward_source_last_line_age_seconds{source="/var/log/auth.log",kind="file"}');
    assert.ok(age >= 42 && age < 60, `age ${age}`);
    assert.equal(s.get('logward_rule_events_total{rule="ssh_bruteforce"}'), 30);
    assert.equal(s.get('logward_rule_events_total{rule="failed_logins"}'), 12);
    assert.equal(s.get('logward_rule_keys{rule="ssh_bruteforce"}'), 100000);
    assert.equal(s.get('logward_rule_keys_evicted_total{rule="ssh_bruteforce"}'), 25000);
    assert.equal(s.get('logward_rule_keys_evicted_total{rule="failed_logins"}'), 0);
    assert.equal(s.get('logward_incidents_alerted_total'), 4);
    assert.equal(s.get('logward_incidents_open'), 2);
    assert.equal(s.get('logward_outbox_pending'), 3);
    assert.equal(s.get('logward_enrich_cache_hits_total'), 70);
    assert.equal(s.get('logward_enrich_cache_misses_total'), 9);
    // prom-client's default process metrics, on the same private registry.
    assert.ok(s.has('process_cpu_user_seconds_total'), 'no default process metrics');
    assert.ok(s.has('nodejs_heap_size_used_bytes'), 'no default Node.js metrics');
  });

  test('metrics are read from the provider at each scrape, and sources that went away vanish', async () => {
    state.sources = [{ ...state.sources[0], lines: 1300 }];
    state.rules = { ssh_bruteforce: 31 };
    state.incidents = { alerted: 5, open: 0 };
    state.outbox = 0;
    state.enrich = null;
    try {
      const s = parseMetrics((await get(`${server.url}/metrics`)).body);
      assert.equal(s.get('logward_source_lines_total{source="/var/log/auth.log",kind="file"}'), 1300);
      assert.equal(s.has('logward_source_lines_total{source="journal:ssh.service",kind="journal"}'), false);
      assert.equal(s.has('logward_rule_events_total{rule="failed_logins"}'), false);
      assert.equal(s.get('logward_rule_events_total{rule="ssh_bruteforce"}'), 31);
      assert.equal(s.get('logward_incidents_alerted_total'), 5);
      assert.equal(s.get('logward_incidents_open'), 0);
      assert.equal(s.get('logward_outbox_pending'), 0);
      // Without an enrichment cache there are no cache samples at all.
      assert.equal(s.has('logward_enrich_cache_hits_total'), false);
      assert.equal(s.has('logward_enrich_cache_misses_total'), false);
    } finally {
      Object.assign(state, fakeStatus().state, { fail: null });
    }
  });

  test('a source label with a quote, a newline and a backslash is escaped and cannot forge a sample', async () => {
    state.sources = [...state.sources, { source: HOSTILE, kind: 'file', lines: 7, parsed: 7, notParsed: 0, events: 0, lastLineAt: null, lagBytes: 0 }];
    try {
      const r = await get(`${server.url}/metrics`);
      assert.equal(r.status, 200);
      const expected = 'logward_source_lines_total{source="evil\\"source\\nlogward_incidents_open 999 \\\\",kind="file"} 7';
      assert.ok(r.body.split('\n').includes(expected), r.body);
      const s = parseMetrics(r.body);
      assert.equal(s.get('logward_incidents_open'), 2);
      assert.equal(r.body.split('\n').filter((l) => l.startsWith('logward_incidents_open ')).length, 1);
    } finally {
      state.sources = state.sources.slice(0, 2);
    }
  });

  test('does not register its metrics in prom-client\'s global registry', async () => {
    assert.doesNotMatch(await globalRegistry.metrics(), /logward_/);
  });

  test('GET /healthz answers 200 {"status":"ok"} when healthy and 503 with the problems when not', async () => {
    const ok = await get(`${server.url}/healthz`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(JSON.parse(ok.body), { status: 'ok' });
    state.health = { ok: false, problems: ['/var/log/auth.log: EACCES: permission denied', 'outbox: 10000 messages pending'] };
    try {
      const bad = await get(`${server.url}/healthz`);
      assert.equal(bad.status, 503);
      assert.deepEqual(JSON.parse(bad.body), { status: 'unhealthy', problems: ['/var/log/auth.log: EACCES: permission denied', 'outbox: 10000 messages pending'] });
    } finally {
      state.health = { ok: true, problems: [] };
    }
  });

  test('unknown paths answer 404 and other methods 405 with Allow', async () => {
    assert.equal((await get(`${server.url}/`)).status, 404);
    assert.equal((await get(`${server.url}/metrics/extra`)).status, 404);
    assert.equal((await get(`${server.url}/metrics?name[]=x`)).status, 200);
    const post = await get(`${server.url}/metrics`, {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await get(`${server.url}/healthz`, {}, 'DELETE')).status, 405);
  });

  test('a throwing provider call answers 500, logs one line naming it, and the server keeps serving', async () => {
    for (const call of ['sources', 'enrichCache', 'health']) {
      state.fail = call;
      const before = lines.length;
      const r = await get(`${server.url}/${call === 'health' ? 'healthz' : 'metrics'}`);
      state.fail = null;
      assert.equal(r.status, 500, call);
      assert.doesNotMatch(r.body, /exploded/, 'the error detail goes to the log, not to the client');
      const logged = lines.slice(before).map((l) => JSON.parse(l));
      assert.equal(logged.length, 1, `${call}: ${lines.slice(before).join('')}`);
      assert.equal(logged[0].level, 'error');
      assert.equal(logged[0].call, call);
      assert.match(logged[0].err.message, new RegExp(`${call} exploded`));
    }
    assert.equal((await get(`${server.url}/metrics`)).status, 200);
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
  });
});

describe('the HTTP endpoint with a token', async () => {
  const TOKEN = 's3cret-Token_value';
  const { status } = fakeStatus();
  const { log, lines } = memoryLogger();
  const server = await startHttpServer({ enabled: true, host: '127.0.0.1', port: 0, token: TOKEN }, status, log, { clock: systemClock });
  after(() => server.close());

  test('answers 401 with WWW-Authenticate: Bearer without the token or with a wrong one, on every path', async () => {
    for (const p of ['/metrics', '/healthz', '/nope']) {
      for (const headers of [{}, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: 'Bearer s3cret' }, { Authorization: `Basic ${TOKEN}` }, { Authorization: TOKEN }]) {
        const r = await get(`${server.url}${p}`, headers);
        assert.equal(r.status, 401, `${p} ${JSON.stringify(headers)}`);
        assert.match(r.headers.get('www-authenticate'), /^Bearer\b/);
        assert.doesNotMatch(r.body, /logward_/);
      }
    }
  });

  test('answers with the right bearer token', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const m = await get(`${server.url}/metrics`, auth);
    assert.equal(m.status, 200);
    assert.equal(parseMetrics(m.body).get('logward_source_lines_total{source="/var/log/auth.log",kind="file"}'), 1200);
    assert.equal((await get(`${server.url}/healthz`, auth)).status, 200);
    assert.equal((await get(`${server.url}/healthz`, { Authorization: `bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(`${server.url}/nope`, auth)).status, 404);
  });

  test('never logs the token', () => {
    assert.ok(lines.length > 0, 'nothing logged at start');
    for (const l of lines) assert.doesNotMatch(l, /s3cret/);
  });
});

describe('http configuration', () => {
  function configFile(http) {
    const dir = tempDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, `http:\n${Object.entries(http).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
    return cfg;
  }

  test('binding to a non-loopback address without a token is refused with exit 78 and the problem\'s path', async () => {
    const hosts = ['0.0.0.0', '192.0.2.10', '"::"'];
    const runs = await Promise.all(hosts.map((host) => runCli(['validate', '--config', configFile({ enabled: true, host, port: 9110 })])));
    hosts.forEach((host, i) => {
      const r = runs[i];
      assert.equal(r.code, 78, r.stderr);
      const bare = host.replaceAll('"', '');
      assert.ok(r.stderr.includes(`logward.yaml: http.token: binding to ${bare} needs http.token (a bearer token), or bind to 127.0.0.1`), r.stderr);
    });
  });

  test('accepts a non-loopback address with a token from the environment, and loopback addresses without one', async () => {
    const withToken = await runCli(['validate', '--config', configFile({ enabled: true, host: '0.0.0.0', token: '${LOGWARD_HTTP_TOKEN}' })], { env: { LOGWARD_HTTP_TOKEN: 'abcdefgh-12345678' } });
    assert.equal(withToken.code, 0, withToken.stderr);
    assert.doesNotMatch(withToken.stdout + withToken.stderr, /abcdefgh-12345678/);
    const hosts = ['127.0.0.1', '127.1.2.3', 'localhost', '"::1"'];
    const runs = await Promise.all(hosts.map((host) => runCli(['validate', '--config', configFile({ enabled: true, host })])));
    hosts.forEach((host, i) => assert.equal(runs[i].code, 0, `${host}: ${runs[i].stderr}`));
    const disabled = await runCli(['validate', '--config', configFile({ enabled: false, host: '0.0.0.0' })]);
    assert.equal(disabled.code, 0, disabled.stderr);
  });

  test('a token shorter than 16 characters is refused off loopback (without printing it), and accepted on loopback', async () => {
    const short = await runCli(['validate', '--config', configFile({ enabled: true, host: '0.0.0.0', token: '${LOGWARD_HTTP_TOKEN}' })], { env: { LOGWARD_HTTP_TOKEN: 'x7Kq9' } });
    assert.equal(short.code, 78, short.stderr);
    assert.match(short.stderr, /logward\.yaml: http\.token: a token of 5 characters is too easy to guess on 0\.0\.0\.0; use at least 16/);
    assert.doesNotMatch(short.stdout + short.stderr, /x7Kq9/);
    const fifteen = await runCli(['validate', '--config', configFile({ enabled: true, host: '192.0.2.10', token: 'a'.repeat(15) })]);
    assert.equal(fifteen.code, 78, fifteen.stderr);
    const sixteen = await runCli(['validate', '--config', configFile({ enabled: true, host: '192.0.2.10', token: 'a'.repeat(16) })]);
    assert.equal(sixteen.code, 0, sixteen.stderr);
    const loopback = await runCli(['validate', '--config', configFile({ enabled: true, host: '127.0.0.1', token: 'x' })]);
    assert.equal(loopback.code, 0, loopback.stderr);
  });

  test('http.allowed_hosts takes host names, not URLs or host:port', async () => {
    const ok = await runCli(['validate', '--config', configFile({ enabled: true, allowed_hosts: '[logward.example.org, "10.0.0.5", "[2001:db8::1]"]' })]);
    assert.equal(ok.code, 0, ok.stderr);
    for (const bad of ['"https://logward.example.org"', '"logward.example.org:9110"', '"a b"']) {
      const r = await runCli(['validate', '--config', configFile({ enabled: true, allowed_hosts: `[${bad}]` })]);
      assert.equal(r.code, 78, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /http\.allowed_hosts\[0\]: must be a host name or address without scheme or port/);
    }
  });

  test('a header timeout longer than the request timeout is a problem at http.header_timeout_secs', async () => {
    const r = await runCli(['validate', '--config', configFile({ header_timeout_secs: 60, request_timeout_secs: 30 })]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /logward\.yaml: http\.header_timeout_secs: 60 s is longer than http\.request_timeout_secs \(30 s\)/);
  });

  test('an empty token (an unset variable with an empty default) counts as no token', async () => {
    const r = await runCli(['validate', '--config', configFile({ enabled: true, host: '0.0.0.0', token: '"${LW_NO_SUCH_TOKEN:-}"' })]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /http\.token: binding to 0\.0\.0\.0 needs http\.token/);
  });

  test('a port out of range is a problem at http.port', async () => {
    const r = await runCli(['validate', '--config', configFile({ port: 70000 })]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /logward\.yaml: http\.port: /);
  });
});
