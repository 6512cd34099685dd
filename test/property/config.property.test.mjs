// The config loader on random YAML documents and on random mutations of the bundled
// config/logward.yaml. Whatever the file holds, loadConfig either returns a Config that
// keeps the promises of its type and schema, or throws the one config error (AppError
// CONFIG_INVALID, exit 78) listing every problem with its path; never anything else.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../dist/config/load.js';
import { AppError, EXIT } from '../../dist/util/errors.js';
import { compileRuleSet } from '../../dist/core/rules.js';
import { MAX_WINDOW_MS } from '../../dist/core/window.js';
import { FORMAT_NAMES, SEVERITIES } from '../../dist/core/types.js';
import { fc, params } from './fc-params.mjs';

const ENV = { LOGWARD_TEST_SET: 'from-env', EMPTY: '' };

let dir;
let file;
let bundled;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-config-prop-'));
  file = path.join(dir, 'logward.yaml');
  bundled = YAML.parse(fs.readFileSync('config/logward.yaml', 'utf8'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads text as a config file: the Config, or the error thrown. */
function load(text) {
  fs.writeFileSync(file, text);
  try {
    return { config: loadConfig(file, { env: ENV }) };
  } catch (err) {
    return { err };
  }
}

function assertConfigError(err) {
  assert.ok(err instanceof AppError, `an AppError, not ${err?.name}: ${err?.stack ?? err}`);
  assert.equal(err.code, 'CONFIG_INVALID');
  assert.equal(err.exitCode, EXIT.CONFIG);
  assert.equal(err.exitCode, 78);
  assert.ok(err.details.length > 0, 'lists its problems');
  for (const d of err.details) {
    assert.equal(typeof d, 'string');
    // "<file, file:line:col, a rule file or rules.files>[: <path>]: <message>": never without a path.
    assert.match(d, /^[^:\s][^\n]*?: \S/, d);
  }
}

function assertDeepFrozen(v, at = 'config') {
  if (v === null || typeof v !== 'object') return;
  assert.ok(Object.isFrozen(v), `${at} is frozen`);
  for (const [k, x] of Object.entries(v)) assertDeepFrozen(x, `${at}.${k}`);
}

const isInt = (n, min, max) => Number.isInteger(n) && n >= min && n <= max;
const positiveFinite = (n) => typeof n === 'number' && Number.isFinite(n) && n > 0;

function validZone(tz) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function assertConfig(c) {
  assertDeepFrozen(c);
  assert.ok(['auto', ...FORMAT_NAMES].includes(c.input.format));
  assert.ok(validZone(c.input.timeZone), `input zone ${c.input.timeZone}`);
  assert.ok(c.input.year === null || isInt(c.input.year, 1970, 9999));
  assert.ok(isInt(c.input.maxLineBytes, 256, 64 * 1024 * 1024));
  const lim = c.detection.limits;
  assert.ok(isInt(lim.maxKeysPerRule, 1, Number.MAX_SAFE_INTEGER) && isInt(lim.maxSamplesPerIncident, 0, 1000));
  assert.ok(isInt(lim.maxValuesPerIncident, 1, 100_000) && isInt(lim.maxSampleChars, 1, 1_000_000));
  const names = c.detection.rules.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, 'rule names are unique');
  for (const r of c.detection.rules) {
    assert.ok(isInt(r.windowMs, 1000, MAX_WINDOW_MS), `${r.name} window ${r.windowMs}`);
    assert.ok(isInt(r.threshold, 1, Number.MAX_SAFE_INTEGER), `${r.name} threshold ${r.threshold}`);
    assert.ok(Number.isFinite(r.cooldownMs) && r.cooldownMs >= 0, `${r.name} cooldown ${r.cooldownMs}`);
    assert.ok(SEVERITIES.includes(r.severity));
  }
  for (const n of c.enabledRules) assert.ok(names.includes(n), `enabled rule ${n} exists`);
  assert.deepEqual(compileRuleSet(c.detection).problems, []);
  assert.ok(c.reports.formats.length > 0 && new Set(c.reports.formats).size === c.reports.formats.length);
  for (const f of c.reports.formats) assert.ok(['json', 'csv', 'html'].includes(f));
  assert.ok(isInt(c.reports.maxEvents, 0, 10_000_000));
  assert.ok(typeof c.reports.dir === 'string' && c.reports.dir !== '' && typeof c.state.dir === 'string' && c.state.dir !== '');
  for (const s of c.sources) {
    assert.ok(s.kind === 'file' ? typeof s.path === 'string' && s.path !== '' : s.kind === 'journal');
    assert.ok(['end', 'beginning'].includes(s.startAt));
  }
  for (const [k, v] of Object.entries({ ...c.run, ...c.mail, ...c.webhook, ...c.delivery, ...c.enrich })) {
    if (k.endsWith('Ms')) assert.ok(positiveFinite(v), `${k} = ${v}`);
  }
  assert.ok(validZone(c.run.timeZone), `run zone ${c.run.timeZone}`);
  assert.ok(isInt(c.http.port, 0, 65_535));
  if (c.http.enabled && c.http.token === null) assert.match(c.http.host, /^(?:127\.|::1$|localhost$|\[::1\]$)/);
}

function check(text) {
  const { config, err } = load(text);
  if (err !== undefined) assertConfigError(err);
  else assertConfig(config);
}

/** Keys of the real schema (so random documents get past the first unknown key) and hostile ones. */
const KEY_WORDS = ['rules', 'files', 'enabled', 'overrides', 'input', 'format', 'timezone', 'year', 'max_line_bytes', 'limits',
  'max_keys_per_rule', 'reports', 'formats', 'sources', 'path', 'journal', 'start_at', 'run', 'poll_secs', 'report_cron', 'mail',
  'webhook', 'url', 'headers', 'delivery', 'alert_stream', 'enrich', 'http', 'port', 'token', 'host', 'window_secs', 'threshold',
  'cooldown_secs', 'severity', 'ssh_bruteforce', '__proto__', 'constructor', 'toString', 'x'];

const controlString = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), fc.constantFrom('\u007f', '\u2028', '\ufeff', '\ud800', 'a', ' ')), { maxLength: 8 }).map((a) => a.join(''));
const scalar = fc.oneof(
  fc.integer(), fc.integer({ min: -2, max: 70_000 }), fc.double(), fc.constantFrom(0, -1, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 1e21, Infinity, -Infinity, NaN),
  fc.boolean(), fc.constant(null), fc.string({ maxLength: 12 }), controlString,
  fc.constantFrom('', 'UTC', 'local', 'Mars/Olympus', 'auto', 'syslog', 'json', 'html', 'high', 'off', '* * * * *', '61 * * * *', '0.0.0.0',
    'http://example.invalid/hook', 'ftp://x', '${LOGWARD_TEST_SET}', '${LOGWARD_TEST_UNSET}', '${LOGWARD_TEST_UNSET:-7}', '${', 'config/rules/*.yaml', 'beginning'),
);
const { value: randomValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...KEY_WORDS), fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 5 }),
}));

