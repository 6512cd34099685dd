// Deployment files: systemd/logward.service, the Dockerfile and its health check, and
// the production install both of them make (npm ci --omit=dev --ignore-scripts).
// No docker engine is needed: the Dockerfile is parsed and its runtime stage is
// replayed in a temp directory. systemd-analyze comes with the systemd package, which
// .ci/run installs; without it the unit tests fail rather than skip.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ROOT, tempDir } from '../helpers/cli.mjs';
import { daemonDir, startDaemon, killAll, waitFor, stopDaemon, attackLine } from '../helpers/daemon.mjs';

const UNIT_FILE = path.join(ROOT, 'systemd', 'logward.service');
const HOST_CONFIG = path.join(ROOT, 'systemd', 'logward.yaml');
const DOCKER_CONFIG = path.join(ROOT, 'docker', 'logward.yaml');
const HEALTHCHECK = path.join(ROOT, 'docker', 'healthcheck.mjs');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

after(killAll);

// ---------------------------------------------------------------- systemd unit

/** { Section: { Key: [values in order] } } of a unit file (no line continuations used). */
function parseUnit(text) {
  const unit = {};
  let section = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== null && eq > 0, `not a unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    (unit[section][key] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

const unitText = fs.readFileSync(UNIT_FILE, 'utf8');
const unit = parseUnit(unitText);
const svc = unit.Service;

function one(key) {
  assert.ok(svc[key], `${key}= is not set in [Service]`);
  assert.equal(svc[key].length, 1, `${key}= is set more than once`);
  return svc[key][0];
}

/** A command line of the unit without its systemd prefixes ("-", "@", "+", "!"), split on spaces. */
function argv(cmd) {
  return cmd.replace(/^[-@+!:]+/, '').split(/\s+/);
}

function seconds(span) {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m)?$/.exec(span);
  assert.ok(m, `cannot read the time span ${span}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'min' || m[2] === 'm' ? n * 60 : n;
}

/** Runs systemd-analyze verify on a copy of the unit; fails (never skips) without systemd-analyze. */
function verify(text) {
  const dir = tempDir('logward-unit-');
  const file = path.join(dir, 'logward.service');
  fs.writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 60_000 });
  if (r.error?.code === 'ENOENT') assert.fail('systemd-analyze is not installed: apt-get install systemd (.ci/run does)');
  assert.ifError(r.error);
  return { status: r.status, output: `${r.stdout}${r.stderr}`, file };
}

/** The unit with the node binary of this test run: CI images keep node in /usr/local/bin. */
function unitForThisHost() {
  return unitText.replaceAll('/usr/bin/node', process.execPath);
}

