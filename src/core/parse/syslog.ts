// RFC 3164 ("Oct 14 12:01:10 host prog[pid]: msg") and the same header behind an ISO-8601
// stamp (rsyslog's RSYSLOG_FileFormat). The host is optional: some daemons and old
// syslogds write "Nov 23 21:50:37 sshd[8148]: ..." or "[sshd]: ...". A Solaris message id
// ("[ID 800047 auth.info] ") is stripped from the message.

import type { LogRecord, TimeContext } from '../types.js';
import { MONTHS, civilToMs, inferYear, offsetAt, yearOf, zonedToUtc } from '../time.js';
import { d2, parseIsoStamp } from './common.js';

const SOLARIS_ID = /^\[ID \d+ [a-z0-9]+\.[a-z]+\] /;

/** Per-context cache of the reference year (in the context's zone). */
const refYears = new WeakMap<TimeContext, number>();

function refYearOf(ctx: TimeContext): number {
  let y = refYears.get(ctx);
  if (y === undefined) {
    y = yearOf(ctx.refMs + offsetAt(ctx.refMs, ctx.timeZone));
    refYears.set(ctx, y);
  }
  return y;
}

/** "Mmm dd HH:MM:SS" at the start of the line -> epoch ms, or NaN. */
export function parse3164Stamp(line: string, ctx: TimeContext): number {
  if (line.length < 16 || line.charCodeAt(3) !== 32 || line.charCodeAt(6) !== 32 || line.charCodeAt(9) !== 58 || line.charCodeAt(12) !== 58) {
    return NaN;
  }
  const mo = MONTHS[line.slice(0, 3)];
  if (mo === undefined) return NaN;
  const c4 = line.charCodeAt(4);
  const day = c4 === 32 ? line.charCodeAt(5) - 48 : d2(line, 4);
  const h = d2(line, 7);
  const mi = d2(line, 10);
  const s = d2(line, 13);
  if (!(day >= 1 && day <= 31) || h < 0 || mi < 0 || s < 0) return NaN;
  const year = ctx.year ?? inferYear(mo, day, h, mi, s, refYearOf(ctx), ctx.refMs, ctx.timeZone);
  return zonedToUtc(civilToMs(year, mo, day, h, mi, s), ctx.timeZone);
}

export function parseSyslog(line: string, ctx: TimeContext): LogRecord | null {
  if (line.charCodeAt(15) !== 32) return null;
  const time = parse3164Stamp(line, ctx);
  if (Number.isNaN(time)) return null;
  return parseHeaderTail(line, 16, time, 'syslog');
}

export function parseIsoSyslog(line: string, ctx: TimeContext): LogRecord | null {
  // Cheap shape check before any slicing: "YYYY-MM-DDTHH:MM:SS".
  if (line.charCodeAt(4) !== 45 || line.charCodeAt(10) !== 84) return null;
  const sp = line.indexOf(' ', 19);
  if (sp === -1) return null;
  const time = parseIsoStamp(line.slice(0, sp), ctx);
  if (Number.isNaN(time)) return null;
  return parseHeaderTail(line, sp + 1, time, 'iso_syslog');
}

/** Host, program, pid and message after the stamp. */
function parseHeaderTail(line: string, start: number, time: number, format: 'syslog' | 'iso_syslog'): LogRecord | null {
  let p = start;
  while (line.charCodeAt(p) === 32) p++;
  if (p >= line.length) return null;
  let sp = line.indexOf(' ', p);
  if (sp === -1) sp = line.length;
  let host: string | null = null;
  const first = line.slice(p, sp);
  if (!isProgramToken(first)) {
    host = first;
    p = sp + 1;
    sp = line.indexOf(' ', p);
    if (sp === -1) sp = line.length;
  }
  const token = line.slice(p, sp);
  let program: string | null = null;
  let pid: string | null = null;
  let msgStart = p;
  if (isProgramToken(token)) {
    let name = token.slice(0, -1); // drop ':'
    if (name.endsWith(']')) {
      const b = name.lastIndexOf('[');
      if (b > 0) {
        pid = name.slice(b + 1, -1);
        name = name.slice(0, b);
      } else if (b === 0) {
        name = name.slice(1, -1); // "[sshd]:"
      }
    }
    program = name === '' ? null : name;
    msgStart = sp + 1;
  }
  let message = msgStart >= line.length ? '' : line.slice(msgStart);
  if (message.charCodeAt(0) === 91 && message.startsWith('[ID ')) {
    const m = SOLARIS_ID.exec(message);
    if (m !== null) message = message.slice(m[0].length);
  }
  return { format, time, host, program, pid, message, ip: null, user: null, status: null, severity: null };
}

/** "sshd[123]:", "sshd:", "[sshd]:", "pop(pam_unix)[4920]:" */
function isProgramToken(t: string): boolean {
  return t.length > 1 && t.charCodeAt(t.length - 1) === 58 && t.charCodeAt(t.length - 2) !== 58;
}
