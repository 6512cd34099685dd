import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, detach, keep } from '../../dist/core/split.js';

/** Feeds buf to a fresh splitter in chunks of `size` bytes; returns lines emitted before end(), all lines, and the splitter. */
function feed(buf, size, max = 1 << 20) {
  const s = new LineSplitter(max);
  const lines = [];
  for (let i = 0; i < buf.length; i += size) s.push(buf.subarray(i, i + size), (l) => lines.push(l));
  const beforeEnd = lines.length;
  const consumedBeforeEnd = s.consumed;
  s.end((l) => lines.push(l));
  return { s, lines, beforeEnd, consumedBeforeEnd };
}

/** The reference: split on LF, drop one CR before each LF, no line after a final LF. */
function reference(text) {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p, i) => (i < parts.length - 1 || text.endsWith('\n')) && p.endsWith('\r') ? p.slice(0, -1) : p);
}

const SAMPLE = [
  'Oct 14 12:01:10 host sshd[1]: Failed password for root from 203.0.113.10',
  '',
  'crlf line\r',
  'Grüße aus Zürich — ünïcödé',
  '€uro € and 😀 emoji 😀😀',
  '',
  '',
  '日本語のログ行',
  'last line without newline ✓',
].join('\n');

describe('LineSplitter chunking', () => {
  test('gives the same lines as text.split for every chunk size from 1 to the sample length', () => {
    const buf = Buffer.from(SAMPLE, 'utf8');
    const want = reference(SAMPLE);
    for (let size = 1; size <= buf.length; size++) {
      const { lines, s } = feed(buf, size);
      assert.deepEqual(lines, want, `chunk size ${size}`);
      assert.equal(s.stats.lines, want.length, `chunk size ${size}`);
      assert.equal(s.stats.cut, 0);
    }
  });

  test('gives the same lines for a sample ending in a newline, for every chunk size', () => {
    const text = `${SAMPLE}\n`;
    const buf = Buffer.from(text, 'utf8');
    const want = reference(text);
    for (let size = 1; size <= buf.length; size++) {
      const { lines, beforeEnd } = feed(buf, size);
      assert.deepEqual(lines, want, `chunk size ${size}`);
      assert.equal(beforeEnd, want.length, 'every line is emitted without end()');
    }
  });

  test('decodes multibyte characters split at every possible byte offset', () => {
    const text = 'a😀b€c\nü😀\n';
    const buf = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < buf.length; cut++) {
      const s = new LineSplitter(1024);
      const lines = [];
      s.push(buf.subarray(0, cut), (l) => lines.push(l));
      s.push(buf.subarray(cut), (l) => lines.push(l));
      assert.deepEqual(lines, ['a😀b€c', 'ü😀'], `cut at byte ${cut}`);
    }
  });

  test('strips a CR whose LF arrives in the next chunk', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.from('abc\r'), (l) => lines.push(l));
    assert.deepEqual(lines, []);
    s.push(Buffer.from('\ndef\r\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['abc', 'def']);
  });

  test('keeps a CR that is not directly before the newline', () => {
    const { lines } = feed(Buffer.from('a\rb\n\rc\n'), 3);
    assert.deepEqual(lines, ['a\rb', '\rc']);
  });

  test('emits empty lines for consecutive newlines, including at a chunk start', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.from('x\n'), (l) => lines.push(l));
    s.push(Buffer.from('\n\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['x', '', '']);
  });

  test('ignores empty chunks', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.alloc(0), (l) => lines.push(l));
    s.push(Buffer.from('ab'), (l) => lines.push(l));
    s.push(Buffer.alloc(0), (l) => lines.push(l));
    s.push(Buffer.from('c\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['abc']);
    assert.equal(s.consumed, 4);
  });

  test('does not keep a reference to the caller\'s chunk buffer', () => {
    const s = new LineSplitter(100);
    const lines = [];
    const chunk = Buffer.from('hello');
    s.push(chunk, (l) => lines.push(l));
    chunk.fill(0x78); // the caller reuses its read buffer
    s.push(Buffer.from(' world\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['hello world']);
  });
});

describe('LineSplitter partial lines', () => {
  test('holds a partial last line until its newline arrives', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.from('one\ntw'), (l) => lines.push(l));
    assert.deepEqual(lines, ['one']);
    assert.equal(s.pending, 2);
    s.push(Buffer.from('o'), (l) => lines.push(l));
    assert.deepEqual(lines, ['one']);
    assert.equal(s.pending, 3);
    s.push(Buffer.from('\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['one', 'two']);
    assert.equal(s.pending, 0);
  });

  test('emits a last line without newline only at end()', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.from('a\nb'), (l) => lines.push(l));
    assert.deepEqual(lines, ['a']);
    s.end((l) => lines.push(l));
    assert.deepEqual(lines, ['a', 'b']);
    assert.equal(s.stats.lines, 2);
  });

  test('emits nothing at end() when the input ended with a newline', () => {
    const s = new LineSplitter(100);
    const lines = [];
    s.push(Buffer.from('a\n'), (l) => lines.push(l));
    s.end((l) => lines.push(l));
    assert.deepEqual(lines, ['a']);
  });
});

