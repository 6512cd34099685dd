import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.mjs';
import { ERROR_CODES } from '../../dist/util/errors.js';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

test('the README error table lists every error code with its exit status', () => {
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
    assert.match(readme, new RegExp(`\\|\\s*${exit}\\s*\\|\\s*\`${code}\`\\s*\\|`), `${code} (${exit}) missing from the README error table`);
  }
});

test('the README starts with the two commands and CI runs the same test command', () => {
  const block = /## Two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'no "Two commands" block');
  const [start, tests] = block[1].trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.equal(start, 'npm ci && npm start');
  assert.equal(tests, 'scripts/test-deps.sh && npm ci && npm test');
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  assert.ok(ci.split('\n').includes(tests), '.ci/run does not run the README test command');
});

test('the test command\'s system packages script is valid sh and finds everything installed here', () => {
  const script = path.join(ROOT, 'scripts', 'test-deps.sh');
  assert.ok((fs.statSync(script).mode & 0o111) !== 0, 'scripts/test-deps.sh is not executable');
  assert.equal(spawnSync('sh', ['-n', script]).status, 0);
  const r = spawnSync(script, [], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /are installed/);
});

test('the README documents every option of the bundled config', () => {
  const cfg = fs.readFileSync(path.join(ROOT, 'config', 'logward.yaml'), 'utf8');
  let section = '';
  for (const line of cfg.split('\n')) {
    const top = /^([a-z_]+):\s*$/.exec(line);
    if (top) { section = top[1]; continue; }
    const opt = /^ {2}([a-z_]+):/.exec(line);
    if (opt && section) assert.match(readme, new RegExp(`\`${section}\\.${opt[1]}`), `${section}.${opt[1]} not in the README`);
  }
});
