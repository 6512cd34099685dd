// RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD]... MSG". The severity (PRI & 7)
// is kept so a rule can alert on "err or worse" without matching text.

import type { LogRecord } from '../types.js';
import type { ParseContext } from './common.js';
import { parseIsoStamp } from './common.js';
import { ESCAPED_BOM } from '../visible.js';

export function parseRfc5424(line: string, ctx: ParseContext): LogRecord | null {
  if (line.charCodeAt(0) !== 60 /* < */) return null;
  const gt = line.indexOf('>');
  if (gt < 2 || gt > 4) return null;
  const pri = Number(line.slice(1, gt));
  if (!Number.isInteger(pri) || pri < 0 || pri > 191) return null;
  // version "1" then space
  let p = gt + 1;
  const vEnd = line.indexOf(' ', p);
  if (vEnd === -1 || !/^[1-9]\d{0,2}$/.test(line.slice(p, vEnd))) return null;
  const fields: string[] = [];
  p = vEnd + 1;
  for (let i = 0; i < 5; i++) {
    const sp = line.indexOf(' ', p);
    if (sp === -1) {
      if (i < 4) return null;
      fields.push(line.slice(p));
      p = line.length;
      break;
    }
    fields.push(line.slice(p, sp));
    p = sp + 1;
  }
  const [stamp, host, app, procid] = fields as [string, string, string, string, string];
  const time = stamp === '-' ? NaN : parseIsoStamp(stamp, ctx);
  if (Number.isNaN(time)) return null;
  // Structured data: "-" or one or more [id k="v"...] elements; ']' and '"' may be escaped.
  let message = '';
  if (p < line.length) {
    if (line.charCodeAt(p) === 45 /* - */) {
      p += 1;
    } else if (line.charCodeAt(p) === 91 /* [ */) {
      p = skipStructuredData(line, p);
      if (p < 0) return null;
    } else {
      return null;
    }
    if (line.charCodeAt(p) === 32) p++;
    message = line.slice(p);
    // The BOM RFC 5424 allows before a UTF-8 MSG: raw, or as the detector hands it over.
    if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
    else if (message.startsWith(ESCAPED_BOM)) message = message.slice(ESCAPED_BOM.length);
  }
  return {
    format: 'rfc5424', time,
    host: nil(host), program: nil(app), pid: nil(procid), message,
    ip: null, user: null, status: null, severity: pri & 7,
  };
}

function nil(s: string): string | null {
  return s === '-' ? null : s;
}

/** Index after the structured-data elements starting at p, or -1 if unterminated. */
function skipStructuredData(line: string, p: number): number {
  while (line.charCodeAt(p) === 91) {
    let inQuote = false;
    let i = p + 1;
    for (; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 92 /* \ */) { i++; continue; }
      if (c === 34 /* " */) inQuote = !inQuote;
      else if (c === 93 /* ] */ && !inQuote) break;
    }
    if (i >= line.length) return -1;
    p = i + 1;
  }
  return p;
}
