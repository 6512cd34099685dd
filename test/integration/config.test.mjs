import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, ROOT } from '../helpers/cli.mjs';

// Three problems: a regex that does not compile, a key no pattern captures, an unknown matcher.
const BAD_RULES = [
  'matchers:',
  '  - name: broken',
  '    patterns: ["^Failed (unclosed"]',
  '  - name: nokey',
  '    patterns: ["^x (?<who>\\\\S+)"]',
  'rules:',
  '  - name: r1',
  '    matcher: nokey',
  '    key: missing_group',
  '    window_secs: 60',
  '    threshold: 2',
  '  - name: r2',
  '    matcher: ghost',
  '    window_secs: 60',
  '    threshold: 2',
  '',
].join('\n');

function write(dir, name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('logward validate', () => {
  test('accepts the bundled configuration and lists the enabled rules', async () => {
    const r = await runCli(['validate'], { env: { LOGWARD_CONFIG: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^configuration OK: config\/logward\.yaml \(found as \.\/config\/logward\.yaml in the working directory\)\n/);
    // The bundled config leaves state and reports to their defaults: the working directory's.
    assert.match(r.stdout, /; reports: reports \(/);
    assert.match(r.stdout, /\n {2}state: data\n/);
    for (const rule of ['failed_logins', 'ssh_bruteforce', 'errors', 'sudo_failures', 'web_unauthorized', 'web_auth_failures']) {
      assert.match(r.stdout, new RegExp(`\\b${rule}\\b`));
    }
  });

  test('lists every problem of a bad config with its path and exits 78', async () => {
    const dir = tempDir();
    const rules = write(dir, 'bad-rules.yaml', BAD_RULES);
    const cfg = write(dir, 'logward.yaml', [
      'rules:',
      `  files: [${rules}]`,
      '  overrides:',
      '    no_such_rule: { threshold: 3 }',
      'input:',
      '  timezone: Mars/Olympus',
      '  max_line_bytes: ten',
      'reprots: {}',
      '',
    ].join('\n'));
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0], /^logward: invalid configuration in .*logward\.yaml: \d+ problems?; fix them/);
    const body = lines.slice(1).join('\n');
    assert.match(body, /logward\.yaml: \(top level\): unknown key "reprots"/);
    assert.match(body, /logward\.yaml: input\.max_line_bytes: /);
    // The rule files are checked too, in the same run.
    assert.match(body, /bad-rules\.yaml: matchers\.broken\.patterns\[0\]: invalid regular expression/);
    assert.match(body, /bad-rules\.yaml: rules\.r2\.matcher: unknown matcher "ghost"/);
  });

  test('reports rule-file problems all at once, each with file and path', async () => {
    const dir = tempDir();
    const rules = write(dir, 'bad-rules.yaml', BAD_RULES);
    const cfg = write(dir, 'logward.yaml', `rules:\n  files: [${rules}]\n  overrides:\n    no_such_rule: { threshold: 3 }\ninput:\n  timezone: Mars/Olympus\n`);
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stderr);
    const body = r.stderr;
    assert.match(body, /bad-rules\.yaml: matchers\.broken\.patterns\[0\]: invalid regular expression/);
    assert.match(body, /bad-rules\.yaml: rules\.r1\.key: key "missing_group" is not a named group/);
    assert.match(body, /bad-rules\.yaml: rules\.r2\.matcher: unknown matcher "ghost"/);
    assert.match(body, /rules\.overrides\.no_such_rule: no rule named "no_such_rule"/);
    assert.match(body, /input\.timezone: unknown time zone "Mars\/Olympus"/);
    assert.match(r.stderr, /5 problems/);
  });

  test('lists schema, cron, zone, rule key, journalctl and directory problems in one run', async () => {
    const dir = tempDir();
    write(dir, 'bad-rules.yaml', BAD_RULES);
    write(dir, 'state-file', 'not a directory\n');
    write(dir, 'blocker', '');
    // Relative paths start at the config's directory, whatever the working directory.
    const cfg = write(dir, 'logward.yaml', [
      'rules:',
      '  files: [bad-rules.yaml]',
      'input:',
      '  timezone: Mars/Olympus',
      'run:',
      '  report_cron: "61 * * * *"',
      'reprots: {}',
      'sources:',
      '  - { journal: { units: [ssh.service], journalctl: /nonexistent/journalctl } }',
      '  - { journal: { identifiers: [sudo], journalctl: no-such-journalctl-here } }',
      `  - { journal: { identifiers: [cron], journalctl: ${process.execPath} } }`,
      'state:',
      '  dir: state-file',
      'reports:',
      '  dir: blocker/reports',
      '',
    ].join('\n'));
    const r = await runCli(['validate', '--config', cfg], { cwd: tempDir() });
    assert.equal(r.code, 78, r.stderr);
    const [head, ...details] = r.stderr.trim().split('\n').map((l) => l.trim());
    assert.match(head, new RegExp(`: ${details.length} problems; fix them`));
    const expected = [
      /logward\.yaml: \(top level\): unknown key "reprots"/,
      /logward\.yaml: input\.timezone: unknown time zone "Mars\/Olympus"/,
      /logward\.yaml: run\.report_cron: "61 \* \* \* \*" is not a cron expression/,
      /bad-rules\.yaml: rules\.r1\.key: key "missing_group" is not a named group/,
      /bad-rules\.yaml: matchers\.broken\.patterns\[0\]: invalid regular expression/,
      /logward\.yaml: sources\[0\]\.journal\.journalctl: \/nonexistent\/journalctl cannot be run \(ENOENT/,
      /logward\.yaml: sources\[1\]\.journal\.journalctl: "no-such-journalctl-here" is not found in PATH/,
      new RegExp(`logward\\.yaml: state\\.dir: ${path.join(dir, 'state-file')} exists and is not a directory`),
      new RegExp(`logward\\.yaml: reports\\.dir: ${path.join(dir, 'blocker', 'reports')} cannot be a directory`),
    ];
    for (const re of expected) assert.ok(details.some((d) => re.test(d)), `${re} not in:\n${details.join('\n')}`);
    assert.ok(!details.some((d) => d.includes('sources[2]')), 'a journalctl that runs is no problem');
  });

  test('each of those problems alone fails validate with its path (exit 78), and only validate checks the host', async () => {
    const dir = tempDir();
    write(dir, 'bad-rules.yaml', BAD_RULES.replace('  - name: broken\n    patterns: ["^Failed (unclosed"]\n', '').replace(/ {2}- name: r2[\s\S]*$/, ''));
    write(dir, 'a-file', '');
    const cases = [
      ['reprots: {}\n', /\(top level\): unknown key "reprots"/],
      ['run:\n  digest_cron: "every day"\n', /run\.digest_cron: "every day" is not a cron expression/],
      ['run:\n  timezone: Europe/Atlantis\n', /run\.timezone: unknown time zone "Europe\/Atlantis"/],
      ['rules:\n  files: [bad-rules.yaml]\n', /bad-rules\.yaml: rules\.r1\.key: key "missing_group" is not a named group/],
      ['sources:\n  - { journal: { journalctl: no-such-journalctl-here } }\n', /sources\[0\]\.journal\.journalctl: "no-such-journalctl-here" is not found in PATH/],
      ['state:\n  dir: a-file\n', /state\.dir: .*a-file exists and is not a directory/],
    ];
    for (const [text, re] of cases) {
      const cfg = write(dir, 'logward.yaml', text);
      const r = await runCli(['validate', '--config', cfg]);
      assert.equal(r.code, 78, `${text}: ${r.stderr}`);
      assert.match(r.stderr, /: 1 problem; fix them/, text);
      assert.match(r.stderr, re, text);
    }
    // A state dir that is a file is for validate to say; scan, which does not need it, runs.
    const cfg = write(dir, 'logward.yaml', 'state:\n  dir: a-file\n');
    const scan = await runCli(['scan', '--config', cfg, '--out', path.join(dir, 'out'), '--quiet', path.join(ROOT, 'data', 'sample_logs', 'auth.log')]);
    assert.equal(scan.code, 0, scan.stderr);
  });

  test('reports YAML syntax errors with line and column', async () => {
    const dir = tempDir();
    const cfg = write(dir, 'logward.yaml', 'input:\n  format: [auto\n');
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /logward\.yaml:\d+:\d+: YAML syntax/);
  });

  test('exits 78 when the config file does not exist', async () => {
    const r = await runCli(['validate', '--config', '/nonexistent/logward.yaml']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /cannot read config file \/nonexistent\/logward\.yaml \(ENOENT/);
  });

  test('replaces ${VAR} from the environment and .env, and names a missing one', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'config'));
    fs.cpSync(path.join(ROOT, 'config', 'rules'), path.join(dir, 'config', 'rules'), { recursive: true });
    write(dir, 'logward.yaml', 'input:\n  timezone: ${LW_TZ}\nreports:\n  dir: ${LW_REPORTS:-fallback}\n');
    const missing = await runCli(['validate', '--config', 'logward.yaml'], { cwd: dir });
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /input\.timezone: environment variable LW_TZ is not set/);
    write(dir, '.env', 'LW_TZ=Europe/Paris\n');
    const ok = await runCli(['validate', '--config', 'logward.yaml'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /time zone: Europe\/Paris/);
    assert.match(ok.stdout, /reports: fallback/);
  });

  test('scan refuses to run on an invalid config with exit 78', async () => {
    const dir = tempDir();
    const cfg = write(dir, 'logward.yaml', 'limits:\n  max_keys_per_rule: -1\n');
    const r = await runCli(['scan', '--config', cfg, '--out', dir]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /limits\.max_keys_per_rule/);
    assert.deepEqual(fs.readdirSync(dir), ['logward.yaml']);
  });
});
