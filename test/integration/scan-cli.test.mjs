import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { runCli, tempDir, SEED } from '../helpers/cli.mjs';

const PROTOTYPE_FLAGS = ['--format', 'json', 'csv', '--rules', 'failed_logins', 'errors', 'sudo_failures', 'web_unauthorized', '--window', '300', '--threshold', '3', '--year', '2025', '--timezone', 'UTC'];

function reportsIn(dir) {
  return fs.readdirSync(dir).sort();
}

describe('logward scan on the prototype sample', () => {
  test('prints exactly the two alerts the prototype promised, with their IPs and origins', async () => {
    const out = tempDir();
    const r = await runCli(['scan', '--log', SEED, '--out', out, ...PROTOTYPE_FLAGS]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^\[\+\] Wrote reports to base: .*report_\d{8}_\d{6}$/);
    const alerts = lines.slice(lines.indexOf('[!] ALERTS:'));
    assert.deepEqual(alerts, [
      '[!] ALERTS:',
      '  - failed_logins at 2025-10-14T12:01:10 (count=4)',
      // The sample's addresses are from the documentation ranges: labelled, never looked up.
      '      192.0.2.45: documentation address',
      '      203.0.113.10: documentation address',
      '      198.51.100.33: documentation address',
      '  - errors at 2025-10-14T12:03:45 (count=3)',
    ]);
  });

  test('gives the same two alerts with every builtin rule enabled', async () => {
    const out = tempDir();
    const r = await runCli(['scan', SEED, '--out', out, '--window', '300', '--threshold', '3', '--year', '2025', '--timezone', 'UTC', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.alerts.map((a) => [a.rule, a.first, a.count]), [
      ['failed_logins', '2025-10-14T12:01:10Z', 4],
      ['errors', '2025-10-14T12:03:45Z', 3],
    ]);
    assert.deepEqual(s.alerts[0].ips, ['192.0.2.45', '203.0.113.10', '198.51.100.33']);
    assert.deepEqual(s.alerts[0].users, ['admin', 'root', 'guest']);
    assert.equal(s.lines_read, 9);
    assert.equal(s.lines_not_parsed, 0);
  });

  test('writes the JSON report and both CSV files under one base name', async () => {
    const out = tempDir();
    const r = await runCli(['scan', '--log', SEED, '--out', out, ...PROTOTYPE_FLAGS]);
    assert.equal(r.code, 0, r.stderr);
    const files = reportsIn(out);
    assert.equal(files.length, 3, files.join(', '));
    const base = files.find((f) => f.endsWith('.json')).slice(0, -5);
    assert.match(base, /^report_\d{8}_\d{6}(_\d+)?$/);
    assert.deepEqual(files, [`${base}.json`, `${base}_alerts.csv`, `${base}_events.csv`]);
    const report = JSON.parse(fs.readFileSync(path.join(out, `${base}.json`), 'utf8'));
    assert.equal(report.meta.lines_read, 9);
    assert.equal(report.meta.lines_not_parsed, 0);
    assert.equal(report.meta.files[0].file, SEED);
    assert.deepEqual(report.meta.rules.map((x) => x.name).sort(), ['errors', 'failed_logins', 'sudo_failures', 'web_unauthorized']);
    assert.ok(report.meta.rules.every((x) => x.window_secs === 300 && x.threshold === 3));
    assert.deepEqual(report.meta.time_range, { first: '2025-10-14T12:01:10Z', last: '2025-10-14T12:05:15Z' });
    assert.equal(report.alerts.length, 2);
    assert.equal(report.events_summary.by_rule.failed_logins.events, 4);
    assert.equal(report.events.length, 7);
    const alertsCsv = fs.readFileSync(path.join(out, `${base}_alerts.csv`), 'utf8').trim().split('\n');
    assert.equal(alertsCsv.length, 3);
    assert.match(alertsCsv[0], /^"id","rule","severity","time"/);
    const eventsCsv = fs.readFileSync(path.join(out, `${base}_events.csv`), 'utf8').trim().split('\n');
    assert.equal(eventsCsv.length, 8);
  });

  test('two scans never overwrite each other\'s reports', async () => {
    const out = tempDir();
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['scan', SEED, '--out', out, '--format', 'json', '--quiet', '--year', '2025'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(reportsIn(out).filter((f) => f.endsWith('.json')).length, 3);
  });
});

describe('logward scan inputs', () => {
  test('reads stdin given as - and gzip files, naming each input as given', async () => {
    const dir = tempDir();
    const gz = path.join(dir, 'auth.log.1.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(SEED)));
    const events = path.join(dir, 'events.jsonl');
    const r = await runCli(['scan', '-', gz, '--out', dir, '--year', '2025', '--timezone', 'UTC', '--events', events, '--json', '--rules', 'failed_logins'], { input: fs.readFileSync(SEED) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.files.map((f) => [f.file, f.lines]).sort(), [['-', 9], [gz, 9]].sort());
    const rows = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 8);
    assert.deepEqual(Object.keys(rows[0]), ['rule', 'file', 'line', 'time', 'ip', 'user', 'host', 'program']);
    const fromGz = rows.filter((e) => e.file === gz);
    assert.deepEqual(fromGz.map((e) => e.line), [1, 2, 3, 5]);
    assert.deepEqual(fromGz[0], { rule: 'failed_logins', file: gz, line: 1, time: '2025-10-14T12:01:10Z', ip: '192.0.2.45', user: 'admin', host: 'host1', program: 'sshd' });
  });

  test('infers the year from the file modification time across New Year', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'auth.log');
    fs.writeFileSync(log, [
      'Dec 31 23:59:58 h sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2',
      'Jan  1 00:00:01 h sshd[1]: Failed password for root from 203.0.113.9 port 2 ssh2',
      '',
    ].join('\n'));
    fs.utimesSync(log, new Date('2026-01-01T00:05:00Z'), new Date('2026-01-01T00:05:00Z'));
    const events = path.join(dir, 'e.jsonl');
    const r = await runCli(['scan', log, '--out', dir, '--timezone', 'UTC', '--events', events, '--rules', 'failed_logins', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const times = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l).time);
    assert.deepEqual(times, ['2025-12-31T23:59:58Z', '2026-01-01T00:00:01Z']);
  });

  test('reads stamps without offset in the given time zone', async () => {
    const dir = tempDir();
    const events = path.join(dir, 'e.jsonl');
    const r = await runCli(['scan', SEED, '--out', dir, '--year', '2025', '--timezone', 'Europe/Berlin', '--events', events, '--rules', 'errors', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const first = JSON.parse(fs.readFileSync(events, 'utf8').split('\n')[0]);
    assert.equal(first.time, '2025-10-14T10:03:45Z'); // CEST is UTC+2
  });

  test('reads files oldest first whatever the order on the command line', async () => {
    const dir = tempDir();
    const older = path.join(dir, 'auth.log.1');
    const newer = path.join(dir, 'auth.log');
    const line = (t, port) => `Oct 14 ${t} h sshd[1]: Failed password for root from 203.0.113.9 port ${port} ssh2`;
    fs.writeFileSync(older, `${line('10:00:00', 1)}\n${line('10:00:10', 2)}\n`);
    fs.writeFileSync(newer, `${line('10:00:20', 3)}\n`);
    const r = await runCli(['scan', newer, older, '--out', dir, '--year', '2025', '--timezone', 'UTC', '--threshold', '3', '--rules', 'ssh_bruteforce', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.files.map((f) => f.file), [older, newer]);
    assert.equal(s.alerts.length, 1);
    assert.equal(s.alerts[0].count, 3);
    assert.equal(s.alerts[0].key, '203.0.113.9');
  });

  test('reads rotated files of the same modification time by rotation number, highest first', async () => {
    const dir = tempDir();
    const line = (t, port) => `Oct 14 ${t} h sshd[1]: Failed password for root from 203.0.113.9 port ${port} ssh2`;
    const names = { 'auth.log': ['10:00:20', 3], 'auth.log.1': ['10:00:10', 2], 'auth.log.2.gz': ['10:00:00', 1] };
    const same = new Date('2026-01-01T00:00:00Z');
    for (const [name, [t, port]] of Object.entries(names)) {
      const file = path.join(dir, name);
      const text = `${line(t, port)}\n`;
      fs.writeFileSync(file, name.endsWith('.gz') ? zlib.gzipSync(text) : text);
      fs.utimesSync(file, same, same);
    }
    const files = ['auth.log', 'auth.log.2.gz', 'auth.log.1'].map((n) => path.join(dir, n));
    const r = await runCli(['scan', ...files, '--out', dir, '--year', '2025', '--timezone', 'UTC', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).files.map((f) => path.basename(f.file)), ['auth.log.2.gz', 'auth.log.1', 'auth.log']);
  });

  test('counts and skips malformed lines without failing', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'mixed.log');
    fs.writeFileSync(log, `${fs.readFileSync(SEED, 'utf8')}garbage line\n\u0000\u0001binary\nOct 99 99:99:99 broken stamp\n`);
    const r = await runCli(['scan', log, '--out', dir, '--year', '2025', '--timezone', 'UTC', '--window', '300', '--threshold', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.lines_read, 12);
    assert.equal(s.lines_not_parsed, 3);
    assert.equal(s.alerts.length, 2);
  });
});

describe('logward scan errors', () => {
  test('exits 74 naming a file that cannot be read', async () => {
    const r = await runCli(['scan', '/nonexistent/auth.log', '--out', tempDir()]);
    assert.equal(r.code, 74);
    assert.match(r.stderr, /^logward: cannot read an input: \/nonexistent\/auth\.log: ENOENT: no such file or directory; check the path/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('exits 74 on a corrupt gzip file and writes no report', async () => {
    const dir = tempDir();
    const gz = path.join(dir, 'bad.gz');
    fs.writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from('not really gzip data at all')]));
    const out = path.join(dir, 'out');
    const r = await runCli(['scan', gz, '--out', out]);
    assert.equal(r.code, 74);
    assert.match(r.stderr, /bad\.gz is not a valid gzip file/);
    assert.equal(fs.existsSync(out), false);
  });

  test('exits 64 on usage errors with one line saying what to do', async () => {
    for (const args of [['scan', '--bogus'], ['scan', SEED, '--format', 'xml'], ['scan', SEED, '--window', 'abc'], ['scan', SEED, '--rules', 'nope'], ['frobnicate']]) {
      const r = await runCli(args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^logward: .+/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('exits 73 when the report directory cannot be written', async () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, 'x');
    const r = await runCli(['scan', SEED, '--out', path.join(blocker, 'reports'), '--year', '2025']);
    assert.equal(r.code, 73);
    assert.match(r.stderr, /cannot write reports to .*file\/reports/);
  });

  test('prints the version and help', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^logward \d+\.\d+\.\d+\n$/);
    const h = await runCli(['scan', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--threshold N/);
  });

  test('shows where a public attacker comes from in the console, the JSON and CSV reports, with the data attribution', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'auth.log');
    fs.writeFileSync(log, Array.from({ length: 5 }, (_, i) => `Oct 14 12:00:0${i} h sshd[9${i}]: Failed password for root from 8.8.8.8 port 4${i} ssh2\n`).join(''));
    const out = path.join(dir, 'out');
    const r = await runCli(['scan', log, '--out', out, '--rules', 'ssh_bruteforce', '--year', '2025', '--timezone', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    // GeoLite2 places 8.8.8.8 only at the US centroid: the country alone, not the city of its time zone.
    assert.match(r.stdout, /^ {6}8\.8\.8\.8: US \(AS15169 Google LLC\)$/m);
    const base = fs.readdirSync(out).find((f) => f.endsWith('.json')).replace('.json', '');
    const report = JSON.parse(fs.readFileSync(path.join(out, `${base}.json`), 'utf8'));
    assert.match(report.alerts[0].origins['8.8.8.8'], /^US \(AS15169 Google LLC\)$/);
    assert.match(report.meta.attribution, /GeoLite2 data created by MaxMind/);
    const csv = fs.readFileSync(path.join(out, `${base}_alerts.csv`), 'utf8');
    assert.match(csv.split('\n')[0], /"origins"$/);
    assert.match(csv, /"8\.8\.8\.8 US \(AS15169 Google LLC\)"/);
  });
});
