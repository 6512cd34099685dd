// What logward writes is readable by its owner and group at most: reports, events, state
// and the incident journal 0640 in 0750 directories, the outbox (mail bodies, webhook
// payloads) 0600 in 0700 directories. `umask` (default "027") is applied when scan and
// run start, so a permissive login shell or service manager does not widen them.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, runCli, tempDir } from '../helpers/cli.mjs';

const attack = (n) => `Oct 14 12:00:${String(n).padStart(2, '0')} host1 sshd[${100 + n}]: Failed password for root from 198.51.100.7 port ${40000 + n} ssh2\n`;

function setup(extra = []) {
  const dir = tempDir('logward-modes-');
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'logs', 'auth.log'), [0, 1, 2, 3, 4, 5].map(attack).join(''));
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    'input: { timezone: UTC, year: 2025 }',
    'sources:',
    `  - { path: ${path.join(dir, 'logs', 'auth.log')}, start_at: beginning }`,
    `state: { dir: ${path.join(dir, 'out', 'state')} }`,
    `reports: { dir: ${path.join(dir, 'out', 'reports')}, formats: [json, csv, html] }`,
    'enrich: { enabled: false }',
    'mail: { alert_min_severity: low }',
    'run: { poll_secs: 0.2, checkpoint_secs: 0.1 }',
    ...extra,
    '',
  ].join('\n'));
  return { dir, cfg };
}

/** Runs the CLI with the given process umask inherited, as a careless shell would give it. */
async function withShellUmask(mask, args, opts) {
  const old = process.umask(mask);
  try {
    return await runCli(args, opts);
  } finally {
    process.umask(old);
  }
}

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push({ path: p, dir: e.isDirectory(), mode: fs.statSync(p).mode & 0o777 });
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}

const NO_SMTP = { SMTP_HOST: '', SMTP_USER: '', SMTP_PASS: '', SMTP_TO: 'ops@example.com' };
const octal = (m) => `0${m.toString(8)}`;

/** Writes everything scan and run write: reports, events, --email, state, journal, stream, outbox. */
async function produce(s, shellMask) {
  const out = path.join(s.dir, 'out');
  const scan = await withShellUmask(shellMask, ['scan', '--config', s.cfg, '--events', path.join(out, 'events', 'scan.jsonl'), '--email', path.join(s.dir, 'logs', 'auth.log')], { cwd: s.dir, env: NO_SMTP });
  assert.equal(scan.code, 0, scan.stderr);
  const run = await withShellUmask(shellMask, ['run', '--config', s.cfg, '--events', path.join(out, 'run-events', 'run.jsonl'), '--once'], { cwd: s.dir, env: NO_SMTP });
  assert.equal(run.code, 0, run.stderr);
  const files = walk(out);
  const names = files.map((f) => path.relative(out, f.path));
  for (const want of ['state/logward-state.json', 'state/incidents.jsonl', 'reports/alerts.jsonl', 'events/scan.jsonl', 'run-events/run.jsonl']) {
    assert.ok(names.includes(want), `${want} was written (got ${names.join(', ')})`);
  }
  assert.ok(names.some((n) => n.startsWith('state/outbox/')), 'the outbox was used');
  assert.ok(names.some((n) => n.endsWith('.eml')), 'a mail was written');
  assert.ok(names.some((n) => n.endsWith('.html')), 'a report was written');
  return { out, files };
}

function assertAtMost(files, out, { file, dir, outboxFile, outboxDir }) {
  for (const f of files) {
    const rel = path.relative(out, f.path);
    const inOutbox = rel.startsWith(`state${path.sep}outbox`);
    const limit = f.dir ? (inOutbox ? outboxDir : dir) : (inOutbox ? outboxFile : file);
    assert.equal(f.mode & ~limit, 0, `${rel} is ${octal(f.mode)}, more than ${octal(limit)}`);
  }
}

describe('file and directory modes', () => {
  test('reports, events, state and journal are 0640 in 0750 directories and the outbox 0600 in 0700, even from a shell with umask 000', async () => {
    const s = setup();
    const { out, files } = await produce(s, 0o000);
    assertAtMost(files, out, { file: 0o640, dir: 0o750, outboxFile: 0o600, outboxDir: 0o700 });
    const outbox = files.filter((f) => path.relative(out, f.path).startsWith(`state${path.sep}outbox${path.sep}`) && !f.dir);
    assert.ok(outbox.length > 0);
  });

  test('keeps those modes with umask "000" configured: logward asks for them itself', async () => {
    const s = setup(['umask: "000"']);
    const { out, files } = await produce(s, 0o000);
    assertAtMost(files, out, { file: 0o640, dir: 0o750, outboxFile: 0o600, outboxDir: 0o700 });
  });

  test('umask "077" leaves the group nothing', async () => {
    const s = setup(['umask: "077"']);
    const { out, files } = await produce(s, 0o022);
    assertAtMost(files, out, { file: 0o600, dir: 0o700, outboxFile: 0o600, outboxDir: 0o700 });
  });

  for (const [value, why] of [['27', /umask: must be a quoted octal mask such as "027"/], ['"0999"', /umask: must be an octal mask of three digits/], ['"700"', /umask: must leave the owner's permissions alone/], ['"27"', /umask: must be an octal mask of three digits/]]) {
    test(`refuses umask: ${value} as a configuration error naming the setting`, async () => {
      const s = setup([`umask: ${value}`]);
      for (const cmd of [['validate'], ['scan'], ['run', '--once']]) {
        const r = await runCli([...cmd, '--config', s.cfg], { cwd: s.dir, env: NO_SMTP });
        assert.equal(r.code, 78, `${cmd[0]}: ${r.stderr}`);
        assert.match(r.stderr, why, cmd[0]);
      }
      assert.ok(!fs.existsSync(path.join(s.dir, 'out')), 'nothing was written');
    });
  }
});
