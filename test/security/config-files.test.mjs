// The configuration, the rule files and .env are read only when they are small regular
// files. Issue 16 reproduced the failures: `--config /dev/zero` grew to 8 GB in 20 s, a rule
// glob matching a link to /dev/zero to 7 GB, a FIFO config hung, and a rule file linked
// to a shadow-like file had its content echoed in the error. Each case here runs the real
// CLI, bounded by a kill timer: it must exit 78 quickly (a process that exits in seconds
// cannot have grown to gigabytes), name the file and where its link leads, and never
// print the file's secret-looking content. `logward validate` says the same as scan.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers/cli.mjs';

const KILL_AFTER_MS = 20_000;
const MAX_WALL_MS = 10_000;
const MiB = 1024 * 1024;
const LOG = path.join(ROOT, 'data', 'sample_logs', 'auth.log');
const SHADOW = [
  'root:$6$saltsalt$hashhashhashhashhashhashhashhashhashhashhashhashhashhashhash:19000:0:99999:7:::',
  'daemon:*:19000:0:99999:7:::',
  'operator:$6$pepperpepper$secretsecretsecretsecretsecretsecret:19000:0:99999:7:::',
  '',
].join('\n');

/** `logward ARGS` killed after KILL_AFTER_MS; resolves with { code, stdout, stderr, ms, killed }. */
function runBounded(args, { cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'warn', LOGWARD_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, KILL_AFTER_MS);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** Both scan and validate: each exits 78 quickly; they print the same problems. */
async function refused(configArgs, { cwd } = {}) {
  const out = tempDir('logward-cf-out-');
  const scan = await runBounded(['scan', ...configArgs, '--out', out, '--quiet', LOG], { cwd });
  const validate = await runBounded(['validate', ...configArgs], { cwd });
  for (const [name, r] of [['scan', scan], ['validate', validate]]) {
    assert.equal(r.killed, false, `${name} hung: killed after ${KILL_AFTER_MS} ms`);
    assert.ok(r.ms < MAX_WALL_MS, `${name} took ${r.ms} ms`);
    assert.equal(r.code, 78, `${name}: ${r.stderr}`);
  }
  assert.equal(validate.stderr, scan.stderr, 'validate and scan say the same');
  assert.deepEqual(fs.readdirSync(out), [], 'nothing written on a refused configuration');
  return validate.stderr;
}

function realTemp(prefix) {
  return fs.realpathSync(tempDir(prefix));
}

function mkfifo(p) {
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
  return p;
}

function assertNoSecret(stderr) {
  for (const s of ['$6$', 'saltsalt', 'hashhash', 'pepper', 'secretsecret', '19000:0:99999']) {
    assert.ok(!stderr.includes(s), `"${s}" in stderr:\n${stderr}`);
  }
  for (const line of stderr.split('\n')) assert.ok(line.length < 400, `a long line: ${line}`);
}

const validRules = 'matchers:\n  - name: m1\n    patterns: ["^x (?<ip>\\\\S+)"]\nrules:\n  - name: r1\n    matcher: m1\n    key: ip\n    window_secs: 60\n    threshold: 2\n';

describe('config files that are not small regular files', () => {
  test('--config /dev/zero is refused as a device, at once', async () => {
    const err = await refused(['--config', '/dev/zero']);
    assert.match(err, /^logward: cannot read config file \/dev\/zero \(it is a device, not a regular file; only regular files are read\); check the path given to --config\n$/);
  });

  test('a config that is a link to /dev/zero names the link and /dev/zero', async () => {
    const dir = realTemp('logward-cf-');
    const cfg = path.join(dir, 'logward.yaml');
    fs.symlinkSync('/dev/zero', cfg);
    const err = await refused(['--config', cfg]);
    assert.ok(err.includes(`cannot read config file ${cfg} -> /dev/zero (it is a device, not a regular file`), err);
  });

  test('a FIFO config never blocks: refused without waiting for a writer', async () => {
    const dir = realTemp('logward-cf-');
    const cfg = mkfifo(path.join(dir, 'logward.yaml'));
    const err = await refused(['--config', cfg]);
    assert.ok(err.includes(`cannot read config file ${cfg} (it is a FIFO (named pipe), not a regular file`), err);
  });

  test('a config over 1 MiB is refused; one of exactly 1 MiB is read', async () => {
    const dir = realTemp('logward-cf-');
    const cfg = path.join(dir, 'logward.yaml');
    const head = 'input:\n  timezone: UTC\n# ';
    const exact = `${head}${'x'.repeat(MiB - head.length - 1)}\n`;
    assert.equal(Buffer.byteLength(exact), MiB);
    fs.writeFileSync(cfg, exact);
    const ok = await runBounded(['validate', '--config', cfg]);
    assert.equal(ok.code, 0, ok.stderr);
    fs.appendFileSync(cfg, '#');
    const err = await refused(['--config', cfg]);
    assert.ok(err.includes(`cannot read config file ${cfg} (it has ${MiB + 1} bytes, over the limit of 1 MiB)`), err);
  });

  test('rule files matching a glob: a link to /dev/zero, a FIFO and a file over 1 MiB are each named, with the config\'s own problems, in one run', async () => {
    const dir = realTemp('logward-cf-');
    fs.mkdirSync(path.join(dir, 'rules'));
    fs.writeFileSync(path.join(dir, 'rules', 'a-good.yaml'), validRules);
    fs.symlinkSync('/dev/zero', path.join(dir, 'rules', 'b-zero.yaml'));
    mkfifo(path.join(dir, 'rules', 'c-pipe.yaml'));
    fs.writeFileSync(path.join(dir, 'rules', 'd-big.yaml'), `# ${'y'.repeat(MiB)}\n`);
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, 'rules:\n  files: [rules/*.yaml]\nreprots: {}\n');
    const err = await refused(['--config', cfg]);
    const [head, ...details] = err.trim().split('\n').map((l) => l.trim());
    assert.match(head, /: 4 problems; fix them/);
    const r = path.join(dir, 'rules');
    assert.deepEqual(details.sort(), [
      `${cfg}: (top level): unknown key "reprots"; check the spelling against config/logward.yaml`,
      `${r}/b-zero.yaml -> /dev/zero: cannot read rule file (it is a device, not a regular file; only regular files are read)`,
      `${r}/c-pipe.yaml: cannot read rule file (it is a FIFO (named pipe), not a regular file; only regular files are read)`,
      `${r}/d-big.yaml: cannot read rule file (it has ${MiB + 3} bytes, over the limit of 1 MiB)`,
    ].sort());
  });

  test('a rule file linked to a shadow-like file: the link and its target named, the content never shown', async () => {
    const dir = realTemp('logward-cf-');
    const secret = path.join(dir, 'shadow');
    fs.writeFileSync(secret, SHADOW, { mode: 0o600 });
    fs.symlinkSync(secret, path.join(dir, 'rules.yaml'));
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, 'rules:\n  files: [rules.yaml]\n');
    const err = await refused(['--config', cfg]);
    assertNoSecret(err);
    assert.ok(err.includes(`${path.join(dir, 'rules.yaml')} -> ${secret}: (top level): unknown keys "root…", "daemon…", "operator…"`), err);
  });

  test('a config linked to a shadow-like file: the header names the target, no content shown', async () => {
    const dir = realTemp('logward-cf-');
    const secret = path.join(dir, 'shadow');
    fs.writeFileSync(secret, SHADOW + 'a:::\nb:::\n', { mode: 0o600 });
    const cfg = path.join(dir, 'logward.yaml');
    fs.symlinkSync(secret, cfg);
    const err = await refused(['--config', cfg]);
    assertNoSecret(err);
    assert.ok(err.startsWith(`logward: invalid configuration in ${cfg} -> ${secret}: 1 problem`), err);
    assert.match(err, /unknown keys "root…", "daemon…", "operator…" and 2 more;/);
  });

  test('links to regular files are followed: a linked config and rule file are read', async () => {
    const dir = realTemp('logward-cf-');
    fs.mkdirSync(path.join(dir, 'real'));
    fs.writeFileSync(path.join(dir, 'real', 'my-rules.yaml'), validRules);
    fs.writeFileSync(path.join(dir, 'real', 'logward.yaml'), `rules:\n  files: [${path.join(dir, 'rules', '*.yaml')}]\n`);
    fs.mkdirSync(path.join(dir, 'rules'));
    fs.symlinkSync(path.join(dir, 'real', 'my-rules.yaml'), path.join(dir, 'rules', 'linked.yaml'));
    fs.symlinkSync(path.join(dir, 'real', 'logward.yaml'), path.join(dir, 'logward.yaml'));
    const r = await runBounded(['validate', '--config', path.join(dir, 'logward.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rules enabled \(1\): r1\n/);
  });
});

describe('.env follows the same rules', () => {
  for (const [name, make, why] of [
    ['a link to /dev/zero', (p) => fs.symlinkSync('/dev/zero', p), '.env -> /dev/zero (it is a device, not a regular file'],
    ['a FIFO', (p) => mkfifo(p), '.env (it is a FIFO (named pipe), not a regular file'],
    ['over 1 MiB', (p) => fs.writeFileSync(p, `# ${'z'.repeat(MiB)}\n`), `.env (it has ${MiB + 3} bytes, over the limit of 1 MiB)`],
  ]) {
    test(`.env that is ${name} is refused with exit 78`, async () => {
      const dir = realTemp('logward-cf-');
      const cfg = path.join(dir, 'logward.yaml');
      fs.writeFileSync(cfg, 'input:\n  timezone: UTC\n');
      make(path.join(dir, '.env'));
      const err = await refused(['--config', cfg], { cwd: dir });
      assert.ok(err.startsWith(`logward: cannot read ${why}`), err);
    });
  }

  test('no .env is fine, and a link to a regular .env is read', async () => {
    const dir = realTemp('logward-cf-');
    const cfg = path.join(dir, 'logward.yaml');
    fs.cpSync(path.join(ROOT, 'config', 'rules'), path.join(dir, 'config', 'rules'), { recursive: true });
    fs.writeFileSync(cfg, 'rules:\n  files: [config/rules/*.yaml]\ninput:\n  timezone: ${LW_CF_TZ:-UTC}\n');
    const none = await runBounded(['validate', '--config', cfg], { cwd: dir });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /time zone: UTC/);
    fs.writeFileSync(path.join(dir, 'env-real'), 'LW_CF_TZ=Europe/Paris\n');
    fs.symlinkSync(path.join(dir, 'env-real'), path.join(dir, '.env'));
    const linked = await runBounded(['validate', '--config', cfg], { cwd: dir });
    assert.equal(linked.code, 0, linked.stderr);
    assert.match(linked.stdout, /time zone: Europe\/Paris/);
  });
});

describe('mail.ca_file', () => {
  test('is read only when it is a small regular file: /dev/zero is refused by validate within seconds', async () => {
    const dir = tempDir('logward-cf-ca-');
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, 'mail:\n  ca_file: /dev/zero\n');
    const r = await runBounded(['validate', '--config', cfg]);
    assert.equal(r.killed, false, `validate hung: killed after ${KILL_AFTER_MS} ms`);
    assert.ok(r.ms < MAX_WALL_MS, `validate took ${r.ms} ms`);
    assert.equal(r.code, 78, r.stderr + r.stdout);
    assert.match(r.stderr + r.stdout, /mail\.ca_file: cannot read \/dev\/zero \(.*device.*\)/);
  });
});
