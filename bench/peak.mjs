#!/usr/bin/env node
// Runs a Node script in this process and reports its peak RSS (VmHWM) on exit, so a
// benchmark measures logward and a baseline the same way.
//   node bench/peak.mjs SCRIPT [ARGS...]   -> stderr: {"peakRssMB": N}

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [script, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], script, ...args];
process.on('exit', () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  process.stderr.write(`${JSON.stringify({ peakRssMB: m ? Math.round(Number(m[1]) / 1024) : null })}\n`);
});
await import(pathToFileURL(path.resolve(script)).href);
