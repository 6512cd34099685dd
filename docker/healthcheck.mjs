#!/usr/bin/env node
// Container health check for `logward run`: exit 0 healthy, 1 unhealthy, with one line
// saying why. It uses nothing but Node (no curl, no dist/), so it also works in an image
// whose build went wrong.
//
// Usage: node docker/healthcheck.mjs [STATE_DIR] [--max-age SECS]
//   STATE_DIR  where `run` keeps logward-state.json (default $LOGWARD_STATE_DIR or data)
//   --max-age  how long a complete, unread line may wait (default
//              $LOGWARD_HEALTH_MAX_AGE_SECS or 60)
//
// Why not just "the state file is recent": `run` saves its positions every
// run.checkpoint_secs only when they moved, so on a quiet host the file rightly stays
// old. The daemon is unhealthy when it has stopped keeping up: a followed file holds a
// complete line past its saved position while the state file has not been written for
// --max-age seconds (a live daemon reads a new line within run.poll_secs, inotify at
// once, and saves within run.checkpoint_secs). A partial last line (no newline yet) is
// not counted: logward waits for the rest of it too. Journal cursors are not checked.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STATE_FILE = 'logward-state.json';
/** Longer lines are cut at input.max_line_bytes (default 64 KiB): that much pending data is a line too. */
const MAX_LINE_BYTES = 65536;

function parseArgs(argv) {
  let dir = process.env.LOGWARD_STATE_DIR || 'data';
  let maxAge = Number(process.env.LOGWARD_HEALTH_MAX_AGE_SECS || 60);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--max-age') maxAge = Number(argv[++i]);
    else if (a.startsWith('--max-age=')) maxAge = Number(a.slice('--max-age='.length));
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}; usage: healthcheck.mjs [STATE_DIR] [--max-age SECS]`);
    else dir = a;
  }
  if (!Number.isFinite(maxAge) || maxAge <= 0) throw new Error('--max-age must be a positive number of seconds');
  return { dir, maxAgeMs: maxAge * 1000 };
}

/** True when the file holds a complete line (or a line long enough to be cut) after `offset`. */
function hasPendingLine(file, offset, size) {
  // A file now shorter than the saved position was truncated or replaced: all of it is new.
  const from = size < offset ? 0 : offset;
  if (size - from > MAX_LINE_BYTES) return true;
  if (size === from) return false;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - from);
    const n = fs.readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).includes(0x0a);
  } finally {
    fs.closeSync(fd);
  }
}

export function check(dir, maxAgeMs, now = Date.now()) {
  const file = path.join(dir, STATE_FILE);
  let stat;
  let doc;
  try {
    stat = fs.statSync(file);
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { ok: false, why: `no readable state file ${file} (${err.code ?? err.message}): logward run has not started or cannot write its state directory` };
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.files !== 'object' || doc.files === null) {
    return { ok: false, why: `${file} is not a logward state file` };
  }
  const ageMs = now - stat.mtimeMs;
  if (ageMs <= maxAgeMs) return { ok: true, why: `state saved ${Math.round(ageMs / 1000)} s ago` };
  for (const [source, pos] of Object.entries(doc.files)) {
    const offset = typeof pos?.offset === 'number' ? pos.offset : 0;
    let size;
    try {
      size = fs.statSync(source).size;
    } catch {
      continue; // gone (rotated away, unmounted): nothing to read there
    }
    try {
      if (hasPendingLine(source, offset, size)) {
        return { ok: false, why: `${source} has unread lines after offset ${offset} (size ${size}) and the state was last saved ${Math.round(ageMs / 1000)} s ago: logward is stuck or not running` };
      }
    } catch (err) {
      return { ok: false, why: `cannot read ${source} (${err.code ?? err.message})` };
    }
  }
  return { ok: true, why: `no unread lines; state saved ${Math.round(ageMs / 1000)} s ago (a quiet host)` };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let result;
  try {
    const { dir, maxAgeMs } = parseArgs(process.argv.slice(2));
    result = check(dir, maxAgeMs);
  } catch (err) {
    result = { ok: false, why: err.message };
  }
  process.stdout.write(`logward health: ${result.ok ? 'ok' : 'UNHEALTHY'}: ${result.why}\n`);
  process.exitCode = result.ok ? 0 : 1;
}
