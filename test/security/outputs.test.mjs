// Hostile log text through every output. Crafted lines put control characters (CR, NUL,
// ESC, vertical tab, NEL, line and paragraph separators), bidi overrides, spreadsheet
// formula prefixes and HTML into user names, URLs, referers, user agents, host names and
// the client field, then scan, run, digest and mail write what they write. Every output
// must keep its shape: one line per event in text and JSON Lines, JSON that parses, CSV
// cells that a spreadsheet shows as text, HTML where the input never becomes markup, and
// no terminal or bidi control character anywhere a person reads.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { ROOT, allFiles, runCli, tempDir } from '../helpers/cli.mjs';

// Characters that must never reach a person's screen raw: C0 but tab and newline, DEL,
// C1 (NEL, CSI ...), line/paragraph separators, and the bidi embeddings, overrides and
// isolates that reorder what is displayed.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// In JSON the C0 characters are escaped by the format; the others must be escaped too, so
// that a line splitter (Python's splitlines, a terminal) sees one record per line.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const HOSTILE = [
  '=cmd|" /C calc"!A0',
  '+1+1',
  '-2+3',
  '@SUM(1+1)',
  '\t=1+1',
  '\r=1+1',
  ' =1+1',
  '<script>alert(1)</script>',
  '"\'><img src=x onerror=alert(1)>',
  '\u001b[31mRED\u001b[0m\u001b]0;title\u0007',
  'nul\u0000byte',
  'evil\u202eexe.txt',
  'line\u2028sep\u2029para',
  'next\u0085line',
  'cr\rOct 14 12:00:00 host1 sshd[1]: Failed password for root from 6.6.6.6 port 22 ssh2',
  'vt\u000bff\u000c',
];

/** CSV (RFC 4180, every cell quoted or not) -> rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      cell += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(cell); cell = ''; i++; continue; }
    if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      row.push(cell); rows.push(row); row = []; cell = '';
      i += c === '\r' ? 2 : 1;
      continue;
    }
    cell += c; i++;
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

/** A cell a spreadsheet would evaluate: it starts (after blanks) with = + - @, or with TAB or CR. */
function formulaLike(cell) {
  return /^[\t\r]/.test(cell) || /^\s*[=+\-@]/.test(cell);
}

/** The files below dir, none when it was never created. */
const filesIn = (dir) => (fs.existsSync(dir) ? allFiles(dir) : []);

function assertNoRawControl(text, where) {
  const m = RAW_CONTROL.exec(text);
  assert.equal(m, null, `${where}: raw U+${m?.[0].codePointAt(0).toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 40))}`);
}

function assertJsonLines(text, where) {
  assert.equal(RAW_IN_JSON.exec(text), null, `${where}: a raw separator, C1 or bidi character in JSON`);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', `${where}: ends with a newline`);
  // Every splitter agrees on the records: no CR, VT, FF, NEL, LS or PS inside one.
  assert.equal(text.split(/\r\n|[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/).length - 1, lines.length, `${where}: a record spans lines`);
  return lines.map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (err) {
      assert.fail(`${where}:${i + 1} is not JSON (${err.message}): ${l.slice(0, 200)}`);
    }
  });
}