describe('systemd/logward.service', () => {
  test('passes systemd-analyze verify without a single warning', () => {
    const r = verify(unitForThisHost());
    const about = r.output.split('\n').filter((l) => l.includes('logward'));
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(about, [], `systemd-analyze complained:\n${r.output}`);
  });

  test('rates an exposure of at most 1.5 in systemd-analyze security, with memory, task and /proc bounds', () => {
    const dir = tempDir('logward-unit-');
    const file = path.join(dir, 'logward.service');
    fs.writeFileSync(file, unitForThisHost());
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { encoding: 'utf8', timeout: 60_000 });
    if (r.error?.code === 'ENOENT') assert.fail('systemd-analyze is not installed: apt-get install systemd (.ci/run does)');
    const m = /Overall exposure level for logward\.service: (\d+(?:\.\d+)?)/.exec(`${r.stdout}${r.stderr}`);
    assert.ok(m, `no exposure level in:\n${r.stdout}${r.stderr}`);
    assert.ok(Number(m[1]) <= 1.5, `exposure ${m[1]}:\n${r.stdout}`);
    for (const d of ['MemoryMax=', 'TasksMax=', 'ProtectProc=invisible', 'ProcSubset=pid', 'SystemCallFilter=~@privileged @resources']) {
      assert.ok(unitText.split('\n').some((l) => l.startsWith(d)), `${d} missing`);
    }
  });

  test('an unknown directive in the unit would be reported by that check', () => {
    const r = verify(unitForThisHost().replace('[Service]\n', '[Service]\nProtectEverything=yes\n'));
    assert.match(r.output, /Unknown key 'ProtectEverything'/);
  });

  test('validates the configuration before starting and before a reload, which then sends SIGHUP', () => {
    const config = '/etc/logward/logward.yaml';
    const pre = argv(one('ExecStartPre'));
    assert.deepEqual(pre.slice(0, 2), ['/usr/bin/node', '/opt/logward/dist/cli.js']);
    assert.deepEqual(pre.slice(2, 5), ['validate', '--config', config]);
    const start = argv(one('ExecStart'));
    assert.deepEqual(start.slice(0, 3), ['/usr/bin/node', '/opt/logward/dist/cli.js', 'run']);
    assert.equal(start[start.indexOf('--config') + 1], config);
    assert.equal(start[start.indexOf('--state-dir') + 1], '/var/lib/logward');
    assert.equal(svc.ExecReload.length, 2, 'ExecReload= should validate, then signal');
    assert.deepEqual(argv(svc.ExecReload[0]).slice(1, 5), ['/opt/logward/dist/cli.js', 'validate', '--config', config]);
    assert.match(svc.ExecReload[1], /^\/bin\/kill -HUP \$MAINPID$/);
    assert.equal(one('WorkingDirectory'), '/opt/logward');
    assert.equal(one('EnvironmentFile'), '-/etc/logward/logward.env');
  });

  test('an invalid configuration (exit 78) is not restarted, other failures are', () => {
    assert.equal(one('Restart'), 'on-failure');
    assert.ok(one('RestartPreventExitStatus').split(/\s+/).includes('78'));
    // systemd applies RestartPreventExitStatus= to the main process only: a gating
    // ExecStartPre that exits 78 would be retried, so its failure must be ignored ("-")
    // and `run` must meet the invalid configuration itself.
    assert.ok(one('ExecStartPre').startsWith('-'), 'ExecStartPre= needs the "-" prefix');
    assert.ok(unit.Unit.StartLimitBurst, 'StartLimitBurst= bounds a crash loop');
  });

  test('gives the daemon longer to stop than its own shutdown timeout', () => {
    assert.equal(one('KillSignal'), 'SIGTERM');
    const stop = seconds(one('TimeoutStopSec'));
    for (const file of [path.join(ROOT, 'config', 'logward.yaml'), HOST_CONFIG]) {
      const daemon = YAML.parse(fs.readFileSync(file, 'utf8')).run?.shutdown_timeout_secs ?? 10;
      assert.ok(stop >= daemon + 5, `TimeoutStopSec=${stop}s is not well above run.shutdown_timeout_secs=${daemon} of ${file}`);
    }
  });

  test('runs as its own unprivileged user with the groups that read logs and the journal', () => {
    if (svc.DynamicUser?.[0] !== 'yes') {
      assert.equal(one('User'), 'logward');
      assert.equal(one('Group'), 'logward');
    }
    const groups = one('SupplementaryGroups').split(/\s+/);
    assert.ok(groups.includes('adm') && groups.includes('systemd-journal'), `SupplementaryGroups=${groups.join(' ')}`);
    assert.equal(one('StateDirectory'), 'logward');
    assert.ok(['simple', 'exec'].includes(one('Type')));
  });

  test('has every hardening directive, and no MemoryDenyWriteExecute (V8 JIT needs W+X pages)', () => {
    const expected = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      LockPersonality: 'yes',
      UMask: '0027',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(one(key), value, `${key}=`);
    // An allow list, then what is taken out of it (systemd joins the two lines).
    assert.deepEqual(svc.SystemCallFilter, ['@system-service', '~@privileged @resources']);
    assert.equal(svc.MemoryDenyWriteExecute, undefined);
  });

  test('every path the host configuration writes is writable under ProtectSystem=strict', () => {
    const cfg = YAML.parse(fs.readFileSync(HOST_CONFIG, 'utf8'));
    const writable = [
      ...one('StateDirectory').split(/\s+/).map((d) => `/var/lib/${d}`),
      ...(svc.ReadWritePaths ?? []).flatMap((v) => v.split(/\s+/)).map((p) => p.replace(/^-/, '')),
    ];
    // Every option naming a place logward writes; their defaults are relative paths.
    const written = { 'reports.dir': cfg.reports?.dir, 'state.dir': cfg.state?.dir, 'mail.outbox_dir': cfg.mail?.outbox_dir, 'delivery.alert_stream': cfg.delivery?.alert_stream && path.dirname(cfg.delivery.alert_stream) };
    for (const [key, dir] of Object.entries(written)) {
      assert.ok(dir, `${key} is not set: its relative default would land in the read-only /opt/logward`);
      assert.ok(path.isAbsolute(dir), `${key}: ${dir} is relative: WorkingDirectory=/opt/logward is read-only`);
      assert.ok(writable.some((w) => dir === w || dir.startsWith(`${w}/`)), `${dir} is not under ${writable.join(', ')}`);
    }
  });
});

