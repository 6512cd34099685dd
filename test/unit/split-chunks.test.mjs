import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../dist/core/split.js';

const SAMPLE = Buffer.from('first line\r\nsecond: café ünïcödé 🚀\n\nfourth\r\nno newline at end', 'utf8');

function splitAll(buf, sizes, max = 1 << 16) {
  const sp = new LineSplitter(max);
  const out = [];
  let p = 0;
  let k = 0;
  while (p < buf.length) {
    const n = sizes[k++ % sizes.length];
    sp.push(buf.subarray(p, p + n), (l) => out.push(l));
    p += n;
  }
  sp.end((l) => out.push(l));
  return { out, sp };
}

test('gives the same lines for every chunking, multibyte characters split or not', () => {
  const expected = SAMPLE.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  for (let size = 1; size <= SAMPLE.length; size++) {
    assert.deepEqual(splitAll(SAMPLE, [size]).out, expected, `chunk size ${size}`);
  }
  assert.deepEqual(splitAll(SAMPLE, [3, 1, 7, 2]).out, expected);
});

test('holds a partial last line until its newline arrives', () => {
  const sp = new LineSplitter(1024);
  const got = [];
  sp.push(Buffer.from('abc\npart'), (l) => got.push(l));
  assert.deepEqual(got, ['abc']);
  assert.equal(sp.consumed, 4);
  assert.equal(sp.pending, 4);
  sp.push(Buffer.from('ial\n'), (l) => got.push(l));
  assert.deepEqual(got, ['abc', 'partial']);
  assert.equal(sp.consumed, 12);
  assert.equal(sp.pending, 0);
});

test('cuts a line over max_line_bytes, counts it, and never splits a character', () => {
  const long = `${'é'.repeat(10)}\nok\n`; // é is 2 bytes: 20 bytes then a newline
  for (const size of [1, 2, 3, 5, 64]) {
    const { out, sp } = splitAll(Buffer.from(long), [size], 7);
    assert.deepEqual(out, ['ééé', 'ok'], `chunk size ${size}`);
    assert.equal(sp.stats.cut, 1);
    assert.equal(sp.stats.lines, 2);
    assert.equal(sp.consumed, Buffer.byteLength(long));
  }
});
