// The configuration is built once: command-line selection (--rules, --window, --threshold)
// goes through the same normalisation as the config file, so the window limit and the
// "cooldown follows the window unless given" rule hold for flags too.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, SEED } from '../helpers/cli.mjs';

describe('scan flags and the rules they change', () => {
  test('refuses a --window over the 30-day limit with a usage error that names the limit', async () => {
    const dir = tempDir();
    const r = await runCli(['scan', SEED, '--out', dir, '--window', '3000000']);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /--window must be a whole number from 1 to 2592000 seconds \(a window is at most 30 days\)/);
    assert.doesNotMatch(r.stderr, /internal error|bug/);
  });

  test('accepts a --window of exactly 30 days', async () => {
    const dir = tempDir();
    const r = await runCli(['scan', SEED, '--out', dir, '--window', '2592000', '--json', '--year', '2025']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('keeps a rule\'s explicit cooldown when --window changes its window, and lets an implicit one follow', async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'rules.yaml');
    fs.writeFileSync(rules, [
      'matchers:',
      '  - name: failed',
      '    programs: [sshd]',
      '    patterns: [\'^Failed password for (?<user>\\S+) from (?<ip>\\S+)\']',
      'rules:',
      '  - { name: explicit, matcher: failed, key: ip, window_secs: 60, threshold: 2, cooldown_secs: 7 }',
      '  - { name: implicit, matcher: failed, key: ip, window_secs: 60, threshold: 2 }',
      '',
    ].join('\n'));
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, `rules:\n  files: ["${rules}"]\nenrich:\n  enabled: false\n`);
    const r = await runCli(['scan', SEED, '--config', cfg, '--out', dir, '--window', '300', '--format', 'json', '--json', '--year', '2025']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(fs.readFileSync(`${JSON.parse(r.stdout).report}.json`, 'utf8'));
    const byName = Object.fromEntries(report.meta.rules.map((x) => [x.name, x]));
    assert.equal(byName.explicit.window_secs, 300);
    assert.equal(byName.explicit.cooldown_secs, 7);
    assert.equal(byName.implicit.window_secs, 300);
    assert.equal(byName.implicit.cooldown_secs, 300);
  });

  test('names an unknown --rules entry with the known ones, exit 64', async () => {
    const r = await runCli(['scan', SEED, '--rules', 'no_such_rule']);
    assert.equal(r.code, 64, r.stderr);
    assert.match(r.stderr, /unknown rule no_such_rule; known rules: .*ssh_bruteforce/);
  });
});
