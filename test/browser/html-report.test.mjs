// The HTML report as a person sees it: opened from disk in headless Chromium, with no
// network, checked against the JSON report of the same scan.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli, tempDir } from '../helpers/cli.mjs';
import { launchBrowser, watchedPage } from '../helpers/browser.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Scans the bundled sample logs into HTML and JSON; returns both files. */
async function scanSamples() {
  const out = tempDir('logward-html-');
  const logs = ['auth.log', 'access.log'].map((f) => path.join(ROOT, 'data', 'sample_logs', f));
  const r = await runCli(['scan', ...logs, '--out', out, '--format', 'html', 'json', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const files = JSON.parse(r.stdout).report_files;
  return {
    html: files.find((f) => f.endsWith('.html')),
    report: JSON.parse(fs.readFileSync(files.find((f) => f.endsWith('.json')), 'utf8')),
  };
}

const cellTexts = (page, col) => page.$$eval(`#inc tbody tr`, (rows, c) => rows.filter((r) => r.style.display !== 'none').map((r) => r.cells[c].textContent), col);

describe('the HTML report in Chromium', () => {
  test('renders the same totals, rules and incidents as the JSON report, without a single request or console error', async () => {
    const { html, report } = await scanSamples();
    const { page, context, problems } = await watchedPage(browser);
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(html).href);

    const metric = async (name) => Number((await page.textContent(`[data-metric="${name}"]`)).replace(/,/g, ''));
    assert.equal(await metric('incidents'), report.alerts.length);
    assert.equal(await metric('events'), report.events_summary.total);
    assert.ok(report.alerts.length > 10, 'the sample logs give a real table to look at');
    const perRule = {};
    for (const a of report.alerts) perRule[a.rule] = (perRule[a.rule] ?? 0) + 1;
    for (const [rule, n] of Object.entries(perRule)) {
      assert.equal(Number(await page.textContent(`td[data-rule="${rule}"]`)), n, `incidents of ${rule}`);
    }
    assert.equal(await page.locator('#inc tbody tr').count(), report.alerts.length);
    // The chart is drawn: one bar or more per rule with events.
    assert.ok(await page.locator('svg.chart rect').count() > 0, 'the chart has bars');
    const box = await page.locator('svg.chart').boundingBox();
    assert.ok(box !== null && box.width > 300 && box.height > 100, `the chart is visible (${JSON.stringify(box)})`);

    assert.deepEqual(requests, [pathToFileURL(html).href], 'the report fetches nothing but itself');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('sorts the incidents table by count and filters it by a typed rule name', async () => {
    const { html, report } = await scanSamples();
    const { page, context, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(html).href);

    const counts = report.alerts.map((a) => a.count);
    await page.click('#inc th[data-col="5"]');
    assert.deepEqual((await cellTexts(page, 5)).map(Number), [...counts].sort((a, b) => a - b), 'ascending after one click');
    await page.click('#inc th[data-col="5"]');
    assert.deepEqual((await cellTexts(page, 5)).map(Number), [...counts].sort((a, b) => b - a), 'descending after two');

    await page.fill('#filter', 'web_scan');
    const webScans = report.alerts.filter((a) => a.rule === 'web_scan').length;
    assert.ok(webScans > 0);
    assert.equal((await cellTexts(page, 3)).length, webScans);
    assert.ok((await cellTexts(page, 3)).every((r) => r === 'web_scan'));
    assert.equal(Number(await page.textContent('#shown')), webScans);
    await page.fill('#filter', '');
    assert.equal((await cellTexts(page, 3)).length, report.alerts.length);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('shows a crafted user name as text: no element is created from it and no script runs', async () => {
    const dir = tempDir('logward-html-');
    const log = path.join(dir, 'auth.log');
    const evil = '<img src=x onerror="document.title=\'pwned\'">';
    const lines = [];
    for (let i = 0; i < 6; i++) lines.push(`Oct 14 12:00:0${i} h sshd[7${i}]: Failed password for invalid user ${evil} from 198.51.100.7 port 5${i} ssh2`);
    fs.writeFileSync(log, `${lines.join('\n')}\n`);
    const r = await runCli(['scan', log, '--out', path.join(dir, 'out'), '--format', 'html', '--year', '2025', '--timezone', 'UTC', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const html = JSON.parse(r.stdout).report_files.find((f) => f.endsWith('.html'));
    const { page, context, problems } = await watchedPage(browser);
    await page.goto(pathToFileURL(html).href);
    assert.equal(await page.locator('img').count(), 0);
    assert.notEqual(await page.title(), 'pwned');
    assert.ok((await page.textContent('#inc')).includes(evil), 'the name is shown as the text it was');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
