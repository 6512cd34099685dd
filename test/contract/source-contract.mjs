// The contract every file source keeps (DESIGN.md style 6): lines come out whole and in
// order whatever the read size, a saved position counts the bytes and lines of complete
// lines, a partial last line waits for its newline (or, for a one-shot reader, is still a
// line at the end), a truncated file is read again from its start, a renamed-away file is
// read to its end before the new one, a file replaced by a byte-identical copy is read on
// from where it was, and a restart from a saved position reads each line exactly once. Each group of cases is exported on its own so a source runs only those
// that apply to it; sourceContract runs all the cases of a source that follows files.
// It never sleeps or waits on timers: the source is driven through its adapter's read(),
// which reads what is there now, so the outcome never depends on how busy the machine is.
//
// makeSource(file, { saved, maxLineBytes }) returns an adapter:
//   read()      lines delivered now, as [{ text, line }] (line: number within its file, or
//               null when the source does not number lines); may return a promise. A
//               following source reads what the file holds now (polling until caught up);
//               a one-shot source reads the file once to its end.
//   position()  what a checkpoint would save ({ offset, line, ... }), or null before the
//               file was opened; only sources that keep positions have it.
//   close()

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.mjs';
import { prng } from '../helpers/prng.mjs';

/** Far above every line written here: nothing is cut. */
const MAX_LINE_BYTES = 1024 * 1024;
/** A line that spans several reads of any source reading 64 KiB or less at a time. */
const LONG = 'x'.repeat(150_000);
/** Two bytes, then 4-byte characters: every power-of-two read boundary falls inside one. */
const FOXES = `ab${'🦊'.repeat(50_000)}`;

const bytes = (s) => Buffer.byteLength(s);
const texts = (records) => records.map((r) => r.text);

/** Each delivered line is the file's bytes from where the previous one and its newline end. */
function assertAtTheirOffsets(records, file) {
  const buf = fs.readFileSync(file);
  let at = 0;
  for (const [i, { text }] of records.entries()) {
    const len = bytes(text);
    assert.equal(buf.toString('utf8', at, at + len), text, `line ${i + 1} at byte ${at}`);
    assert.equal(buf[at + len], 10, `line ${i + 1} ends with a newline at byte ${at + len}`);
    at += len + 1;
  }
  assert.equal(at, buf.length, 'every byte of the file is in a line');
}

/** A log file in a fresh directory, removed after the test; open() starts a source on it. */
function scratch(t, makeSource) {
  const dir = tempDir('logward-contract-');
  const file = path.join(dir, 'app.log');
  const opened = [];
  t.after(() => {
    opened.forEach((s) => s.close());
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = (saved = null) => {
    const s = makeSource(file, { saved, maxLineBytes: MAX_LINE_BYTES });
    opened.push(s);
    return s;
  };
  return { dir, file, open };
}

/** A position as a checkpoint file holds it: through JSON and back. */
const saved = (source) => JSON.parse(JSON.stringify(source.position()));

/** Lines come out whole, in order and numbered, whatever the read size. For every file source. */
export function linesAndOffsets(name, makeSource) {
  describe(`${name}: lines and byte offsets`, () => {
    test('delivers every line in file order, empty ones included, numbered from 1', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'alpha\n\nbeta gamma\nδέλτα 🦊\n');
      const got = await open().read();
      assert.deepEqual(texts(got), ['alpha', '', 'beta gamma', 'δέλτα 🦊']);
      assertAtTheirOffsets(got, file);
      if (got.every((r) => r.line !== null)) assert.deepEqual(got.map((r) => r.line), [1, 2, 3, 4]);
    });

    test('keeps a line whole when it spans several reads', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, `short\n${LONG}\nafter\n`);
      const got = await open().read();
      assert.deepEqual(texts(got), ['short', LONG, 'after']);
      assertAtTheirOffsets(got, file);
    });

    test('decodes a character whose bytes straddle two reads', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, `${FOXES}\nlast\n`);
      const got = await open().read();
      assert.deepEqual(texts(got), [FOXES, 'last']);
      assertAtTheirOffsets(got, file);
    });

    test('reads CRLF lines without their CR', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\r\ntwo\r\n');
      assert.deepEqual(texts(await open().read()), ['one', 'two']);
    });
  });
}

