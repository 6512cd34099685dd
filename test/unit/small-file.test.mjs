// readSmallFile: what the configuration, rule files and .env are read through. The CLI
// cases are in test/security/config-files.test.mjs; these are the edges a CLI run cannot
// reach, such as a file whose size says 0 but that reads on (/proc), the way a file that
// grows while it is read does.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSmallFile, fileLabel } from '../../dist/util/small-file.js';

describe('readSmallFile', () => {
  let dir;
  before(() => { dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'logward-small-'))); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads a regular file up to the limit exactly, and refuses one byte more', () => {
    const p = path.join(dir, 'ten');
    fs.writeFileSync(p, '0123456789');
    assert.deepEqual(readSmallFile(p, 10), { ok: true, text: '0123456789', realPath: p });
    const r = readSmallFile(p, 9);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'it has 10 bytes, over the limit of 9 bytes');
  });

  test('stops reading at the limit when a file reads on past its size (it grew, or it is /proc)', () => {
    const r = readSmallFile('/proc/self/status', 100);
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'it grew past 100 bytes while it was read');
    assert.equal(readSmallFile('/proc/self/status', 1024 * 1024).ok, true);
  });

  test('resolves links and says where they lead; a dangling link is not "missing"', () => {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'x: 1\n');
    fs.symlinkSync('target', path.join(dir, 'link'));
    const r = readSmallFile(path.join(dir, 'link'), 100);
    assert.deepEqual(r, { ok: true, text: 'x: 1\n', realPath: target });
    assert.equal(fileLabel(path.join(dir, 'link'), r.realPath), `${path.join(dir, 'link')} -> ${target}`);
    assert.equal(fileLabel(target, target), target);
    fs.symlinkSync('gone', path.join(dir, 'dangling'));
    const d = readSmallFile(path.join(dir, 'dangling'), 100);
    assert.deepEqual(d, { ok: false, reason: 'ENOENT: no such file or directory', realPath: path.join(dir, 'gone'), missing: false });
    assert.equal(readSmallFile(path.join(dir, 'none'), 100).missing, true);
  });

  test('refuses a directory, a device and a FIFO without opening them', () => {
    assert.match(readSmallFile(dir, 100).reason, /^it is a directory, not a regular file/);
    assert.match(readSmallFile('/dev/null', 100).reason, /^it is a device, not a regular file/);
    const fifo = path.join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.match(readSmallFile(fifo, 100).reason, /^it is a FIFO \(named pipe\), not a regular file/);
  });
});
