// Which config file a command reads (config/locate.ts) and what the paths in it mean
// (config/paths.ts). /etc/logward/logward.yaml is moved into a temp dir here: the
// integration tests run the same lookup through the installed CLI (install.test.mjs).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { locateConfig, describeOrigin, PACKAGE_ROOT, PACKAGED_CONFIG, PACKAGED_RULES } from '../../dist/config/locate.js';
import { defaultReportsDir, defaultStateDir, rulePatterns, stateDirectoryOf } from '../../dist/config/paths.js';
import { loadConfig } from '../../dist/config/load.js';
import { ROOT } from '../helpers/cli.mjs';

function places() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-locate-'));
  const cwd = path.join(dir, 'work');
  fs.mkdirSync(path.join(cwd, 'config'), { recursive: true });
  const files = { system: path.join(dir, 'etc', 'logward.yaml'), local: path.join(cwd, 'config', 'logward.yaml'), packaged: path.join(dir, 'pkg', 'logward.yaml'), env: path.join(dir, 'env.yaml') };
  for (const f of Object.values(files)) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, '{}\n');
  }
  return { cwd, files, opts: (env = {}) => ({ env, cwd, systemFile: files.system, packagedFile: files.packaged }) };
}

describe('locateConfig', () => {
  test('takes --config, then $LOGWARD_CONFIG, then /etc/logward, then ./config, then the packaged file', () => {
    const { files, opts } = places();
    assert.deepEqual(locateConfig('x.yaml', opts({ LOGWARD_CONFIG: files.env })), { file: 'x.yaml', origin: 'option' });
    assert.deepEqual(locateConfig(null, opts({ LOGWARD_CONFIG: files.env })), { file: files.env, origin: 'env' });
    assert.deepEqual(locateConfig(null, opts({ LOGWARD_CONFIG: '' })), { file: files.system, origin: 'system' });
    fs.rmSync(files.system);
    assert.deepEqual(locateConfig(null, opts()), { file: files.local, origin: 'local' });
    fs.rmSync(files.local);
    assert.deepEqual(locateConfig(null, opts()), { file: files.packaged, origin: 'packaged' });
    fs.rmSync(files.packaged);
    assert.deepEqual(locateConfig(null, opts()), { file: null, origin: 'none' });
  });

  test('returns a named file that does not exist (reading it then fails with its name), and skips a directory in the other places', () => {
    const { files, opts } = places();
    assert.equal(locateConfig(null, opts({ LOGWARD_CONFIG: '/nonexistent.yaml' })).file, '/nonexistent.yaml');
    fs.rmSync(files.system);
    fs.mkdirSync(files.system);
    assert.equal(locateConfig(null, opts()).origin, 'local');
  });

  test('finds the package from its own location, not the working directory', () => {
    assert.equal(PACKAGE_ROOT, ROOT);
    assert.equal(PACKAGED_CONFIG, path.join(ROOT, 'config', 'logward.yaml'));
    assert.equal(PACKAGED_RULES, path.join(ROOT, 'config', 'rules', '*.yaml'));
    for (const o of ['option', 'env', 'system', 'local', 'packaged', 'none']) assert.ok(describeOrigin(o).length > 0);
  });
});

describe('config paths', () => {
  const base = (env = {}) => ({ configDir: '/etc/logward', cwd: '/home/op', env });

  test('a relative rule file starts at the config directory; none given means the builtin rules', () => {
    assert.deepEqual(rulePatterns(['rules/*.yaml', '/abs/x.yaml'], base()), ['/etc/logward/rules/*.yaml', '/abs/x.yaml']);
    assert.deepEqual(rulePatterns(null, base()), [PACKAGED_RULES]);
  });

  test('state and reports default to the working directory, or $STATE_DIRECTORY under systemd', () => {
    assert.equal(defaultStateDir(base()), '/home/op/data');
    assert.equal(defaultReportsDir(base()), '/home/op/reports');
    const systemd = base({ STATE_DIRECTORY: '/var/lib/logward:/var/lib/other' });
    assert.equal(stateDirectoryOf(systemd.env), '/var/lib/logward');
    assert.equal(defaultStateDir(systemd), '/var/lib/logward');
    assert.equal(defaultReportsDir(systemd), '/var/lib/logward/reports');
    assert.equal(stateDirectoryOf({ STATE_DIRECTORY: '' }), null);
  });
});

test('every relative path of a config file starts at its directory; defaults follow the resolved dirs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-paths-'));
  fs.mkdirSync(path.join(dir, 'rules'));
  fs.copyFileSync(path.join(ROOT, 'config', 'rules', 'ssh.yaml'), path.join(dir, 'rules', 'ssh.yaml'));
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, [
    'rules: { files: [rules/*.yaml] }',
    'scan: { files: [logs, "-"] }',
    'sources:',
    '  - { path: "logs/*.log" }',
    '  - { journal: { files: [j/system.journal], directory: jdir, journalctl: bin/journalctl } }',
    '  - { journal: { journalctl: journalctl } }',
    'state: { dir: st }',
    'reports: { dir: ../out }',
    'mail: { ca_file: ca.pem }',
    'delivery: { alert_stream: siem/alerts.jsonl }',
    'enrich: { cache_file: cache/ip.json }',
    '',
  ].join('\n'));
  const c = loadConfig(file, { env: {} });
  assert.equal(c.sourceFrom, 'option');
  assert.deepEqual(c.ruleFiles, [path.join(dir, 'rules', 'ssh.yaml')]);
  assert.deepEqual(c.scan.files, [path.join(dir, 'logs'), '-']);
  assert.equal(c.sources[0].path, path.join(dir, 'logs', '*.log'));
  assert.deepEqual(c.sources[1].journal, { units: [], identifiers: [], files: [path.join(dir, 'j', 'system.journal')], directory: path.join(dir, 'jdir'), journalctl: path.join(dir, 'bin', 'journalctl') });
  assert.equal(c.sources[2].journal.journalctl, 'journalctl', 'a bare name is looked up in PATH');
  assert.equal(c.state.dir, path.join(dir, 'st'));
  assert.equal(c.reports.dir, path.join(path.dirname(dir), 'out'));
  assert.equal(c.mail.caFile, path.join(dir, 'ca.pem'));
  assert.equal(c.delivery.alertStream, path.join(dir, 'siem', 'alerts.jsonl'));
  assert.equal(c.enrich.cacheFile, path.join(dir, 'cache', 'ip.json'));
  // Unset: the outbox under the resolved reports dir, the cache under the resolved state dir.
  fs.writeFileSync(file, 'state: { dir: st }\nreports: { dir: rep }\n');
  const d = loadConfig(file, { env: { STATE_DIRECTORY: '/ignored/when/set' } });
  assert.equal(d.mail.outboxDir, path.join(dir, 'rep', 'outbox'));
  assert.equal(d.delivery.alertStream, path.join(dir, 'rep', 'alerts.jsonl'));
  assert.equal(d.enrich.cacheFile, path.join(dir, 'st', 'ip-cache.json'));
  assert.deepEqual(d.ruleFiles, fs.readdirSync(path.join(ROOT, 'config', 'rules')).sort().map((f) => path.join(ROOT, 'config', 'rules', f)));
  fs.writeFileSync(file, '{}\n');
  const e = loadConfig(file, { env: { STATE_DIRECTORY: '/var/lib/logward' } });
  assert.equal(e.state.dir, '/var/lib/logward');
  assert.equal(e.reports.dir, '/var/lib/logward/reports');
});
