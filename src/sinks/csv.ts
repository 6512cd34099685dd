// CSV through csv-writer, hardened for spreadsheets: a cell starting with = + - @ TAB or
// CR is prefixed with ' so Excel/LibreOffice never evaluate log-derived text as a
// formula, and every cell is quoted so a bare CR cannot split a row.

import { createObjectCsvStringifier } from 'csv-writer';

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralizeCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return FORMULA_START.test(s) ? `'${s}` : s;
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
