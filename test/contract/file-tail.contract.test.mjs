// FileTail (the source of `logward run`) keeps the whole source contract, read in one go
// per poll and read in slices of a read budget smaller than one read.

import { FileTail } from '../../dist/sources/file-tail.js';
import { sourceContract } from './source-contract.mjs';

function fileTail(readBudget) {
  return (file, { saved, maxLineBytes }) => {
    let got = [];
    const tail = new FileTail(file, {
      maxLineBytes, startAt: 'beginning', saved, readBudget,
      onBatch: (b) => b.lines.forEach((text, i) => got.push({ text, line: b.firstLine + i })),
    });
    return {
      read() {
        // poll() is synchronous: everything written before it is read when it returns.
        do tail.poll();
        while (tail.behind);
        const out = got;
        got = [];
        return out;
      },
      position: () => tail.position(),
      close: () => tail.close(),
    };
  };
}

sourceContract('FileTail', fileTail(undefined));
sourceContract('FileTail read in slices of a read budget', fileTail(1));
