// The self-contained HTML report, as `scan --format html` writes it. (Its rendering in a
// real browser is checked by the browser tests.)

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../helpers/cli.mjs';

describe('the HTML report', () => {
  test('is one self-contained file with the same numbers as the JSON report and every log text escaped', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'auth.log');
    const evil = '<script>alert(1)</script>';
    const lines = [];
    for (let i = 0; i < 6; i++) lines.push(`Oct 14 12:0${i}:00 h sshd[7${i}]: Failed password for invalid user ${evil} from 198.51.100.${i % 2} port 5${i} ssh2`);
    for (let i = 0; i < 5; i++) lines.push(`Oct 14 13:00:0${i} h sshd[8${i}]: Failed password for root from 8.8.8.8 port 6${i} ssh2`);
    fs.writeFileSync(log, `${lines.join('\n')}\n`);
    const out = path.join(dir, 'out');
    const r = await runCli(['scan', log, '--out', out, '--format', 'html', 'json', '--year', '2025', '--timezone', 'UTC', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    const htmlFile = summary.report_files.find((f) => f.endsWith('.html'));
    assert.ok(htmlFile, summary.report_files.join(','));
    const html = fs.readFileSync(htmlFile, 'utf8');
    const report = JSON.parse(fs.readFileSync(summary.report_files.find((f) => f.endsWith('.json')), 'utf8'));
    // Self-contained: nothing to fetch.
    assert.doesNotMatch(html, /\s(src|href)\s*=/i);
    assert.doesNotMatch(html, /@import|url\(/i);
    assert.equal((html.match(/<script>/g) ?? []).length, 1, 'only the report\'s own script');
    // Escaped: the crafted user name is text, never markup.
    assert.ok(!html.includes(evil));
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    // The same numbers as the JSON report.
    assert.match(html, new RegExp(`data-metric="incidents">${report.alerts.length}<`));
    assert.match(html, new RegExp(`data-metric="events">${report.events_summary.total}<`));
    const perRule = {};
    for (const a of report.alerts) perRule[a.rule] = (perRule[a.rule] ?? 0) + 1;
    for (const [rule, n] of Object.entries(perRule)) assert.match(html, new RegExp(`data-rule="${rule}">${n}<`));
    // The chart has bars, and the top offender carries its origin.
    assert.ok((html.match(/<rect /g) ?? []).length >= 2);
    assert.match(html, /<td>8\.8\.8\.8<\/td><td>US \(AS15169 Google LLC\)<\/td>/, 'a country centroid: the country alone');
    assert.match(html, /<input id="filter"/);
    assert.match(html, /GeoLite2 data created by MaxMind/);
  });

  test('can be chosen in reports.formats for the daemon and scan alike', async () => {
    const dir = tempDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, 'reports:\n  formats: [html]\n');
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
    const bad = await runCli(['scan', '--format', 'pdf', '--out', dir]);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /use json, csv, html or several/);
  });
});
