// A backlog is read in slices of the read budget: each poll stops after about that many
// bytes and says it is behind, and the slices together are every line exactly once, also
// when the file is rotated between two slices.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FileTail } from '../../dist/sources/file-tail.js';
import { tempDir } from '../helpers/cli.mjs';

const line = (n) => `line ${n} ${'x'.repeat(n % 97)}\n`;
const lines = (a, b) => Array.from({ length: b - a }, (_, i) => line(a + i)).join('');

function tail(file, budget) {
  const got = [];
  const t = new FileTail(file, { maxLineBytes: 4096, startAt: 'beginning', saved: null, readBudget: budget, onBatch: (b) => got.push(...b.lines) });
  return { t, got };
}

describe('FileTail read budget', () => {
  test('reads a backlog in slices of about the budget, then reports that it has caught up', () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, lines(0, 20_000));
    const size = fs.statSync(file).size;
    const budget = 64 * 1024; // one read call
    const { t, got } = tail(file, budget);
    let polls = 0;
    let prev = 0;
    do {
      t.poll();
      polls++;
      const offset = t.position().offset;
      // A slice may finish the partial line the previous one stopped in.
      assert.ok(offset - prev <= budget + 200, `a slice of ${offset - prev} bytes`);
      prev = offset;
    } while (t.behind);
    assert.ok(polls >= Math.floor(size / budget), `${polls} polls for ${size} bytes`);
    assert.equal(t.position().offset, size);
    assert.deepEqual(got, lines(0, 20_000).split('\n').slice(0, -1));
    t.poll();
    assert.equal(t.behind, false);
    t.close();
  });

  test('loses no line when the file is rotated between two slices', () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, lines(0, 10_000));
    const { t, got } = tail(file, 64 * 1024);
    t.poll();
    assert.equal(t.behind, true);
    fs.appendFileSync(file, lines(10_000, 10_500));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, lines(10_500, 11_000));
    while (t.poll() > 0 || t.behind);
    assert.deepEqual(got, lines(0, 11_000).split('\n').slice(0, -1));
    t.close();
  });

  test('without a budget one poll reads everything', () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, lines(0, 5_000));
    const { t, got } = tail(file, undefined);
    t.poll();
    assert.equal(t.behind, false);
    assert.equal(got.length, 5_000);
    t.close();
  });
});