/** The saved position is in bytes and lines of complete lines. For sources that keep positions. */
export function savedPosition(name, makeSource) {
  describe(`${name}: saved position`, () => {
    test('saves the byte offset and the count of the complete lines read, in bytes not characters', async (t) => {
      const { file, open } = scratch(t, makeSource);
      const first = 'one\nδύο\n';
      fs.writeFileSync(file, first);
      const s = open();
      await s.read();
      assert.equal(s.position().offset, bytes(first));
      assert.equal(s.position().line, 2);
      fs.appendFileSync(file, 'three 🦊\r\n');
      const got = await s.read();
      assert.deepEqual(texts(got), ['three 🦊']);
      if (got[0].line !== null) assert.equal(got[0].line, 3);
      assert.equal(s.position().offset, bytes(`${first}three 🦊\r\n`));
      assert.equal(s.position().line, 3);
    });

    test('moves the saved position past a line that spans several reads only once it is complete', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, `short\n${FOXES}`);
      const s = open();
      assert.deepEqual(texts(await s.read()), ['short']);
      assert.equal(s.position().offset, bytes('short\n'));
      fs.appendFileSync(file, '\n');
      assert.deepEqual(texts(await s.read()), [FOXES]);
      assert.equal(s.position().offset, bytes(`short\n${FOXES}\n`));
      assert.equal(s.position().line, 2);
    });
  });
}

/** A partial last line waits for its newline. For sources that follow a file. */
export function partialLineHeldBack(name, makeSource) {
  describe(`${name}: partial last line`, () => {
    test('holds a partial last line back until its newline arrives, and saves no position past it', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntw');
      const s = open();
      assert.deepEqual(texts(await s.read()), ['one']);
      assert.equal(s.position().offset, 4);
      assert.equal(s.position().line, 1);
      fs.appendFileSync(file, 'o');
      assert.deepEqual(texts(await s.read()), []);
      assert.equal(s.position().offset, 4);
      fs.appendFileSync(file, '\nthr');
      assert.deepEqual(texts(await s.read()), ['two']);
      assert.equal(s.position().offset, 8);
      assert.equal(s.position().line, 2);
    });

    test('holds back a partial line that ends inside a character', async (t) => {
      const { file, open } = scratch(t, makeSource);
      const fox = Buffer.from('🦊');
      fs.writeFileSync(file, Buffer.concat([Buffer.from('one\n'), fox.subarray(0, 2)]));
      const s = open();
      assert.deepEqual(texts(await s.read()), ['one']);
      fs.appendFileSync(file, Buffer.concat([fox.subarray(2), Buffer.from('\n')]));
      assert.deepEqual(texts(await s.read()), ['🦊']);
    });
  });
}

/** The last line is a line even without its newline. For one-shot sources. */
export function partialLineAtEnd(name, makeSource) {
  describe(`${name}: last line at the end of input`, () => {
    test('delivers a last line that has no newline', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo');
      assert.deepEqual(texts(await open().read()), ['one', 'two']);
    });

    test('delivers a last line without newline that spans several reads', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, `one\n${FOXES}`);
      assert.deepEqual(texts(await open().read()), ['one', FOXES]);
    });
  });
}

