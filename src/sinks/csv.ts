// CSV through csv-writer, hardened for spreadsheets and terminals: a cell starting with
// = + - @ (after any blanks), TAB or CR is prefixed with ' so Excel/LibreOffice never
// evaluate log-derived text as a formula; control characters are written as escapes
// (\x1b), so neither `cat` nor a viewer interprets them; and every cell is quoted.

import { createObjectCsvStringifier } from 'csv-writer';
import { escapeControls } from '../util/text.js';

// LibreOffice trims leading blanks before it looks for a formula, so " =1+1" runs too.
const FORMULA_START = /^(?:[\t\r]|\s*[=+\-@])/;

export function neutralizeCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  // Judged on the raw text: "\r=1" is a formula to a spreadsheet even though it is
  // written as "\x0d=1".
  const safe = escapeControls(s);
  return FORMULA_START.test(s) || FORMULA_START.test(safe) ? `'${safe}` : safe;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const stringifier = createObjectCsvStringifier({
    header: columns.map((c) => ({ id: c, title: c })),
    alwaysQuote: true,
  });
  const safe = rows.map((r) => {
    const o: Record<string, string> = {};
    for (const c of columns) o[c] = neutralizeCell(r[c]);
    return o;
  });
  // csv-writer renders no records as an empty line; a header-only file has none.
  return stringifier.getHeaderString()! + (safe.length === 0 ? '' : stringifier.stringifyRecords(safe));
}
