import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/cli.mjs';

// A user rule whose pattern can backtrack catastrophically next to a safe one.
const RULES = [
  'matchers:',
  '  - name: ssh_custom',
  '    patterns:',
  "      - '^Accepted (?<user>\\S+) from (?<ip>\\S+)$'",
  "      - '^Failed for (?<ip>\\S+): (\\w+\\s?)+$'",
  'rules:',
  '  - name: ssh_custom',
  '    matcher: ssh_custom',
  '    key: ip',
  '    window_secs: 60',
  '    threshold: 2',
  '',
].join('\n');

function setup() {
  const dir = tempDir();
  const rules = path.join(dir, 'custom.yaml');
  fs.writeFileSync(rules, RULES);
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, `rules:\n  files: [${rules}]\n`);
  return { dir, rules, cfg };
}

describe('a rule pattern that can backtrack catastrophically', () => {
  test('validate names the file, matcher, pattern and the offending part, and exits 78', async () => {
    const { rules, cfg } = setup();
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0], /^logward: invalid configuration in .*logward\.yaml: 1 problem; fix them/);
    const problem = lines.find((l) => l.includes('backtrack'));
    assert.ok(problem !== undefined, r.stderr);
    assert.ok(problem.includes(`${rules}: matchers.ssh_custom.patterns[1]: pattern \`^Failed for (?<ip>\\S+): (\\w+\\s?)+$\` can backtrack catastrophically`), problem);
    assert.ok(problem.includes('nested quantifier at `(\\w+\\s?)+`'), problem);
    assert.match(problem, /rewrite without the nested quantifier/);
  });

  test('scan refuses to start with the same message', async () => {
    const { dir, cfg } = setup();
    const log = path.join(dir, 'auth.log');
    fs.writeFileSync(log, 'Jan  1 00:00:00 h sshd[1]: Failed for 203.0.113.5: a b c\n');
    const r = await runCli(['scan', '--config', cfg, log]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /matchers\.ssh_custom\.patterns\[1\]: pattern .* can backtrack catastrophically: nested quantifier/);
  });

  test('test-rules --rules checks the file it is given', async () => {
    const { dir, rules } = setup();
    const log = path.join(dir, 'auth.log');
    fs.writeFileSync(log, 'Jan  1 00:00:00 h sshd[1]: Accepted root from 203.0.113.5\n');
    const r = await runCli(['test-rules', '--rules', rules, log]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /can backtrack catastrophically/);
  });
});

// Issue 16: the holes of the check, through the real CLI.
function rulesWith(pattern) {
  const dir = tempDir();
  const rules = path.join(dir, 'custom.yaml');
  fs.writeFileSync(rules, [
    'matchers:',
    '  - name: hole',
    '    patterns:',
    `      - '${pattern.replace(/'/g, "''")}'`,
    'rules:',
    '  - name: hole',
    '    matcher: hole',
    '    key: ip',
    '    window_secs: 60',
    '    threshold: 2',
    '',
  ].join('\n'));
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, `rules:\n  files: [${rules}]\n`);
  return { rules, cfg };
}

describe('the check has no holes', () => {
  test('validate refuses counted repetition that multiplies the ways to read a line, and exits 78', async () => {
    const src = String.raw`^(?<ip>\S+) (?:a?){24}a{24}$`;
    const { rules, cfg } = rulesWith(src);
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stderr);
    const problem = r.stderr.split('\n').find((l) => l.includes('backtrack'));
    assert.ok(problem?.includes(`${rules}: matchers.hole.patterns[0]: pattern \`${src}\` can backtrack catastrophically: \`(?:a?){24}\` can match the same text in more than 32 ways`), r.stderr);
  });

  test('validate refuses a pattern the check cannot read, naming why, and exits 78', async () => {
    // 3000 nested groups around (?:a+)+: the engine compiles it (26 "a" and "!" then take
    // minutes); the check's parser used to overflow its stack and let it through.
    const src = `^${'('.repeat(3000)}(?:a+)+${')'.repeat(3000)}$`;
    const { rules, cfg } = rulesWith(src);
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78, r.stderr);
    const problem = r.stderr.split('\n').find((l) => l.includes('matchers.hole'));
    assert.ok(problem?.includes(`${rules}: matchers.hole.patterns[0]: pattern \`^((((`), r.stderr);
    assert.match(problem, /\.\.\.` cannot be checked for catastrophic backtracking: the check does not understand groups nested deeper than 200 at offset \d+; rewrite the pattern without it$/);
  });

  test('validate accepts (a|ab){30}: one way to read any text, linear on every line', async () => {
    const { cfg } = rulesWith('^(?<ip>\\S+) (a|ab){30}$');
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
  });
});
