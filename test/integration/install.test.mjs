// The package as a user gets it: `npm pack`, `npm install -g` into a temporary prefix, then
// the installed `logward` run from a directory that holds nothing of the project. The
// builtin rules and the default config come from the installed package; the config
// lookup (--config, $LOGWARD_CONFIG, ./config/logward.yaml, the packaged one) and paths
// relative to the config file are checked on the installed command too. The npm registry
// is not needed: the dependencies come from npm's cache (--prefer-offline).

import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.mjs';
import { attackLine } from '../helpers/daemon.mjs';

const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The environment of a user's shell: none of the variables that choose a config or state dir. */
function userEnv(extra = {}) {
  const env = { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'warn', npm_config_update_notifier: 'false', ...extra };
  for (const k of ['LOGWARD_CONFIG', 'STATE_DIRECTORY']) if (!(k in extra)) delete env[k];
  return env;
}

function npm(args, cwd) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 180_000, env: userEnv() });
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed: ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let prefix;
let bin;
let installed;
let packed;

before(() => {
  const out = tempDir('logward-pack-');
  // --ignore-scripts: dist/ is built before the tests; prepare would rebuild it under
  // the feet of test files running at the same time.
  const [info] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', out], ROOT));
  packed = info.files.map((f) => f.path);
  prefix = tempDir('logward-prefix-');
  npm(['install', '--global', '--prefix', prefix, path.join(out, info.filename), '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], out);
  bin = path.join(prefix, 'bin', 'logward');
  installed = path.join(prefix, 'lib', 'node_modules', 'logward');
});

/** The installed `logward ARGS`, started as a shell would (through its #! line), in `cwd`. */
function logward(args, cwd, env = {}) {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 120_000, env: userEnv(env) });
  assert.ifError(r.error);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A directory with nothing of the project in it, and an auth log with a brute force. */
function elsewhere() {
  const dir = tempDir('logward-elsewhere-');
  const log = path.join(dir, 'auth.log');
  fs.writeFileSync(log, Array.from({ length: 6 }, (_, i) => attackLine(i + 1)).join(''));
  return { dir, log };
}

describe('the npm package', () => {
  test('ships LICENSE, the systemd unit and the health check, and no source map without its sources', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/cli.js', 'config/logward.yaml', 'config/rules/ssh.yaml', 'systemd/logward.service', 'docker/healthcheck.mjs']) {
      assert.ok(packed.includes(f), `${f} is not in the package: ${packed.join(', ')}`);
    }
    assert.match(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} the logward authors\n/);
    assert.equal(PKG.license, 'MIT');
    for (const map of packed.filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(installed, map), 'utf8'));
      for (const s of sources) assert.ok(packed.includes(path.posix.normalize(path.posix.join(path.posix.dirname(map), s))), `${map} points at ${s}, which is not shipped`);
    }
    // ... nor a compiled file that names a map the package lacks.
    for (const js of packed.filter((f) => f.endsWith('.js'))) {
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(path.join(installed, js), 'utf8'))?.[1];
      if (ref !== undefined && !ref.startsWith('data:')) assert.ok(packed.includes(path.posix.join(path.posix.dirname(js), ref)), `${js} names ${ref}, which is not shipped`);
    }
    assert.equal(packed.some((f) => f.startsWith('src/') || f.startsWith('test/')), false, 'sources or tests are shipped');
  });

  test('installs a logward command that prints its version anywhere', () => {
    const { dir } = elsewhere();
    const r = logward(['--version'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `logward ${PKG.version}\n`);
  });
});

