// Takes the README's screenshots: the HTML report of the bundled sample logs, and the live
// dashboard of `logward run` reading them. Run with `npm run screenshots` (needs Chromium,
// as the browser tests do); the PNG files land beside this script.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchBrowser } from '../../test/helpers/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SAMPLES = ['auth.log', 'access.log'].map((f) => path.join(ROOT, 'data', 'sample_logs', f));
const LINES = SAMPLES.reduce((n, f) => n + fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-shots-'));

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`logward ${args[0]} exited ${code}`))));
  });
}

const browser = await launchBrowser();
try {
  // The report: a scan of the sample logs, as `logward scan` on the bundled defaults makes it.
  const scan = JSON.parse(await run(['scan', ...SAMPLES, '--out', path.join(work, 'reports'), '--format', 'html', '--json']));
  const html = scan.report_files.find((f) => f.endsWith('.html'));
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  await page.goto(pathToFileURL(html).href);
  await page.screenshot({ path: path.join(HERE, 'report.png') });
  await page.close();

  // The dashboard: the daemon reading the same logs from the beginning.
  const config = path.join(work, 'logward.yaml');
  fs.writeFileSync(config, [
    `rules: { files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}] }`,
    'sources:',
    ...SAMPLES.map((f) => `  - { path: ${f}, start_at: beginning }`),
    `state: { dir: ${path.join(work, 'state')} }`,
    `reports: { dir: ${path.join(work, 'reports')} }`,
    'http: { enabled: true, port: 0 }',
    '',
  ].join('\n'));
  const daemon = spawn(process.execPath, [CLI, 'run', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  daemon.stdout.on('data', (d) => { out += d; });
  const t0 = Date.now();
  while (!out.includes('Serving the dashboard')) {
    if (Date.now() - t0 > 20_000) throw new Error(`the daemon did not serve the dashboard:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = JSON.parse(out.split('\n').find((l) => l.includes('Serving the dashboard'))).url;
  const dash = await browser.newPage({ viewport: { width: 1280, height: 1300 } });
  await dash.goto(`${url}/`);
  await dash.waitForFunction((n) => Number(document.querySelector('#t-lines').textContent.replace(/,/g, '')) >= n, LINES);
  await dash.waitForTimeout(300);
  await dash.screenshot({ path: path.join(HERE, 'dashboard.png') });
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
} finally {
  await browser.close();
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`screenshots written to ${HERE}`);