/** copytruncate: the file is read again from its start. For sources that follow a file. */
export function truncation(name, makeSource) {
  describe(`${name}: truncation`, () => {
    test('reads a truncated file again from its start', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\nthree\n');
      const s = open();
      await s.read();
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, 'four\n');
      assert.deepEqual(texts(await s.read()), ['four']);
      assert.equal(s.position().offset, bytes('four\n'));
    });

    test('notices a truncation even when the file grew past the old position before the next read', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\n');
      const s = open();
      await s.read();
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, 'three three\nfour four four\n');
      assert.deepEqual(texts(await s.read()), ['three three', 'four four four']);
      assert.equal(s.position().offset, bytes('three three\nfour four four\n'));
    });

    test('reads the lines appended just before a copytruncate from the copy, then the emptied file', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\n');
      const s = open();
      await s.read();
      fs.appendFileSync(file, 'three\n');
      fs.copyFileSync(file, `${file}.1`);
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, 'four\n');
      assert.deepEqual(texts(await s.read()), ['three', 'four']);
    });
  });
}

/** Rename rotation and deletion: the old file to its end, then the new one. For following sources. */
export function rotation(name, makeSource) {
  describe(`${name}: rotation`, () => {
    test('reads a renamed-away file to its end, its partial last line included, then the new file from its start', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\n');
      const s = open();
      await s.read();
      fs.appendFileSync(file, 'two\nthree');
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, 'four\n');
      const got = await s.read();
      assert.deepEqual(texts(got), ['two', 'three', 'four']);
      if (got.every((r) => r.line !== null)) assert.deepEqual(got.map((r) => r.line), [2, 3, 1]);
      assert.equal(s.position().offset, bytes('four\n'));
      assert.equal(s.position().line, 1);
    });

    test('reads a deleted file to its end, and a file created again at the path from its start', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\n');
      const s = open();
      await s.read();
      fs.appendFileSync(file, 'two\n');
      fs.unlinkSync(file);
      assert.deepEqual(texts(await s.read()), ['two']);
      fs.writeFileSync(file, 'three\n');
      assert.deepEqual(texts(await s.read()), ['three']);
    });

    test('reads a file that was rotated away before it was ever opened, between the old and the new one', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\n');
      const s = open();
      await s.read();
      fs.appendFileSync(file, 'two\n');
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, 'three\n');
      fs.renameSync(`${file}.1`, `${file}.2`);
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, 'four\n');
      assert.deepEqual(texts(await s.read()), ['two', 'three', 'four']);
    });
  });
}

