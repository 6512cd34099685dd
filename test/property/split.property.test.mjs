// LineSplitter against a reference that splits the whole input at once, on raw bytes:
// lines end at LF, one CR before it belongs to the ending, a line over max_line_bytes is
// cut to the bound without ending inside a character (and counted), a final line without
// newline is still a line at end(). The splitter must give the same lines and stats for
// every chunking of the same bytes, since a tailed file arrives in arbitrary reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../dist/core/split.js';
import { fc, params } from './fc-params.mjs';

/** End of the longest prefix of buf[0, n) that does not stop inside a UTF-8 sequence. */
function wholeChars(buf, n) {
  let lead = n - 1;
  // A sequence is at most 4 bytes: look back over at most 3 continuation bytes.
  while (lead >= 0 && lead > n - 4 && (buf[lead] & 0xc0) === 0x80) lead--;
  if (lead < 0) return n;
  const b = buf[lead];
  const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return lead + len > n ? lead : n;
}

function referenceSplit(bytes, max) {
  const lines = [];
  let cut = 0;
  let start = 0;
  const take = (from, to) => {
    let raw = bytes.subarray(from, to);
    if (raw.length > 0 && raw[raw.length - 1] === 13) raw = raw.subarray(0, raw.length - 1);
    if (raw.length > max) {
      raw = raw.subarray(0, wholeChars(raw, max));
      cut++;
    }
    lines.push(raw.toString('utf8'));
  };
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) {
      take(start, i);
      start = i + 1;
    }
  }
  const complete = start;
  if (start < bytes.length) take(start, bytes.length);
  return { lines, stats: { lines: lines.length, cut }, consumed: complete };
}

/** Feeds bytes cut at the given points; returns lines, stats and the counters before and after end(). */
function splitChunked(bytes, cuts, max) {
  const sp = new LineSplitter(max);
  const lines = [];
  const onLine = (l) => lines.push(l);
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    // A fresh buffer per chunk that is overwritten afterwards: the splitter must copy what it keeps.
    const chunk = Buffer.from(bytes.subarray(prev, c));
    sp.push(chunk, onLine);
    chunk.fill(0x58);
    prev = c;
  }
  const before = { consumed: sp.consumed, pending: sp.pending };
  sp.end(onLine);
  return { lines, stats: { ...sp.stats }, before, after: { consumed: sp.consumed, pending: sp.pending } };
}

const special = fc.constantFrom(10, 13, 0, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff);
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 3, arbitrary: special.map((b) => Buffer.from([b])) },
  { weight: 2, arbitrary: fc.constantFrom('\n', '\r\n', '\r', 'é', '€', '🚀', '\u0000').map((s) => Buffer.from(s, 'utf8')) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a)) },
  // A multibyte character with its tail missing: invalid UTF-8 the splitter must not choke on.
  { weight: 1, arbitrary: fc.constantFrom('é', '€', '🚀').chain((c) => {
    const b = Buffer.from(c, 'utf8');
    return fc.integer({ min: 1, max: b.length - 1 }).map((n) => b.subarray(0, n));
  }) },
);
const input = fc.array(piece, { maxLength: 60 }).map((ps) => Buffer.concat(ps));
/** Sorted cut points inside the input (duplicates give empty chunks, which must be harmless). */
const chunking = (len) => fc.array(fc.integer({ min: 0, max: len }), { maxLength: 12 }).map((cs) => cs.sort((a, b) => a - b));
const withChunking = input.chain((bytes) => fc.tuple(fc.constant(bytes), chunking(bytes.length), fc.integer({ min: 1, max: 24 })));

test('splitting any chunking of random bytes gives the reference lines, stats and offsets', () => {
  fc.assert(fc.property(withChunking, ([bytes, cuts, max]) => {
    const ref = referenceSplit(bytes, max);
    const got = splitChunked(bytes, cuts, max);
    assert.deepEqual(got.lines, ref.lines);
    assert.deepEqual(got.stats, ref.stats);
    assert.deepEqual(got.before, { consumed: ref.consumed, pending: bytes.length - ref.consumed });
    assert.deepEqual(got.after, { consumed: bytes.length, pending: 0 });
  }), params(400));
});

test('splitting any chunking of a text gives the same lines as splitting it whole', () => {
  const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 40 }).map((a) => a.join(''));
  const args = text.chain((t) => {
    const bytes = Buffer.from(t, 'utf8');
    return fc.tuple(fc.constant(bytes), chunking(bytes.length), chunking(bytes.length), fc.integer({ min: 1, max: 40 }));
  });
  fc.assert(fc.property(args, ([bytes, cutsA, cutsB, max]) => {
    const a = splitChunked(bytes, cutsA, max);
    const b = splitChunked(bytes, cutsB, max);
    const whole = splitChunked(bytes, [], max);
    assert.deepEqual(a.lines, whole.lines);
    assert.deepEqual(b.lines, whole.lines);
    assert.deepEqual(a.stats, whole.stats);
    assert.deepEqual(b.stats, whole.stats);
  }), params(300));
});

test('a line of valid text is emitted whole, or cut to a prefix of at most max_line_bytes that ends on a whole character', () => {
  const args = fc.tuple(fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\n')), fc.integer({ min: 1, max: 40 }), fc.boolean());
  fc.assert(fc.property(args, ([line, max, crlf]) => {
    const bytes = Buffer.from(`${line}${crlf ? '\r\n' : '\n'}`, 'utf8');
    const { lines, stats } = splitChunked(bytes, [], max);
    const expected = crlf || !line.endsWith('\r') ? line : line.slice(0, -1);
    assert.equal(lines.length, 1);
    const [got] = lines;
    assert.ok(expected.startsWith(got), 'a prefix of the line');
    assert.ok(Buffer.byteLength(got) <= max, 'within the bound');
    if (Buffer.byteLength(expected) <= max) {
      assert.equal(got, expected);
      assert.equal(stats.cut, 0);
    } else {
      // Only the part of a character that crossed the bound is dropped (a character is at most 4 bytes).
      assert.ok(Buffer.byteLength(got) > max - 4);
      assert.equal(stats.cut, 1);
    }
  }), params(300));
});

test('an invalid UTF-8 line within max_line_bytes is never cut, however it is chunked', () => {
  // Two 0xff bytes are two bytes of input but six once decoded to U+FFFD: the bound is on input bytes.
  const bytes = Buffer.from([0xff, 0xff, 0x0a]);
  for (const cuts of [[], [1], [2]]) {
    const { lines, stats } = splitChunked(bytes, cuts, 3);
    assert.deepEqual(lines, ['\ufffd\ufffd'], `cut at ${cuts}`);
    assert.equal(stats.cut, 0);
  }
});