// ---------------------------------------------------------------- Dockerfile

/** Instructions of a Dockerfile, continuation lines joined: [{ op, args, stage }]. */
function parseDockerfile(text) {
  // Comment lines go first, as docker drops them before joining continuation lines.
  const joined = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n').replace(/\\\n/g, ' ');
  const out = [];
  const args = {};
  let stage = null;
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `not an instruction: ${line}`);
    const op = m[1].toUpperCase();
    let rest = m[2].trim();
    if (op === 'ARG' && stage === null) {
      const [k, v] = rest.split('=');
      args[k] = v;
    }
    if (op === 'FROM') {
      rest = rest.replace(/\$\{(\w+)\}/g, (_, k) => args[k] ?? '');
      const [image, as, name] = rest.split(/\s+/);
      stage = { image, name: as?.toUpperCase() === 'AS' ? name : null, workdir: '/' };
    }
    if (op === 'WORKDIR') stage.workdir = path.posix.resolve(stage.workdir, rest);
    out.push({ op, args: rest, stage });
  }
  return out;
}

/** COPY [--from=X] SRC... DEST, or the JSON form. */
function parseCopy(args) {
  let from = null;
  const words = args.startsWith('[') ? JSON.parse(args) : args.split(/\s+/);
  const rest = [];
  for (const w of words) {
    const f = /^--from=(.+)$/.exec(w);
    if (f) from = f[1];
    else if (!w.startsWith('--')) rest.push(w);
  }
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}

const dockerText = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerText);
const stages = [...new Set(instructions.map((i) => i.stage).filter(Boolean))];
const buildStage = stages.find((s) => s.name === 'build');
const runtimeStage = stages[stages.length - 1];
const inStage = (stage, op) => instructions.filter((i) => i.stage === stage && i.op === op);