/** `cp f tmp && mv tmp f`: the same bytes under a new inode. For following sources that keep positions. */
export function identicalCopy(name, makeSource) {
  /** Puts a copy of the file (another inode) in its place, as `cp f tmp && mv tmp f` does. */
  const replaceByCopy = (file, content = fs.readFileSync(file)) => {
    fs.writeFileSync(`${file}.tmp`, content);
    const before = fs.statSync(file).ino;
    fs.renameSync(`${file}.tmp`, file);
    assert.notEqual(fs.statSync(file).ino, before, 'the copy has another inode');
  };
  /** More than the 256 first bytes a fingerprint hashes. */
  const lines = (from, to) => Array.from({ length: to - from }, (_, i) => `line ${from + i} of the log ${'x'.repeat(30)}\n`).join('');

  describe(`${name}: replaced by a byte-identical copy`, () => {
    test('reads on at the saved offset in an identical copy put in place of the file, numbering on', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, lines(0, 10));
      const s = open();
      assert.equal((await s.read()).length, 10);
      replaceByCopy(file);
      fs.appendFileSync(file, lines(10, 12));
      const got = await s.read();
      assert.deepEqual(texts(got), lines(10, 12).split('\n').slice(0, -1));
      if (got.every((r) => r.line !== null)) assert.deepEqual(got.map((r) => r.line), [11, 12]);
      assert.equal(s.position().offset, bytes(lines(0, 12)));
      assert.equal(s.position().line, 12);
    });

    test('reads on at the saved position in a copy made while stopped', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, lines(0, 10));
      const s = open();
      await s.read();
      const at = saved(s);
      s.close();
      replaceByCopy(file);
      fs.appendFileSync(file, lines(10, 11));
      const again = open(at);
      const got = await again.read();
      assert.deepEqual(texts(got), [lines(10, 11).slice(0, -1)]);
      if (got[0].line !== null) assert.equal(got[0].line, 11);
      assert.equal(again.position().line, 11);
    });

    test('reads a partial last line once, whole, from the copy', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntw');
      const s = open();
      assert.deepEqual(texts(await s.read()), ['one']);
      replaceByCopy(file);
      fs.appendFileSync(file, 'o\n');
      assert.deepEqual(texts(await s.read()), ['two']);
    });

    test('reads a small file replaced by its copy on from where it was', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\n');
      const s = open();
      await s.read();
      replaceByCopy(file);
      fs.appendFileSync(file, 'three\n');
      assert.deepEqual(texts(await s.read()), ['three']);
    });

    for (const [what, changed] of [
      ['differs in its first bytes', (text) => `LINE${text.slice(4)}`],
      ['is shorter than the saved offset', (text) => text.slice(0, text.indexOf('\n') + 1)],
      ['has the same first bytes but other bytes before the saved offset', (text) => `${text.slice(0, -12)}${'y'.repeat(11)}\n`],
    ]) {
      test(`reads a copy that ${what} as a new file, from its start`, async (t) => {
        const { file, open } = scratch(t, makeSource);
        const text = lines(0, 10);
        fs.writeFileSync(file, text);
        const s = open();
        await s.read();
        replaceByCopy(file, `${changed(text)}${lines(10, 11)}`);
        const want = `${changed(text)}${lines(10, 11)}`.split('\n').slice(0, -1);
        const got = await s.read();
        assert.deepEqual(texts(got), want);
        if (got.every((r) => r.line !== null)) assert.equal(got[0].line, 1);
      });

      test(`reads a copy made while stopped that ${what} as a new file, from its start`, async (t) => {
        const { file, open } = scratch(t, makeSource);
        const text = lines(0, 10);
        fs.writeFileSync(file, text);
        const s = open();
        await s.read();
        const at = saved(s);
        s.close();
        replaceByCopy(file, `${changed(text)}${lines(10, 11)}`);
        assert.deepEqual(texts(await open(at).read()), `${changed(text)}${lines(10, 11)}`.split('\n').slice(0, -1));
      });
    }

    test('reads every line exactly once across random appends, reads, restarts, rotations, copytruncates and identical copies', async (t) => {
      for (const seed of [11, 12, 13, 14, 15]) await exactlyOnce(t, makeSource, seed, { copies: true });
    });
  });
}

/** A restart from a saved position reads each line exactly once. For sources that keep positions. */
export function restart(name, makeSource) {
  describe(`${name}: restart from a saved position`, () => {
    test('reads only the lines after the saved position, numbered on from it', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\n');
      const s = open();
      await s.read();
      const at = saved(s);
      s.close();
      fs.appendFileSync(file, 'three\n');
      const again = open(at);
      const got = await again.read();
      assert.deepEqual(texts(got), ['three']);
      if (got[0].line !== null) assert.equal(got[0].line, 3);
      assert.equal(again.position().offset, bytes('one\ntwo\nthree\n'));
      assert.equal(again.position().line, 3);
    });

    test('reads a line that was partial when the position was saved once, whole, after its newline', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntw');
      const s = open();
      await s.read();
      const at = saved(s);
      s.close();
      fs.appendFileSync(file, 'o\n');
      assert.deepEqual(texts(await open(at).read()), ['two']);
    });

    test('reads the unread end of a file rotated while stopped, then the new file', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\n');
      const s = open();
      await s.read();
      const at = saved(s);
      s.close();
      fs.appendFileSync(file, 'two\n');
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, 'three\n');
      assert.deepEqual(texts(await open(at).read()), ['two', 'three']);
    });

    test('reads the lines a copytruncate made while stopped left in the copy, then the emptied file', async (t) => {
      const { file, open } = scratch(t, makeSource);
      fs.writeFileSync(file, 'one\ntwo\n');
      const s = open();
      await s.read();
      const at = saved(s);
      s.close();
      fs.appendFileSync(file, 'three\n');
      fs.copyFileSync(file, `${file}.1`);
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, 'four\n');
      assert.deepEqual(texts(await open(at).read()), ['three', 'four']);
    });

    test('reads every line exactly once across random appends, reads, restarts, rotations and copytruncates', async (t) => {
      for (const seed of [1, 2, 3, 4, 5]) await exactlyOnce(t, makeSource, seed);
    });
  });
}

