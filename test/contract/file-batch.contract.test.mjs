// scan's one-shot reader keeps the parts of the source contract that apply to reading a
// file once to its end: lines whole and in order whatever the read size, and a last line
// without newline still a line. It keeps no position, so it is not held to the cases of
// a saved position, truncation, rotation or restart.

import fs from 'node:fs';
import zlib from 'node:zlib';
import { resolveInputs, readLines } from '../../dist/sources/file-batch.js';
import { linesAndOffsets, partialLineAtEnd } from './source-contract.mjs';

/** gzip: the file is compressed next to itself first, and the compressed copy is read. */
function fileBatch(gzip) {
  return (file, { maxLineBytes }) => ({
    async read() {
      let p = file;
      if (gzip) {
        p = `${file}.gz`;
        fs.writeFileSync(p, zlib.gzipSync(fs.readFileSync(file)));
      }
      const [input] = resolveInputs([p]);
      const out = [];
      await readLines(input, maxLineBytes, (text) => out.push({ text, line: null }));
      return out;
    },
    close() {},
  });
}

for (const [name, gzip] of [['scan of a plain file', false], ['scan of a gzip file', true]]) {
  linesAndOffsets(name, fileBatch(gzip));
  partialLineAtEnd(name, fileBatch(gzip));
}
