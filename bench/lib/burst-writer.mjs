#!/usr/bin/env node
// Writer process of the burst benchmark (run-bench.mjs forks it with an IPC channel). It
// appends lines of a generated auth.log, stamped with the current time, to a file at a
// fixed rate for a fixed time: every 10 ms timer tick, the lines due by then in one
// write(). At the end it sends {written, bytes, wallSec, worstBehind} to the parent:
// worstBehind is how many lines the writer itself was ever late, so a writer that cannot
// keep the rate shows up instead of being mistaken for a fast reader.
//
// Parent -> writer message: {file, rate, seconds, noiseFile}

import fs from 'node:fs';
import { loadNoise, syslogStamp as stamp } from './util.mjs';

const NOISE_LINES = 200_000;

function run({ file, rate, seconds, noiseFile }) {
  const noise = loadNoise(noiseFile, NOISE_LINES);
  const total = Math.round(rate * seconds);
  const fd = fs.openSync(file, 'a');
  let written = 0;
  let bytes = 0;
  let worstBehind = 0;
  const t0 = process.hrtime.bigint();
  const tick = () => {
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const due = Math.min(total, Math.floor(elapsed * rate));
    worstBehind = Math.max(worstBehind, due - written);
    if (due > written) {
      const s = stamp();
      const parts = new Array(due - written);
      for (let i = 0; i < parts.length; i++) parts[i] = `${s}${noise[(written + i) % noise.length]}\n`;
      const text = parts.join('');
      fs.writeSync(fd, text);
      bytes += Buffer.byteLength(text);
      written = due;
    }
    if (written >= total) {
      fs.closeSync(fd);
      process.send({ written, bytes, wallSec: Number(process.hrtime.bigint() - t0) / 1e9, worstBehind }, () => process.exit(0));
      return;
    }
    setTimeout(tick, 10);
  };
  tick();
}

process.once('message', run);