/**
 * One seeded run. Appends cut the text anywhere (inside lines and characters); restarts
 * come at any point. Rotations and copytruncates come where a real writer rotates: after
 * a complete line, and one at a time between two reads (a second one would overwrite the
 * .1 file still unread). A copytruncate comes only once the source has read 256 bytes of
 * the file: the copy is recognised by its first bytes (the fingerprint's HEAD_BYTES).
 * With `copies`, the file is also replaced by a byte-identical copy (`cp f tmp && mv tmp
 * f`) at any point, inside a line too, one such change at a time between two reads, once
 * it holds a byte (a copy of an empty file is a new file).
 */
async function exactlyOnce(t, makeSource, seed, { copies = false } = {}) {
  const { file, open } = scratch(t, makeSource);
  const rnd = prng(seed);
  const pick = (n) => Math.floor(rnd() * n);
  const want = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(5, '0')} ${'é🦊x'.repeat(pick(12))}${'y'.repeat(pick(40))}`);
  const text = Buffer.from(want.map((l) => `${l}\n`).join(''));
  let written = 0;
  let got = [];
  fs.writeFileSync(file, '');
  let checkpoint = null;
  let s = open();
  // Bytes of the current file when it was last read, and whether it was read since it rotated.
  let readSize = 0;
  let readSinceRotation = false;
  const read = async () => {
    got = got.concat(texts(await s.read()));
    readSize = fs.statSync(file).size;
    readSinceRotation = true;
  };
  await read();
  const append = (n) => {
    fs.appendFileSync(file, text.subarray(written, written + n));
    written += n;
  };
  // The writer finishes the line it is in before it rotates.
  const finishLine = () => append(text.indexOf(10, Math.max(0, written - 1)) + 1 - written);
  while (written < text.length) {
    const action = pick(copies ? 11 : 10);
    if (action < 5) {
      append(Math.min(text.length - written, 1 + pick(400)));
    } else if (action < 7) {
      await read();
    } else if (action === 7) {
      // As the daemon's checkpointer: a source not read since it started keeps the position it was given.
      if (s.position() !== null) checkpoint = saved(s);
      s.close();
      s = open(checkpoint);
    } else if (action === 8 && readSinceRotation) {
      finishLine();
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, '');
      readSinceRotation = false;
    } else if (action === 9 && readSinceRotation && readSize >= 256) {
      finishLine();
      fs.copyFileSync(file, `${file}.1`);
      fs.truncateSync(file, 0);
      readSinceRotation = false;
    } else if (action === 10 && readSinceRotation && fs.statSync(file).size > 0) {
      fs.copyFileSync(file, `${file}.tmp`);
      fs.renameSync(`${file}.tmp`, file);
      readSinceRotation = false;
    }
  }
  await read();
  assert.deepEqual(got, want, `seed ${seed}`);
}

/** Every case of a source that follows files and keeps positions. */
export function sourceContract(name, makeSource) {
  linesAndOffsets(name, makeSource);
  savedPosition(name, makeSource);
  partialLineHeldBack(name, makeSource);
  truncation(name, makeSource);
  rotation(name, makeSource);
  identicalCopy(name, makeSource);
  restart(name, makeSource);
}
