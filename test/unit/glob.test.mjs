import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasWildcard, wildcardRegex, expandGlob } from '../../dist/util/glob.js';

describe('glob', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-glob-'));
    for (const n of ['b.yaml', 'a.yaml', 'c.yml', '.hidden.yaml', 'x.yaml.bak', 'a(1).yaml']) fs.writeFileSync(path.join(dir, n), '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('hasWildcard looks at the last path component only', () => {
    assert.equal(hasWildcard('config/rules/*.yaml'), true);
    assert.equal(hasWildcard('/var/log/nginx/access?.log'), true);
    assert.equal(hasWildcard('/var/*/auth.log'), false);
    assert.equal(hasWildcard('auth.log'), false);
  });

  test('wildcardRegex matches * and ? within a name and treats regex characters literally', () => {
    const re = wildcardRegex('a(1)+[x].*.log');
    assert.equal(re.test('a(1)+[x].today.log'), true);
    assert.equal(re.test('a(1)+[x].log'), false);
    assert.equal(re.test('a1+x.today.log'), false);
    const q = wildcardRegex('access?.log');
    assert.equal(q.test('access1.log'), true);
    assert.equal(q.test('access.log'), false);
    assert.equal(q.test('access12.log'), false);
    assert.equal(wildcardRegex('*.log').test('a/b.log'), false);
    assert.equal(wildcardRegex('*.log').test('xlog'), false);
  });

  test('expandGlob lists matching files sorted, without dot files', () => {
    assert.deepEqual(expandGlob(path.join(dir, '*.yaml')), ['a(1).yaml', 'a.yaml', 'b.yaml'].map((n) => path.join(dir, n)));
    assert.deepEqual(expandGlob(path.join(dir, '?.y*ml')), ['a.yaml', 'b.yaml', 'c.yml'].map((n) => path.join(dir, n)));
  });

  test('expandGlob returns a pattern without wildcards as is, and nothing for a missing directory', () => {
    assert.deepEqual(expandGlob(path.join(dir, 'missing.yaml')), [path.join(dir, 'missing.yaml')]);
    assert.deepEqual(expandGlob(path.join(dir, 'nope', '*.yaml')), []);
  });
});
