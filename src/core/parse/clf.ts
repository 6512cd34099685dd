// Common and Combined Log Format (nginx, apache, traefik access logs):
//   IP IDENT USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS BYTES ...
// The message handed to rules starts at the quoted request. nginx and apache escape '"'
// inside the request, so a rule anchored on `^"[^"]*" STATUS ` cannot be fooled by a URL.

import type { LogRecord } from '../types.js';
import type { ParseContext } from './common.js';
import { MONTHS, civilToMs, parseOffset } from '../time.js';
import { d2, d4 } from './common.js';
import { normalizeIp } from '../ip.js';

export function parseClf(line: string, _ctx: ParseContext): LogRecord | null {
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return null;
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 === -1) return null;
  // The user name comes before the stamp, and nginx leaves " [" in it unescaped (only a
  // quote is escaped): the stamp is the first " [" that a valid time and `] "` follow.
  let br = line.indexOf(' [', sp2);
  let stamp: Stamp | null = null;
  while (br !== -1 && (stamp = stampAt(line, br + 2)) === null) br = line.indexOf(' [', br + 2);
  if (stamp === null) return null;
  const { time, msgStart } = stamp;
  const message = line.slice(msgStart);
  const status = statusOf(message);
  const user = br > sp2 + 1 ? line.slice(sp2 + 1, br) : '-';
  return {
    format: 'clf', time, host: null, program: null, pid: null, message,
    ip: normalizeIp(line.slice(0, sp1)),
    user: user === '-' || user === '' ? null : user,
    status, severity: null,
  };
}

interface Stamp {
  time: number;
  /** Where the quoted request starts. */
  msgStart: number;
}

/** `dd/Mon/yyyy:HH:MM:SS +zzzz] "` at ts, or null. */
function stampAt(line: string, ts: number): Stamp | null {
  if (line.charCodeAt(ts + 2) !== 47 || line.charCodeAt(ts + 6) !== 47 || line.charCodeAt(ts + 11) !== 58 || line.charCodeAt(ts + 26) !== 93) {
    return null;
  }
  const d = d2(line, ts);
  const mo = MONTHS[line.slice(ts + 3, ts + 6)];
  const y = d4(line, ts + 7);
  const h = d2(line, ts + 12);
  const mi = d2(line, ts + 15);
  const s = d2(line, ts + 18);
  if (mo === undefined || d < 0 || y < 0 || h < 0 || mi < 0 || s < 0 || line.charCodeAt(ts + 20) !== 32) return null;
  const off = parseOffset(line.slice(ts + 21, ts + 26));
  const time = civilToMs(y, mo, d, h, mi, s) - off;
  if (Number.isNaN(time)) return null;
  const msgStart = ts + 27 < line.length && line.charCodeAt(ts + 27) === 32 ? ts + 28 : ts + 27;
  if (line.charCodeAt(msgStart) !== 34 /* " */) return null;
  return { time, msgStart };
}

/** The status after the closing quote of the request, honouring backslash escapes. */
function statusOf(message: string): number | null {
  let i = 1;
  for (; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c === 92) { i++; continue; }
    if (c === 34) break;
  }
  if (message.charCodeAt(i + 1) !== 32) return null;
  const a = d2(message, i + 2);
  const b = message.charCodeAt(i + 4) - 48;
  // !(b >= 0): a line ending after two digits gives NaN here, which no comparison rejects.
  if (a < 0 || !(b >= 0 && b <= 9)) return null;
  return a * 10 + b;
}