/** Every log-derived string that contains markup must not reach the HTML as markup. */
function assertHtmlEscaped(html, where) {
  assertNoRawControl(html, where);
  for (const h of HOSTILE.filter((s) => /[<>"]/.test(s))) {
    for (const piece of h.match(/<[^>]*>?/g) ?? []) if (!/^<\/?script>$/.test(piece)) assert.ok(!html.includes(piece), `${where}: raw ${piece}`);
  }
  assert.doesNotMatch(html, /<img|<[a-z][^>]*\sonerror=|<script>alert|<i>x<\/i>|<b>(?:\\x1b|\u001b)/i, `${where}: markup from the log`);
  // The report's own sorting script is the only one.
  assert.ok((html.match(/<script/gi) ?? []).length <= 1, `${where}: a <script> from the log`);
}

const pad2 = (n) => String(n).padStart(2, '0');
const escQuote = (s) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Access-log lines: every hostile string as user, path, referer and agent, twice from its
 * own client, as 401s, so that each one is in the alert that opens (mail, webhook, stream).
 */
function accessLog() {
  const lines = [];
  HOSTILE.forEach((h, n) => {
    const user = h.replace(/ \[/g, ' (').replace(/^\s*$/, 'x').replace(/ /g, '_');
    for (let k = 0; k < 2; k++) {
      const t = `14/Oct/2025:12:${pad2(30 + k)}:${pad2(n)} +0000`;
      lines.push(`203.0.113.${10 + n} - ${user} [${t}] "GET /${escQuote(h)} HTTP/1.1" 401 12 "${escQuote(h)}" "${escQuote(h)}"`);
    }
  });
  // A client field that is not an address at all (a proxy's header, a broken format).
  for (let n = 0; n < 3; n++) lines.push(`=HYPERLINK("http://evil.example/?x")<b>\u001b[2J - - [14/Oct/2025:12:33:${pad2(n)} +0000] "GET /admin HTTP/1.1" 403 12 "-" "-"`);
  return `${lines.join('\n')}\n`;
}

/** dropbear quotes the user name: anything but a quote stands in it, so every hostile string does. */
function authLog() {
  const lines = [];
  HOSTILE.forEach((h, n) => {
    const user = h.replace(/'/g, '');
    for (let k = 0; k < 2; k++) {
      lines.push(`Oct 14 12:${pad2(k)}:${pad2(n)} =1+2<i>x</i> dropbear[${100 + n}]: Bad password attempt for '${user}' from 198.51.100.${10 + n}:${40000 + n}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

function config(dir, extra = []) {
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    '  overrides:',
    ...['failed_logins', 'ssh_bruteforce', 'web_unauthorized', 'web_auth_failures', 'web_scan'].map((r) => `    ${r}: { threshold: 2, window_secs: 3600 }`),
    'input:',
    '  timezone: UTC',
    '  year: 2025',
    'sources:',
    `  - { path: ${path.join(dir, 'logs', 'auth.log')}, start_at: beginning }`,
    `  - { path: ${path.join(dir, 'logs', 'access.log')}, start_at: beginning }`,
    'state:',
    `  dir: ${path.join(dir, 'state')}`,
    'reports:',
    `  dir: ${path.join(dir, 'reports')}`,
    '  formats: [json, csv, html]',
    'enrich:',
    '  enabled: false',
    'mail:',
    '  alert_min_severity: low',
    'run:',
    '  poll_secs: 0.2',
    '  checkpoint_secs: 0.1',
    ...extra,
    '',
  ].join('\n'));
  return file;
}

function setup(extra) {
  const dir = tempDir('logward-outputs-');
  fs.mkdirSync(path.join(dir, 'logs'));
  fs.writeFileSync(path.join(dir, 'logs', 'auth.log'), authLog());
  fs.writeFileSync(path.join(dir, 'logs', 'access.log'), accessLog());
  return { dir, cfg: config(dir, extra) };
}

const NO_SMTP = { SMTP_HOST: '', SMTP_USER: '', SMTP_PASS: '', SMTP_TO: 'ops@example.com' };

async function checkCsvFile(file) {
  const text = fs.readFileSync(file, 'utf8');
  const rows = parseCsv(text);
  const width = rows[0].length;
  for (const [r, row] of rows.entries()) {
    assert.equal(row.length, width, `${path.basename(file)} row ${r + 1} has ${row.length} cells, not ${width}`);
    for (const cell of row) {
      assert.ok(!formulaLike(cell), `${path.basename(file)} row ${r + 1}: formula-like cell ${JSON.stringify(cell)}`);
      assertNoRawControl(cell, `${path.basename(file)} row ${r + 1}`);
    }
  }
  return rows;
}

async function checkEml(file) {
  const raw = fs.readFileSync(file);
  // Headers: one logical line each; a crafted name cannot add a header or end them early.
  const head = raw.toString('latin1').split(/\r?\n\r?\n/)[0];
  for (const line of head.split(/\r?\n/)) {
    assert.ok(/^[\x21-\x7e]+:|^[ \t]/.test(line) && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(line), `${path.basename(file)}: header line ${JSON.stringify(line)}`);
  }
  const mail = await simpleParser(raw);
  assertNoRawControl(mail.subject ?? '', `${path.basename(file)} subject`);
  assert.ok(!/[\r\n]/.test(mail.subject ?? ''), 'the subject is one line');
  assertNoRawControl((mail.text ?? '').replace(/\t/g, ' '), `${path.basename(file)} text`);
  if (mail.html) assertHtmlEscaped(mail.html, `${path.basename(file)} html`);
  for (const a of mail.attachments ?? []) {
    if (a.filename?.endsWith('.csv')) {
      const p = path.join(path.dirname(file), `.${a.filename}`);
      fs.writeFileSync(p, a.content);
      await checkCsvFile(p);
      fs.rmSync(p);
    }
  }
  return mail;
}

describe('hostile log text through scan', () => {
  let s;
  let r;
  before(async () => {
    s = setup();
    r = await runCli(['scan', '--config', s.cfg, '--out', path.join(s.dir, 'reports'), '--events', path.join(s.dir, 'events.jsonl'), '--email', '--state-dir', path.join(s.dir, 'state'),
      path.join(s.dir, 'logs', 'auth.log'), path.join(s.dir, 'logs', 'access.log')], { cwd: s.dir, env: NO_SMTP });
  });

  test('finds the crafted attacks, so every output below has hostile text in it', () => {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /web_auth_failures/);
    assert.match(r.stdout, /failed_logins/);
  });

  test('prints no terminal or bidi control character on the console', () => {
    assertNoRawControl(r.stdout, 'stdout');
    assertNoRawControl(r.stderr, 'stderr');
  });

  test('writes one JSON object per line in the events file, one per event', () => {
    const evs = assertJsonLines(fs.readFileSync(path.join(s.dir, 'events.jsonl'), 'utf8'), 'events.jsonl');
    assert.ok(evs.length >= HOSTILE.length * 2);
    // Events hold the text as the rules saw it: controls as visible escapes (core/visible.ts).
    assert.equal(HOSTILE[9], '\u001b[31mRED\u001b[0m\u001b]0;title\u0007');
    assert.ok(evs.some((e) => e.user === '\\x1b[31mRED\\x1b[0m\\x1b]0;title\\x07'), 'the data itself is kept exactly, in its visible form');
  });

  test('writes a JSON report that parses and keeps the text exactly, in its visible form', () => {
    const [json] = filesIn(path.join(s.dir, 'reports')).filter((f) => f.endsWith('.json'));
    const text = fs.readFileSync(json, 'utf8');
    assert.equal(RAW_IN_JSON.exec(text), null, 'no raw separator, C1 or bidi character in the report');
    const doc = JSON.parse(text);
    assert.ok(doc.alerts.some((a) => a.users.includes('evil\\u202eexe.txt')));
  });

  test('neutralises every CSV cell that a spreadsheet would run as a formula and escapes control characters', async () => {
    const csvs = filesIn(path.join(s.dir, 'reports')).filter((f) => f.endsWith('.csv'));
    assert.equal(csvs.length, 2);
    for (const f of csvs) {
      const rows = await checkCsvFile(f);
      assert.ok(rows.length > 3);
    }
    const events = parseCsv(fs.readFileSync(csvs.find((f) => f.endsWith('_events.csv')), 'utf8'));
    const userCol = events[0].indexOf('user');
    assert.ok(events.some((row) => row[userCol] === "'=cmd|\" /C calc\"!A0"), 'a formula is kept as text behind a quote');
    assert.ok(events.some((row) => row[userCol] === "' =1+1"), 'blanks before a formula do not hide it');
  });

  test('escapes every log-derived text in the HTML report', () => {
    const [html] = filesIn(path.join(s.dir, 'reports')).filter((f) => f.endsWith('.html'));
    const text = fs.readFileSync(html, 'utf8');
    assertHtmlEscaped(text, 'report.html');
    assert.match(text, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  });

  test('mails a summary whose headers, text, HTML and attachment carry no raw hostile text', async () => {
    const emls = filesIn(path.join(s.dir, 'reports', 'outbox')).filter((f) => f.endsWith('.eml'));
    assert.equal(emls.length, 1, r.stdout + r.stderr);
    const mail = await checkEml(emls[0]);
    assert.match(mail.text, /web_auth_failures/);
  });

  test('prints a --json summary that parses on one line', async () => {
    const j = await runCli(['scan', '--config', s.cfg, '--out', path.join(s.dir, 'reports-json'), '--json', path.join(s.dir, 'logs', 'auth.log'), path.join(s.dir, 'logs', 'access.log')], { cwd: s.dir, env: NO_SMTP });
    assert.equal(j.code, 0, j.stderr);
    const [doc] = assertJsonLines(j.stdout, '--json stdout');
    assert.ok(doc.alerts.length > 0);
  });
});

describe('hostile log text through run, its alerts and the digest', () => {
  let s;
  let r;
  const posts = [];
  let server;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { posts.push(body); res.end('ok'); });
    });
    await new Promise((res) => server.listen(0, '127.0.0.1', res));
    s = setup(['webhook:', `  url: http://127.0.0.1:${server.address().port}/hook`, '  min_severity: info']);
    r = await runCli(['run', '--config', s.cfg, '--events', path.join(s.dir, 'events.jsonl'), '--once'], { cwd: s.dir, env: { ...NO_SMTP, LOGWARD_LOG_LEVEL: 'info' } });
  });
  after(() => server?.close());

  test('runs once over the crafted logs and alerts', () => {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /ALERT web_auth_failures/);
  });

  test('logs JSON lines that each parse, whatever the alerted text holds', () => {
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const l of lines) JSON.parse(l);
  });

  // pino alone writes U+2028, U+2029, C1 and bidi characters raw: valid JSON, but a
  // splitter that honours them (Python's splitlines) or a terminal sees more than one record.
  test('logs no raw separator, C1 or bidi character', () => {
    assertJsonLines(r.stdout, 'run stdout');
  });

  test('keeps the alert stream, incident journal and events file one valid JSON object per line', () => {
    for (const f of [path.join(s.dir, 'reports', 'alerts.jsonl'), path.join(s.dir, 'state', 'incidents.jsonl'), path.join(s.dir, 'events.jsonl')]) {
      const recs = assertJsonLines(fs.readFileSync(f, 'utf8'), path.basename(f));
      assert.ok(recs.length > 0, f);
    }
  });

  test('writes reports that parse, neutralise formulas and escape HTML', async () => {
    const files = filesIn(path.join(s.dir, 'reports')).filter((f) => /report_/.test(f));
    assert.ok(files.some((f) => f.endsWith('.json')) && files.some((f) => f.endsWith('.html')), files.join('\n'));
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      if (f.endsWith('.json')) { assert.equal(RAW_IN_JSON.exec(text), null, f); JSON.parse(text); }
      if (f.endsWith('.csv')) await checkCsvFile(f);
      if (f.endsWith('.html')) assertHtmlEscaped(text, f);
    }
  });

  test('mails alerts whose headers, text and HTML carry no raw hostile text', async () => {
    const emls = filesIn(path.join(s.dir, 'reports', 'outbox')).filter((f) => f.endsWith('.eml'));
    assert.ok(emls.length >= 2, `alert mails: ${emls.length}`);
    for (const f of emls) await checkEml(f);
  });

  test('posts webhook bodies that are valid JSON carrying the hostile text exactly, in its visible form', async () => {
    for (let i = 0; i < 50 && posts.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(posts.length > 0, 'the webhook was called');
    const users = posts.flatMap((p) => JSON.parse(p).users ?? []);
    assert.ok(users.includes('line\\u2028sep\\u2029para'));
  });

  test('posts webhook bodies without raw separators, C1 or bidi characters', () => {
    for (const p of posts) assert.equal(RAW_IN_JSON.exec(p), null, 'a raw separator, C1 or bidi character in the webhook body');
  });

  test('writes a digest, printed and mailed, without raw hostile text', async () => {
    const dry = await runCli(['digest', '--config', s.cfg, '--hours', '48'], { cwd: s.dir, env: NO_SMTP });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /web_auth_failures/);
    assertNoRawControl(dry.stdout, 'digest --dry-run');
    const before = new Set(filesIn(path.join(s.dir, 'reports', 'outbox')));
    const sent = await runCli(['digest', '--config', s.cfg, '--hours', '48', '--send'], { cwd: s.dir, env: NO_SMTP });
    assert.equal(sent.code, 0, sent.stderr);
    const emls = filesIn(path.join(s.dir, 'reports', 'outbox')).filter((f) => f.endsWith('.eml') && !before.has(f));
    assert.equal(emls.length, 1);
    await checkEml(emls[0]);
  });
});