describe('LineSplitter consumed bytes', () => {
  test('counts the bytes of emitted lines including newlines, never the pending tail', () => {
    const text = 'ab\r\nü\n\nxyz';
    const buf = Buffer.from(text, 'utf8');
    for (let size = 1; size <= buf.length; size++) {
      const { s, consumedBeforeEnd } = feed(buf, size);
      assert.equal(consumedBeforeEnd, Buffer.byteLength('ab\r\nü\n\n'), `chunk size ${size}`);
      assert.equal(s.consumed, buf.length, 'end() consumes the last line');
      assert.equal(s.pending, 0);
    }
  });

  test('tracks consumed after each chunk as the byte offset just past the last newline seen', () => {
    const buf = Buffer.from('line one\nline two\nthree\n', 'utf8');
    const s = new LineSplitter(1000);
    for (let i = 0; i < buf.length; i += 5) {
      s.push(buf.subarray(i, i + 5), () => {});
      const seen = buf.subarray(0, Math.min(i + 5, buf.length));
      assert.equal(s.consumed, seen.lastIndexOf(10) + 1, `after ${seen.length} bytes`);
      assert.equal(s.consumed + s.pending, seen.length);
    }
  });

  test('counts bytes dropped past the bound as consumed', () => {
    const line = `${'x'.repeat(50)}\n`;
    const { s, lines } = feed(Buffer.from(line + line), 7, 10);
    assert.deepEqual(lines, ['x'.repeat(10), 'x'.repeat(10)]);
    assert.equal(s.consumed, 102);
  });
});

describe('LineSplitter max_line_bytes', () => {
  test('rejects a bound that is not a positive integer', () => {
    assert.throws(() => new LineSplitter(0), RangeError);
    assert.throws(() => new LineSplitter(-1), RangeError);
    assert.throws(() => new LineSplitter(1.5), RangeError);
  });

  test('cuts a long line inside one chunk to the bound and counts it', () => {
    const { lines, s } = feed(Buffer.from(`short\n${'a'.repeat(30)}\nok\n`), 1000, 10);
    assert.deepEqual(lines, ['short', 'a'.repeat(10), 'ok']);
    assert.equal(s.stats.cut, 1);
    assert.equal(s.stats.lines, 3);
  });

  test('does not cut a line of exactly the bound', () => {
    const { lines, s } = feed(Buffer.from(`${'b'.repeat(10)}\n`), 1000, 10);
    assert.deepEqual(lines, ['b'.repeat(10)]);
    assert.equal(s.stats.cut, 0);
  });

  test('does not count a CRLF line whose content is exactly the bound as cut', () => {
    // The CR belongs to the line ending, not to the line.
    for (const size of [1, 4, 100]) {
      const { lines, s } = feed(Buffer.from('abcd\r\nefgh\r\n'), size, 4);
      assert.deepEqual(lines, ['abcd', 'efgh'], `chunk size ${size}`);
      assert.equal(s.stats.cut, 0, `chunk size ${size}`);
    }
  });

  test('cuts a line spanning many chunks and resumes with the next line intact', () => {
    const long = 'L'.repeat(5000);
    const text = `first\n${long}\nafter\n`;
    const buf = Buffer.from(text);
    for (const size of [1, 3, 64, 999, 4096]) {
      const { lines, s } = feed(buf, size, 100);
      assert.deepEqual(lines, ['first', 'L'.repeat(100), 'after'], `chunk size ${size}`);
      assert.equal(s.stats.cut, 1);
      assert.equal(s.consumed, buf.length);
    }
  });

  test('never splits a multibyte character at the cut, whatever the chunking', () => {
    // Every prefix must be whole characters and at most `max` bytes; the longest such prefix.
    const line = 'ab€😀ü日本😀x';
    const buf = Buffer.from(`${line}\n`, 'utf8');
    for (let max = 1; max < Buffer.byteLength(line); max++) {
      let want = '';
      for (const ch of line) {
        if (Buffer.byteLength(want + ch) > max) break;
        want += ch;
      }
      for (const size of [1, 2, 5, buf.length]) {
        const { lines, s } = feed(buf, size, max);
        assert.deepEqual(lines, [want], `max ${max}, chunk size ${size}`);
        assert.ok(!lines[0].includes('\uFFFD'), `no replacement character (max ${max}, chunk ${size})`);
        assert.equal(s.stats.cut, 1);
      }
    }
  });

  test('cuts a carried line that ends inside a four-byte character to whole characters', () => {
    // "a" + the first three bytes of U+1F600 fill a 4-byte bound exactly.
    const s = new LineSplitter(4);
    const lines = [];
    s.push(Buffer.from('a'), (l) => lines.push(l));
    s.push(Buffer.from('😀b\n'), (l) => lines.push(l));
    assert.deepEqual(lines, ['a']);
  });

  test('cuts a long last line emitted by end()', () => {
    const { lines, s } = feed(Buffer.from('y'.repeat(40)), 6, 16);
    assert.deepEqual(lines, ['y'.repeat(16)]);
    assert.equal(s.stats.cut, 1);
    assert.equal(s.consumed, 40);
  });
});

describe('detach and keep', () => {
  test('detach returns an equal string for ascii, unicode, empty and sliced input', () => {
    const big = `${'prefix '.repeat(1000)}the line ü😀`;
    for (const s of ['', 'x', 'hello world', 'ü😀日本', big, big.slice(7000)]) {
      const d = detach(s);
      assert.equal(d, s);
      assert.equal(typeof d, 'string');
      assert.equal(d.length, s.length);
    }
  });

  test('keep returns null for null and an equal string otherwise', () => {
    assert.equal(keep(null), null);
    assert.equal(keep('short'), 'short');
    const long = 'a longer value than thirteen characters';
    assert.equal(keep(long), long);
  });
});
