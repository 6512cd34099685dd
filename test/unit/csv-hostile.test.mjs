import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neutralizeCell, toCsv } from '../../dist/sinks/csv.js';

/** RFC 4180 reader: enough to prove a row cannot be split or forged. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += c;
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

test('neutralises cells a spreadsheet would run as formulas', () => {
  for (const s of ['=cmd|" /C calc"!A0', '+1+1', '-2+3', '@SUM(A1)', '\tx', ' =1']) assert.equal(neutralizeCell(s), `'${s}`);
  assert.equal(neutralizeCell('\rx'), "'\\x0dx");
  for (const s of ['root', '192.0.2.1', 'a=b', '']) assert.equal(neutralizeCell(s), s);
  assert.equal(neutralizeCell(null), '');
  assert.equal(neutralizeCell(42), '42');
});

test('quotes every cell so commas, quotes, CR and LF stay inside their cell', () => {
  const hostile = ['a,b', 'say "hi"', 'line1\nline2', 'bare\rcr', '=HYPERLINK("http://x")', 'x", "injected'];
  const csv = toCsv(['v', 'n'], hostile.map((v, n) => ({ v, n })));
  const rows = parseCsv(csv);
  assert.equal(rows.length, hostile.length + 1);
  assert.deepEqual(rows[0], ['v', 'n']);
  hostile.forEach((v, i) => {
    assert.equal(rows[i + 1].length, 2);
    assert.equal(rows[i + 1][0], neutralizeCell(v));
    assert.equal(rows[i + 1][1], String(i));
  });
});

test('writes the JSON report piece by piece with exactly the text of one JSON.stringify', async () => {
  const { ReportCollector } = await import('../../dist/sinks/collector.js');
  const { buildReportJson, writeReportJson } = await import('../../dist/sinks/report.js');
  const c = new ReportCollector(10);
  for (let i = 0; i < 3; i++) c.event({ rule: 'r', matcher: 'm', source: 'f', line: i + 1, time: i * 1000, ip: `192.0.2.${i}`, user: 'u"\n', host: 'h', program: 'p', text: 't' });
  for (const id of ['a', 'b']) {
    c.opened({ id, rule: 'r', severity: 'high', key: '192.0.2.1', keyField: 'ip', first: 0, last: 1000, firedAt: 1000, count: 2, ips: ['192.0.2.1'], users: ['x\ny'], hosts: [], truncated: false, samples: [{ source: 'f', line: 1, time: 0, text: 'line "1"\n' }], windowMs: 1000, threshold: 2 });
  }
  c.sources.push({ file: 'f', stats: { lines: 3, blank: 0, parsed: 3, unparsed: 0, events: 3, format: 'syslog', firstTime: 0, lastTime: 2000 }, cut: 0 });
  const meta = { version: '0', command: 'scan', generatedMs: 0, timeZone: 'UTC', rules: [] };
  let streamed = '';
  writeReportJson(c, meta, (p) => { streamed += p; });
  assert.equal(streamed, `${JSON.stringify(buildReportJson(c, meta), null, 2)}\n`);
  assert.equal(JSON.parse(streamed).alerts.length, 2);
});