describe('the installed logward, run outside the package', () => {
  test('validate reads the packaged config with the builtin rules and says so', () => {
    const { dir } = elsewhere();
    const r = logward(['validate'], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `configuration OK: ${path.join(installed, 'config', 'logward.yaml')} (the packaged default: no --config, no $LOGWARD_CONFIG, no /etc/logward/logward.yaml, no ./config/logward.yaml)`);
    assert.match(r.stdout, new RegExp(`rule files: ${path.join(installed, 'config', 'rules')}/errors\\.yaml, `));
    assert.match(r.stdout, /rules enabled \(\d+\): .*\bssh_bruteforce\b/);
    // What it writes lands where it runs: ./reports and ./data.
    assert.match(r.stdout, /; reports: reports \(/);
    assert.match(r.stdout, /\n {2}state: data\n/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['auth.log'], 'validate wrote nothing');
  });

  test('scan of a log writes its reports into ./reports of the working directory', () => {
    const { dir, log } = elsewhere();
    const r = logward(['scan', log], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^\\[\\+\\] Wrote reports to base: ${path.join(dir, 'reports')}/report_\\d{8}_\\d{6}\\n`));
    assert.match(r.stdout, /\[\+\] Read 6 lines from 1 file \(0 not parsed\)/);
    assert.match(r.stdout, /- failed_logins at /);
    assert.ok(fs.readdirSync(path.join(dir, 'reports')).some((f) => /^report_\d{8}_\d{6}\.json$/.test(f)));
  });

  test('run --once on a file alerts, and keeps its state in ./data', () => {
    const { dir, log } = elsewhere();
    const r = logward(['run', '--once', log], dir);
    assert.equal(r.code, 0, r.stderr);
    const alerts = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.alert);
    // The packaged config also follows the package's sample logs: the file named is read too.
    assert.ok(alerts.some((a) => a.alert.rule === 'failed_logins' && a.alert.ips.includes('10.0.0.1')), 'no alert on the file named');
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'data', 'logward-state.json'), 'utf8'));
    assert.ok(Object.keys(state.files).includes(log), `the state does not cover ${log}`);
    assert.ok(fs.readdirSync(path.join(dir, 'reports')).some((f) => f.endsWith('.json')), 'no shutdown report in ./reports');
  });

  test('under systemd, state and reports default to $STATE_DIRECTORY', () => {
    const { dir, log } = elsewhere();
    const stateDir = tempDir('logward-statedir-');
    const r = logward(['run', '--once', log], dir, { STATE_DIRECTORY: stateDir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(stateDir, 'logward-state.json')));
    assert.ok(fs.readdirSync(path.join(stateDir, 'reports')).some((f) => f.endsWith('.json')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['auth.log'], 'nothing lands in the working directory');
    const v = logward(['validate'], dir, { STATE_DIRECTORY: stateDir });
    assert.match(v.stdout, new RegExp(`\\n {2}state: ${stateDir}\\n`));
  });
});

describe('the config lookup of the installed logward', () => {
  /** A config in its own directory, every path in it relative: its own rule file, log, state and reports. */
  function configDir() {
    const dir = tempDir('logward-cfg-');
    fs.mkdirSync(path.join(dir, 'logs'));
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), Array.from({ length: 3 }, (_, i) => attackLine(i + 1)).join(''));
    fs.writeFileSync(path.join(dir, 'my-rules.yaml'), [
      'matchers:',
      '  - name: my_failed',
      '    programs: [sshd]',
      '    patterns: ["^Failed password for (?<user>\\\\S+) from (?<ip>\\\\S+)"]',
      'rules:',
      '  - name: my_bruteforce',
      '    matcher: my_failed',
      '    window_secs: 60',
      '    threshold: 3',
      '    severity: high',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'logward.yaml'), [
      'rules:',
      '  files: [my-rules.yaml]',
      'input: { timezone: UTC, year: 2025 }',
      'sources:',
      '  - { path: logs/app.log, start_at: beginning }',
      'state: { dir: state }',
      'reports: { dir: out }',
      '',
    ].join('\n'));
    return dir;
  }

  test('$LOGWARD_CONFIG names the file; its relative paths start at its own directory', () => {
    const cfg = configDir();
    const { dir } = elsewhere();
    const file = path.join(cfg, 'logward.yaml');
    const v = logward(['validate'], dir, { LOGWARD_CONFIG: file });
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.split('\n')[0], `configuration OK: ${file} (named by $LOGWARD_CONFIG)`);
    assert.match(v.stdout, new RegExp(`rule files: ${path.join(cfg, 'my-rules.yaml')}\\n`));
    assert.match(v.stdout, /rules enabled \(1\): my_bruteforce\n/);
    const r = logward(['run', '--once'], dir, { LOGWARD_CONFIG: file });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ALERT my_bruteforce/);
    assert.ok(fs.existsSync(path.join(cfg, 'state', 'logward-state.json')), 'state.dir: state is not in the config directory');
    assert.ok(fs.readdirSync(path.join(cfg, 'out')).some((f) => f.endsWith('.json')), 'reports.dir: out is not in the config directory');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['auth.log']);
  });

  test('--config comes before $LOGWARD_CONFIG, which comes before ./config/logward.yaml', () => {
    const cfg = configDir();
    const { dir } = elsewhere();
    fs.mkdirSync(path.join(dir, 'config'));
    fs.copyFileSync(path.join(cfg, 'logward.yaml'), path.join(dir, 'config', 'logward.yaml'));
    fs.copyFileSync(path.join(cfg, 'my-rules.yaml'), path.join(dir, 'config', 'my-rules.yaml'));
    const local = logward(['validate'], dir);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout.split('\n')[0], 'configuration OK: config/logward.yaml (found as ./config/logward.yaml in the working directory)');
    assert.match(local.stdout, /rule files: config\/my-rules\.yaml\n/);
    const env = logward(['validate'], dir, { LOGWARD_CONFIG: path.join(cfg, 'logward.yaml') });
    assert.match(env.stdout, /\(named by \$LOGWARD_CONFIG\)\n/);
    const option = logward(['validate', '--config', path.join(installed, 'config', 'logward.yaml')], dir, { LOGWARD_CONFIG: path.join(cfg, 'logward.yaml') });
    assert.equal(option.code, 0, option.stderr);
    assert.match(option.stdout, /\(named by --config\)\n/);
    assert.match(option.stdout, /rules enabled \(\d+\): .*\bssh_bruteforce\b/);
  });

  test('a $LOGWARD_CONFIG that does not exist is an error naming the variable (exit 78)', () => {
    const { dir } = elsewhere();
    const r = logward(['scan', 'auth.log'], dir, { LOGWARD_CONFIG: path.join(dir, 'nope.yaml') });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /cannot read config file .*nope\.yaml \(ENOENT: no such file or directory\); check the path in \$LOGWARD_CONFIG/);
  });
});
