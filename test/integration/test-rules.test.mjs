import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, ROOT } from '../helpers/cli.mjs';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'rules');

describe('logward test-rules', () => {
  for (const name of fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.log')).sort()) {
    test(`agrees with every annotation of fixtures/rules/${name}`, async () => {
      const r = await runCli(['test-rules', '--year', '2025', '--timezone', 'UTC', '--json', path.join(FIXTURES, name)]);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.disagreements, []);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(out.not_parsed, 0, 'every non-comment fixture line must parse');
      assert.ok(out.matched > 0);
    });
  }

  test('lists each disagreement with its line and exits 65', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'wrong.log');
    fs.writeFileSync(log, [
      '# expect: {"rule": "ssh_bruteforce", "ip": "192.0.2.99"}',
      'Oct 14 12:01:10 host1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2',
      '# expect: none',
      'Oct 14 12:01:11 host1 sshd[2]: Invalid user bob from 203.0.113.8 port 2',
      'Oct 14 12:01:12 host1 sshd[3]: Invalid user eve from 203.0.113.9 port 3',
      '',
    ].join('\n'));
    const r = await runCli(['test-rules', '--year', '2025', log]);
    assert.equal(r.code, 65);
    assert.match(r.stdout, /wrong\.log:2: expected ssh_bruteforce \{"ip":"192\.0\.2\.99"\}, got ssh_bruteforce ip=203\.0\.113\.7/);
    assert.match(r.stdout, /wrong\.log:4: expected no event, got /);
    assert.match(r.stdout, /wrong\.log:5: expected no event, got /);
    assert.match(r.stderr, /3 lines disagree/);
  });

  test('compares an expected user with separators as the log holds it or as events show it', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'sep.log');
    fs.writeFileSync(log, [
      // JSON's \u2028 is the raw separator; \\u2028 is its visible escape, as events hold it.
      '# expect: {"rule": "ssh_bruteforce", "ip": "203.0.113.7", "user": "ro\\u2028ot"}',
      'Oct 14 12:01:10 host1 sshd[1]: Failed password for ro\u2028ot from 203.0.113.7 port 1 ssh2',
      '# expect: {"rule": "ssh_bruteforce", "ip": "203.0.113.7", "user": "ro\\\\u2028ot"}',
      'Oct 14 12:01:11 host1 sshd[2]: Failed password for ro\u2028ot from 203.0.113.7 port 2 ssh2',
      '',
    ].join('\n'));
    const r = await runCli(['test-rules', '--year', '2025', '--json', log]);
    assert.deepEqual(JSON.parse(r.stdout).disagreements, []);
    assert.equal(r.code, 0, r.stderr);
  });

  test('shows matches and the most frequent unmatched shapes of an unannotated log', async () => {
    const r = await runCli(['test-rules', '--year', '2025', path.join(ROOT, 'data', 'prototype', 'syslog_sample.log')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /syslog_sample\.log:1: failed_logins ip=192\.0\.2\.45 user=admin/);
    assert.match(r.stdout, /Lines: 9 read \(0 comments\), 0 not parsed, 7 matched, 2 unmatched/);
    assert.match(r.stdout, /1 {2}sshd\[N\]: Accepted password for userN from <ip> port N sshN/);
  });

  test('tests the rules of a given rule file instead of the configured ones', async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'mine.yaml');
    fs.writeFileSync(rules, 'matchers:\n  - name: m\n    patterns: [\'^Started (?<user>.+)\\.$\']\nrules:\n  - name: started\n    matcher: m\n    window_secs: 60\n    threshold: 1\n');
    const r = await runCli(['test-rules', '--rules', rules, '--year', '2025', path.join(ROOT, 'data', 'prototype', 'syslog_sample.log')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /syslog_sample\.log:4: started ip=- user=Daily apt download activities/);
    assert.doesNotMatch(r.stdout, /failed_logins/);
  });
});
