import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { neutralizeCell, toCsv } from '../../dist/sinks/csv.js';
import { writeFileAtomic, publishFilesExclusive } from '../../dist/util/atomic-write.js';

/** RFC 4180 reader: quoted fields with "" escapes; rows end at LF or CRLF outside quotes. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' ? 2 : 1;
    } else if (c === '\r') {
      throw new Error(`bare CR outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe('neutralizeCell', () => {
  test('prefixes a quote to cells starting with = + - @ (after blanks), TAB or CR', () => {
    for (const s of ['=SUM(A1:A9)', '+1', '-2', '@cmd', '\tx', '=', '-', ' =1', '  @x']) {
      assert.equal(neutralizeCell(s), `'${s}`, JSON.stringify(s));
    }
    assert.equal(neutralizeCell('\rx'), "'\\x0dx");
  });

  test('leaves other cells alone, including those with a formula character later', () => {
    for (const s of ['', 'root', '192.0.2.1', 'a=b', "'quoted", 'a\tb']) {
      assert.equal(neutralizeCell(s), s, JSON.stringify(s));
    }
  });

  test('writes control and bidi characters as escapes that no viewer interprets', () => {
    assert.equal(neutralizeCell('x\r'), 'x\\x0d');
    assert.equal(neutralizeCell('\nnew'), '\\x0anew');
    assert.equal(neutralizeCell('\u001b[31mred'), '\\x1b[31mred');
    assert.equal(neutralizeCell('evil\u202etxt.exe'), 'evil\\u202etxt.exe');
    assert.equal(neutralizeCell('a\u2028b\u0085c\u0000'), 'a\\u2028b\\x85c\\x00');
  });

  test('turns null and undefined into an empty cell and stringifies other values', () => {
    assert.equal(neutralizeCell(null), '');
    assert.equal(neutralizeCell(undefined), '');
    assert.equal(neutralizeCell(42), '42');
    assert.equal(neutralizeCell(-5), "'-5");
    assert.equal(neutralizeCell(true), 'true');
  });
});

describe('toCsv', () => {
  const COLS = ['id', 'text', 'n'];

  test('quotes every cell, header included', () => {
    const out = toCsv(COLS, [{ id: 'a', text: 'b', n: 1 }]);
    const lines = out.split('\n').filter((l) => l !== '');
    assert.deepEqual(lines, ['"id","text","n"', '"a","b","1"']);
  });

  test('round-trips hostile cells: bare CR, LF, CRLF, commas and quotes cannot break a row', () => {
    const hostile = ['a\rb', 'a\nb', 'a\r\nb', 'x,y,z', 'say "hi"', '"', '""', ',', '\r', 'end"', 'ü😀', ''];
    const rows = hostile.map((text, i) => ({ id: `r${i}`, text, n: i }));
    const parsed = parseCsv(toCsv(COLS, rows));
    assert.equal(parsed.length, rows.length + 1);
    assert.deepEqual(parsed[0], COLS);
    for (let i = 0; i < rows.length; i++) assert.deepEqual(parsed[i + 1], [`r${i}`, neutralizeCell(hostile[i]), String(i)], JSON.stringify(hostile[i]));
    assert.equal(parsed[9][1], "'\\x0d", 'a cell that is only a CR is neutralised and still one cell');
  });

  test('neutralises formula cells in the output and keeps columns in the given order', () => {
    const parsed = parseCsv(toCsv(['b', 'a'], [{ a: '=1+1', b: '@x', extra: 'dropped' }]));
    assert.deepEqual(parsed, [['b', 'a'], ["'@x", "'=1+1"]]);
  });

  test('writes missing and null cells as empty fields', () => {
    const parsed = parseCsv(toCsv(COLS, [{ id: 'only' }, { id: null, text: undefined, n: 0 }]));
    assert.deepEqual(parsed.slice(1), [['only', '', ''], ['', '', '0']]);
  });

  test('gives only the header for no rows, without an empty record after it', () => {
    const out = toCsv(COLS, []);
    assert.deepEqual(parseCsv(out), [COLS]);
    assert.equal(out, '"id","text","n"\n');
  });
});

describe('atomic writes', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logward-unit-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const fresh = (name) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    return d;
  };

  test('writeFileAtomic creates and then replaces content, leaving no temp file', () => {
    const d = fresh('replace');
    const f = path.join(d, 'state.json');
    writeFileAtomic(f, '{"v":1}');
    assert.equal(fs.readFileSync(f, 'utf8'), '{"v":1}');
    writeFileAtomic(f, 'second, shorter');
    assert.equal(fs.readFileSync(f, 'utf8'), 'second, shorter');
    assert.deepEqual(fs.readdirSync(d), ['state.json']);
  });

  test('writeFileAtomic writes bytes and piecewise content', () => {
    const d = fresh('pieces');
    const f = path.join(d, 'out.bin');
    writeFileAtomic(f, new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual([...fs.readFileSync(f)], [0, 1, 2, 255]);
    const big = 'x'.repeat(300_000);
    writeFileAtomic(f, (write) => {
      for (let i = 0; i < 5; i++) write(`${i}:${big}\n`);
    });
    const text = fs.readFileSync(f, 'utf8');
    assert.equal(text.length, 5 * (big.length + 3));
    assert.ok(text.startsWith(`0:${big}\n1:`));
    assert.deepEqual(fs.readdirSync(d), ['out.bin']);
  });

  test('writeFileAtomic leaves the old content and no temp file when the producer throws', () => {
    const d = fresh('throws');
    const f = path.join(d, 'keep.txt');
    writeFileAtomic(f, 'old');
    assert.throws(() => writeFileAtomic(f, (write) => {
      write('partial');
      throw new Error('boom');
    }), /boom/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(d), ['keep.txt']);
  });

  test('writeFileAtomic applies the file mode', () => {
    const d = fresh('mode');
    const f = path.join(d, 'secret');
    writeFileAtomic(f, 's', 0o600);
    assert.equal(fs.statSync(f).mode & 0o777 & ~process.umask(), 0o600 & ~process.umask());
  });

  const group = (d, stem) => [
    { name: (s) => path.join(d, `${stem}${s}.json`), data: `json ${stem}` },
    { name: (s) => path.join(d, `${stem}${s}.csv`), data: `csv ${stem}` },
  ];

  test('publishFilesExclusive uses suffix "" then "_2" and never overwrites', () => {
    const d = fresh('publish');
    assert.equal(publishFilesExclusive(group(d, 'report')), '');
    fs.writeFileSync(path.join(d, 'report.json'), 'first run, edited');
    const second = [
      { name: (s) => path.join(d, `report${s}.json`), data: 'second json' },
      { name: (s) => path.join(d, `report${s}.csv`), data: 'second csv' },
    ];
    assert.equal(publishFilesExclusive(second), '_2');
    assert.equal(fs.readFileSync(path.join(d, 'report.json'), 'utf8'), 'first run, edited');
    assert.equal(fs.readFileSync(path.join(d, 'report.csv'), 'utf8'), 'csv report');
    assert.equal(fs.readFileSync(path.join(d, 'report_2.json'), 'utf8'), 'second json');
    assert.equal(fs.readFileSync(path.join(d, 'report_2.csv'), 'utf8'), 'second csv');
    assert.equal(publishFilesExclusive(group(d, 'report')), '_3');
    assert.deepEqual(fs.readdirSync(d).sort(), ['report.csv', 'report.json', 'report_2.csv', 'report_2.json', 'report_3.csv', 'report_3.json']);
  });

  test('publishFilesExclusive moves the whole group on when only a secondary name is taken', () => {
    const d = fresh('secondary');
    fs.writeFileSync(path.join(d, 'report.csv'), 'someone else');
    assert.equal(publishFilesExclusive(group(d, 'report')), '_2');
    assert.equal(fs.existsSync(path.join(d, 'report.json')), false, 'no half-published group under the first suffix');
    assert.equal(fs.readFileSync(path.join(d, 'report.csv'), 'utf8'), 'someone else');
    assert.equal(fs.readFileSync(path.join(d, 'report_2.json'), 'utf8'), 'json report');
    assert.equal(fs.readFileSync(path.join(d, 'report_2.csv'), 'utf8'), 'csv report');
    assert.deepEqual(fs.readdirSync(d).sort(), ['report.csv', 'report_2.csv', 'report_2.json']);
  });

  test('publishFilesExclusive skips a suffix whose primary name is taken', () => {
    const d = fresh('primary');
    fs.writeFileSync(path.join(d, 'report_2.json'), 'taken');
    fs.writeFileSync(path.join(d, 'report.json'), 'taken too');
    assert.equal(publishFilesExclusive(group(d, 'report')), '_3');
    assert.equal(fs.existsSync(path.join(d, 'report.csv')), false);
    assert.equal(fs.existsSync(path.join(d, 'report_2.csv')), false);
    assert.equal(fs.readFileSync(path.join(d, 'report_3.csv'), 'utf8'), 'csv report');
  });

  test('publishFilesExclusive throws for a missing directory', () => {
    const missing = path.join(dir, 'does-not-exist');
    assert.throws(() => publishFilesExclusive(group(missing, 'r')), { code: 'ENOENT' });
  });
});