/** Docker's .dockerignore rule: the last pattern matching the path or a parent decides. */
function dockerIgnored(rel, patterns) {
  const parts = rel.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const pat = path.posix.normalize(neg ? p.slice(1) : p).replace(/\/$/, '');
    const re = new RegExp(`^${pat.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
    if (prefixes.some((x) => re.test(x))) ignored = !neg;
  }
  return ignored;
}

const dockerignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

function filesUnder(rel) {
  const abs = path.join(ROOT, rel);
  if (!fs.statSync(abs).isDirectory()) return [rel.replace(/\/$/, '')];
  return fs.readdirSync(abs, { recursive: true }).map((f) => path.posix.join(rel.replace(/\/$/, ''), f)).filter((f) => fs.statSync(path.join(ROOT, f)).isFile());
}

describe('Dockerfile', () => {
  test('builds in a node:24 LTS stage with dev dependencies and runs in another', () => {
    assert.ok(buildStage, 'no stage named build');
    assert.notEqual(buildStage, runtimeStage);
    for (const s of [buildStage, runtimeStage]) assert.equal(s.image, 'node:24-bookworm-slim');
    const buildRuns = inStage(buildStage, 'RUN').map((i) => i.args).join('\n');
    assert.match(buildRuns, /npm ci(?![^\n]*--omit=dev)/);
    assert.match(buildRuns, /npm run build/);
    const runtimeRuns = inStage(runtimeStage, 'RUN').map((i) => i.args).join('\n');
    assert.match(runtimeRuns, /npm ci --omit=dev --ignore-scripts/);
    assert.match(runtimeRuns, /node dist\/cli\.js --version/);
  });

  test('copies only paths that exist in the build context and that .dockerignore keeps', () => {
    const copies = instructions.filter((i) => i.op === 'COPY').map((i) => ({ ...parseCopy(i.args), stage: i.stage }));
    const fromContext = copies.filter((c) => c.from === null);
    assert.ok(fromContext.length >= 4);
    for (const c of fromContext) {
      for (const src of c.sources) {
        assert.ok(fs.existsSync(path.join(ROOT, src)), `COPY ${src}: not in the repository`);
        for (const f of filesUnder(src)) assert.equal(dockerIgnored(f, dockerignore), false, `COPY ${src}: ${f} is excluded by .dockerignore`);
      }
    }
    for (const gone of ['node_modules', 'dist', '.git', '.env', 'reports/report_1.json', 'data/logward-state.json', 'bench/.cache']) {
      assert.equal(dockerIgnored(gone, dockerignore), true, `${gone} is sent to the docker daemon`);
    }
  });

  test('copies the compiled code from where the build stage writes it', () => {
    const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
    const built = path.posix.join(buildStage.workdir, tsconfig.compilerOptions.outDir);
    const fromBuild = instructions.filter((i) => i.op === 'COPY').map((i) => parseCopy(i.args)).filter((c) => c.from !== null);
    assert.ok(fromBuild.length > 0);
    for (const c of fromBuild) {
      assert.equal(c.from, 'build');
      for (const src of c.sources) assert.equal(src.replace(/\/$/, ''), built);
    }
    // ... and the build stage has what tsc needs before it runs.
    const copied = inStage(buildStage, 'COPY').flatMap((i) => parseCopy(i.args).sources.map((s) => s.replace(/\/$/, '')));
    for (const need of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) assert.ok(copied.includes(need), `build stage lacks ${need}`);
  });

  test('runs as a non-root user with volumes where the bundled config writes', () => {
    const users = inStage(runtimeStage, 'USER').map((i) => i.args);
    assert.ok(users.length > 0, 'no USER');
    assert.ok(!['root', '0', '0:0'].includes(users[users.length - 1].split(':')[0]), `USER ${users.at(-1)}`);
    const volumes = inStage(runtimeStage, 'VOLUME').flatMap((i) => JSON.parse(i.args));
    // Where the bundled config writes when run in the image's WORKDIR, as validate says
    // from the repository root (the bundled config leaves both to their defaults).
    const env = { ...process.env, TZ: 'UTC' };
    delete env.STATE_DIRECTORY;
    delete env.LOGWARD_CONFIG;
    const v = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'validate', '--config', 'config/logward.yaml'], { cwd: ROOT, encoding: 'utf8', env });
    assert.equal(v.status, 0, v.stderr);
    const state = /^ {2}state: (.+)$/m.exec(v.stdout)?.[1];
    const reports = /; reports: (.+) \(/.exec(v.stdout)?.[1];
    for (const dir of [state, reports]) {
      assert.ok(dir !== undefined && !path.isAbsolute(dir), `the bundled config writes outside the working directory: ${v.stdout}`);
      assert.ok(volumes.includes(path.posix.join(runtimeStage.workdir, dir)), `${dir} of the bundled config is not a VOLUME (${volumes.join(', ')})`);
    }
  });

  test('starts the CLI with run by default and checks health with a script it copies', () => {
    // Under tini, which reaps children and forwards signals to node (PID 1 would not).
    assert.deepEqual(JSON.parse(inStage(runtimeStage, 'ENTRYPOINT')[0].args), ['/usr/bin/tini', '--', 'node', 'dist/cli.js']);
    assert.match(inStage(runtimeStage, 'RUN').map((i) => i.args).join('\n'), /apt-get install -y --no-install-recommends tini/);
    assert.deepEqual(JSON.parse(inStage(runtimeStage, 'CMD')[0].args), ['run']);
    const hc = inStage(runtimeStage, 'HEALTHCHECK');
    assert.equal(hc.length, 1);
    const cmd = JSON.parse(/CMD\s+(\[.*\])$/.exec(hc[0].args)[1]);
    assert.equal(cmd[0], 'node');
    const dests = inStage(runtimeStage, 'COPY').map((i) => parseCopy(i.args).dest);
    assert.ok(dests.includes(cmd[1]), `the health check ${cmd[1]} is not copied into the image`);
    assert.ok(!/curl|wget/.test(hc[0].args));
  });
});

// ---------------------------------------------------------------- health check

function health(args, env = {}) {
  const r = spawnSync(process.execPath, [HEALTHCHECK, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A state dir whose state file covers `covered` bytes of logs/app.log, written `ageSecs` ago. */
function stateFixture({ log, covered, ageSecs }) {
  const dir = tempDir('logward-health-');
  const file = path.join(dir, 'app.log');
  fs.writeFileSync(file, log);
  const state = path.join(dir, 'logward-state.json');
  fs.writeFileSync(state, JSON.stringify({ version: 2, files: { [file]: { path: file, offset: covered, line: 1 } }, journal: {}, eventsBytes: null, windows: null }));
  const t = (Date.now() - ageSecs * 1000) / 1000;
  fs.utimesSync(state, t, t);
  return { dir, file };
}

describe('docker/healthcheck.mjs', () => {
  const line = 'Oct 14 12:00:01 host1 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\n';

  test('is healthy when the state was saved recently', () => {
    const { dir } = stateFixture({ log: line + line, covered: line.length, ageSecs: 1 });
    const r = health([dir, '--max-age', '60']);
    assert.equal(r.code, 0, r.out);
  });

  test('is unhealthy when a complete line waits unread longer than --max-age', () => {
    const { dir, file } = stateFixture({ log: line + line, covered: line.length, ageSecs: 300 });
    const r = health([dir, '--max-age', '60']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /UNHEALTHY/);
    assert.ok(r.out.includes(file));
  });

  test('is healthy on a quiet host: an old state file with every line read', () => {
    const { dir } = stateFixture({ log: line, covered: line.length, ageSecs: 3600 });
    assert.equal(health([dir, '--max-age', '60']).code, 0);
  });

  test('does not count a partial last line as unread', () => {
    const { dir } = stateFixture({ log: line + 'Oct 14 12:00:02 host1 sshd[1]: Failed pass', covered: line.length, ageSecs: 3600 });
    assert.equal(health([dir, '--max-age', '60']).code, 0);
  });

  test('counts a truncated file as unread from its start', () => {
    const { dir } = stateFixture({ log: line, covered: 10 * line.length, ageSecs: 3600 });
    assert.equal(health([dir, '--max-age', '60']).code, 1);
  });

  test('is unhealthy without a state file or with a damaged one, and reads the env defaults', () => {
    const empty = tempDir('logward-health-');
    assert.equal(health([empty]).code, 1);
    fs.writeFileSync(path.join(empty, 'logward-state.json'), '{"version":');
    assert.equal(health([empty]).code, 1);
    const { dir } = stateFixture({ log: line + line, covered: line.length, ageSecs: 30 });
    assert.equal(health([], { LOGWARD_STATE_DIR: dir, LOGWARD_HEALTH_MAX_AGE_SECS: '60' }).code, 0);
    assert.equal(health([], { LOGWARD_STATE_DIR: dir, LOGWARD_HEALTH_MAX_AGE_SECS: '10' }).code, 1);
  });

  test('reports a stopped logward run as unhealthy and a running quiet one as healthy', async () => {
    const dir = daemonDir();
    const log = path.join(dir, 'logs', 'app.log');
    fs.writeFileSync(log, attackLine(1));
    const state = path.join(dir, 'state');
    const child = startDaemon(dir);
    try {
      await waitFor(() => fs.existsSync(path.join(state, 'logward-state.json')), 'the first checkpoint');
      await new Promise((r) => setTimeout(r, 1500)); // quiet: the state file is not rewritten
      assert.equal(health([state, '--max-age', '1']).code, 0, 'a quiet daemon is healthy');
      child.kill('SIGSTOP');
      fs.appendFileSync(log, attackLine(2));
      await new Promise((r) => setTimeout(r, 1500));
      const stuck = health([state, '--max-age', '1']);
      assert.equal(stuck.code, 1, stuck.out);
      child.kill('SIGCONT');
      await waitFor(() => health([state, '--max-age', '1']).code === 0, 'the daemon to catch up');
    } finally {
      child.kill('SIGCONT');
      const { code } = await stopDaemon(child);
      assert.equal(code, 0, child.output);
    }
  });
});

// ---------------------------------------------------------------- production install

/** Replays the runtime stage's COPY and npm ci in a temp dir, as `docker build` would. */
function installLikeTheDockerfile(dir) {
  for (const i of instructions.filter((x) => x.stage === runtimeStage)) {
    if (i.op === 'COPY') {
      const c = parseCopy(i.args);
      for (const src of c.sources) {
        // --from=build: the build stage's dist/ is what `npm run build` (run before the tests) wrote.
        const from = c.from === null ? path.join(ROOT, src) : path.join(ROOT, path.posix.relative(buildStage.workdir, src));
        const dest = c.dest.endsWith('/') && !fs.statSync(from).isDirectory() ? path.join(dir, c.dest, path.basename(src)) : path.join(dir, c.dest);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.cpSync(from, dest, { recursive: true });
      }
    }
    if (i.op === 'RUN') {
      for (const cmd of i.args.split('&&').map((s) => s.trim())) {
        if (cmd.startsWith('npm ci')) {
          const args = [...cmd.split(/\s+/).slice(1), '--prefer-offline', '--no-audit', '--no-fund'];
          const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
          assert.equal(r.status, 0, `npm ${args.join(' ')} failed: ${r.error?.message ?? ''}\n${r.stdout}\n${r.stderr}`);
        } else if (cmd.startsWith('mkdir -p ')) {
          for (const d of cmd.split(/\s+/).slice(2)) fs.mkdirSync(path.join(dir, d), { recursive: true });
        }
      }
    }
  }
}

/** The runtime stage's `node ...` smoke commands (RUN node dist/cli.js --version ...). */
function smokeCommands() {
  return inStage(runtimeStage, 'RUN').flatMap((i) => i.args.split('&&').map((s) => s.trim())).filter((c) => c.startsWith('node ')).map((c) => c.split(/\s+/).slice(1));
}

function node(args, cwd, env = {}) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'warn', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the production install (npm ci --omit=dev --ignore-scripts)', () => {
  let app;
  before(() => {
    app = tempDir('logward-app-');
    installLikeTheDockerfile(app);
  });

  test('has the runtime dependencies and no typescript or type packages', () => {
    for (const dep of Object.keys(PKG.dependencies)) assert.ok(fs.existsSync(path.join(app, 'node_modules', dep, 'package.json')), `${dep} missing`);
    for (const dev of Object.keys(PKG.devDependencies)) assert.equal(fs.existsSync(path.join(app, 'node_modules', dev)), false, `${dev} was installed`);
    assert.equal(fs.existsSync(path.join(app, 'node_modules', '.bin', 'tsc')), false);
  });

  test('passes the Dockerfile smoke step and prints its version', () => {
    const smoke = smokeCommands();
    assert.ok(smoke.some((a) => a.join(' ') === 'dist/cli.js --version'));
    for (const args of smoke) {
      const r = node(args, app);
      assert.equal(r.code, 0, `node ${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(node(['dist/cli.js', '--version'], app).stdout, `logward ${PKG.version}\n`);
  });

  test('scans the bundled sample logs and reports alerts', () => {
    const out = path.join(app, 'reports');
    const r = node(['dist/cli.js', 'scan', '--out', out, '--json'], app);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.ok(summary.alerts.length > 0, 'no alerts in the sample logs');
    assert.ok(fs.readdirSync(out).some((f) => /^report_\d{8}_\d{6}\.json$/.test(f)));
  });

  test('run --once follows the sample logs, logs alerts and leaves a state the health check accepts', () => {
    const state = tempDir('logward-state-');
    const r = node(['dist/cli.js', 'run', '--once', '--state-dir', state], app, { LOGWARD_LOG_LEVEL: 'info' });
    assert.equal(r.code, 0, r.stderr);
    const alerts = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.alert);
    assert.ok(alerts.length > 0, 'run logged no alert');
    assert.ok(fs.existsSync(path.join(state, 'logward-state.json')));
    const hc = node(['docker/healthcheck.mjs', state], app);
    assert.equal(hc.code, 0, hc.stdout);
  });

  test('runs the unit\'s own command lines with the host configuration', () => {
    // /opt/logward, /etc/logward and /var/lib/logward moved into temp dirs.
    const etc = tempDir('logward-etc-');
    const varLib = tempDir('logward-var-');
    const logs = tempDir('logward-log-');
    fs.writeFileSync(path.join(logs, 'auth.log'), '');
    const swap = (s) => s.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/logward', app).replaceAll('/etc/logward', etc).replaceAll('/var/lib/logward', varLib).replaceAll('/var/log/', `${logs}/`);
    fs.writeFileSync(path.join(etc, 'logward.yaml'), swap(fs.readFileSync(HOST_CONFIG, 'utf8')));
    const run = (cmd, extra = []) => {
      const [bin, ...args] = argv(swap(cmd));
      assert.equal(bin, process.execPath);
      return node([...args, ...extra], one('WorkingDirectory') === '/opt/logward' ? app : assert.fail('WorkingDirectory'));
    };
    const pre = run(one('ExecStartPre'));
    assert.equal(pre.code, 0, pre.stderr);
    assert.equal(run(svc.ExecReload[0]).code, 0);
    // First start: sources begin at their end; the second reads what came since.
    const first = run(one('ExecStart'), ['--once']);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(fs.existsSync(path.join(varLib, 'logward-state.json')), 'no state in StateDirectory');
    fs.appendFileSync(path.join(logs, 'auth.log'), [1, 2, 3, 4, 5, 6].map((n) => attackLine(n)).join(''));
    const second = run(one('ExecStart'), ['--once']);
    assert.equal(second.code, 0, second.stderr);
    const reports = fs.readdirSync(path.join(varLib, 'reports'));
    assert.ok(reports.some((f) => f.endsWith('.json')), `no report in /var/lib/logward/reports: ${reports.join(', ')}`);
    const report = JSON.parse(fs.readFileSync(path.join(varLib, 'reports', reports.find((f) => f.endsWith('.json'))), 'utf8'));
    assert.ok(report.alerts.some((a) => a.rule === 'failed_logins'), 'the appended attack gave no alert');
    // A broken configuration: the ignored ExecStartPre says why, and the main process
    // exits 78, which RestartPreventExitStatus= keeps from restarting.
    fs.appendFileSync(path.join(etc, 'logward.yaml'), 'reprots: {}\n');
    const badPre = run(one('ExecStartPre'));
    assert.equal(badPre.code, 78);
    assert.match(badPre.stderr, /unknown key "reprots"/);
    assert.equal(run(one('ExecStart')).code, 78);
    assert.equal(run(svc.ExecReload[0]).code, 78, 'a reload with it must fail before SIGHUP');
  });

  test('accepts the container configuration', () => {
    fs.copyFileSync(DOCKER_CONFIG, path.join(app, 'docker-logward.yaml'));
    const r = node(['dist/cli.js', 'validate', '--config', 'docker-logward.yaml'], app);
    assert.equal(r.code, 0, r.stderr);
  });
});