/** YAML that JSON cannot say: .inf, .nan, anchors and aliases, tags, duplicate keys, tabs. */
const yamlOddity = fc.constantFrom(
  'run:\n  poll_secs: .inf\n', 'run:\n  poll_secs: .nan\n', 'limits:\n  max_keys_per_rule: 0x10\n', 'limits:\n  max_keys_per_rule: 1e3\n',
  'a: &x [1, 2]\nb: *x\n', 'rules: *missing\n', 'run: !!str 5\n', 'run:\n  poll_secs: 5\n  poll_secs: 6\n', '\t- x\n', '--- 1\n--- 2\n',
  'x: &a [*a]\n', '? [a, b]\n: c\n', '%YAML 1.1\n---\nrun: {poll_secs: 5}\n', 'run: {poll_secs: !!float "5"}\n',
  `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
);

test('a random YAML document loads into a valid config or fails with the config error listing its problems', () => {
  const doc = fc.oneof(
    { weight: 4, arbitrary: randomValue.map((v) => YAML.stringify(v)) },
    { weight: 2, arbitrary: yamlOddity },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );
  fc.assert(fc.property(doc, check), params(40));
});

/** Every path of a plain document, as key/index lists. */
function paths(v, at = []) {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function mutate(doc, [kind, pick, value, key]) {
  const all = paths(doc).slice(1);
  if (all.length === 0) return doc;
  const p = all[pick % all.length];
  const parent = p.slice(0, -1).reduce((o, k) => o[k], doc);
  const last = p[p.length - 1];
  if (kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last, 1);
    else delete parent[last];
  } else if (kind === 'set') {
    parent[last] = value;
  } else if (kind === 'add' && parent !== null && typeof parent === 'object' && !Array.isArray(parent)) {
    // defineProperty: "__proto__" must become a key of the document, not its prototype.
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  } else if (kind === 'rename' && !Array.isArray(parent)) {
    const v = parent[last];
    delete parent[last];
    Object.defineProperty(parent, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

test('a mutated bundled config (keys deleted, wrong types, huge numbers, control characters) loads valid or fails with the config error', () => {
  const mutation = fc.tuple(fc.constantFrom('delete', 'set', 'set', 'add', 'rename'), fc.nat(), randomValue, fc.constantFrom(...KEY_WORDS));
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
    const doc = ms.reduce(mutate, structuredClone(bundled));
    check(YAML.stringify(doc));
  }), params(70));
});

test('the bundled config loads and keeps every invariant', () => {
  check(fs.readFileSync('config/logward.yaml', 'utf8'));
});

test('YAML aliases that are unresolved, self-containing or expanding past the bound are config errors', () => {
  const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [${'*a,'.repeat(9)}*a]\nc: &c [${'*b,'.repeat(9)}*b]\nd: [${'*c,'.repeat(9)}*c]\n`;
  for (const [text, problem] of [['rules: *missing\n', /Unresolved alias/], ['x: &a [*a]\n', /contains it/], [bomb, /alias count/]]) {
    const { err } = load(text);
    assertConfigError(err);
    assert.match(err.details.join('\n'), problem);
  }
});

test('a "__proto__" key is reported as unknown, not silently dropped', () => {
  for (const text of ['run:\n  __proto__: 5\n', 'run:\n  __proto__: { poll_secs: 7 }\n']) {
    const { err } = load(text);
    assertConfigError(err);
    assert.match(err.details.join('\n'), /run: unknown key "__proto__"/);
  }
});

test('an empty rule file name in an otherwise invalid config is reported with its path only', () => {
  const { err } = load('rules:\n  files: [""]\n  enabled: 5\n');
  assertConfigError(err);
  assert.ok(err.details.some((d) => /rules\.files\[0\]/.test(d)));
});
