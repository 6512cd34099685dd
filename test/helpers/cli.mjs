// Runs the real CLI (dist/cli.js) as a child process, as an operator would.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const SHARED = process.env.LOGWARD_SHARED ?? path.resolve(ROOT, '..', 'shared');
export const SEED = path.join(ROOT, 'data', 'prototype', 'syslog_sample.log');

/** Runs `logward ARGS`; resolves with { code, stdout, stderr }. */
export function runCli(args, { cwd = ROOT, input, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, TZ: 'UTC', LOGWARD_LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function tempDir(prefix = 'logward-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Every file below dir (recursively), as paths. */
export function allFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}
