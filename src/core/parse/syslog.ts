// RFC 3164 ("Oct 14 12:01:10 host prog[pid]: msg") and the same header behind an ISO-8601
// stamp (rsyslog's RSYSLOG_FileFormat). The host is optional: some daemons and old
// syslogds write "Nov 23 21:50:37 sshd[8148]: ..." or "[sshd]: ...". A Solaris message id
// ("[ID 800047 auth.info] ") is stripped from the message.

import type { LogRecord } from '../types.js';
import { MONTHS, civilToMs, inferYear, zonedToUtc } from '../time.js';
import { d2, parseIsoStamp, type ParseContext } from './common.js';

const SOLARIS_ID = /^\[ID \d+ [a-z0-9]+\.[a-z]+\] /;

/** "Mmm dd HH:MM:SS" at the start of the line -> epoch ms, or NaN. */
export function parse3164Stamp(line: string, ctx: ParseContext): number {
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
  const year = ctx.year ?? inferYear(mo, day, h, mi, s, ctx.refYear, ctx.refMs, ctx.timeZone);
  return zonedToUtc(civilToMs(year, mo, day, h, mi, s), ctx.timeZone);
}

export function parseSyslog(line: string, ctx: ParseContext): LogRecord | null {
  if (line.charCodeAt(15) !== 32) return null;
  let time: number;
  // Lines of the same minute share "Mmm dd HH:MM": only the seconds need reading. Zone
  // offsets change on whole minutes at most, so the minute's instant stays right.
  if (ctx.lastStamp !== '' && line.startsWith(ctx.lastStamp)) {
    const sec = d2(line, 13);
    if (sec < 0 || sec > 60 || line.charCodeAt(12) !== 58) return null;
    time = ctx.lastStampTime + Math.min(sec, 59) * 1000;
  } else {
    time = parse3164Stamp(line, ctx);
    if (Number.isNaN(time)) return null;
    ctx.lastStamp = line.slice(0, 12);
    ctx.lastStampTime = time - Math.min(d2(line, 13), 59) * 1000;
  }
  return parseHeaderTail(line, 16, time, 'syslog');
}

export function parseIsoSyslog(line: string, ctx: ParseContext): LogRecord | null {
  // Cheap shape check before any slicing: "YYYY-MM-DDTHH:MM:SS".
  if (line.charCodeAt(4) !== 45 || line.charCodeAt(10) !== 84) return null;
  const sp = line.indexOf(' ', 19);
  if (sp === -1) return null;
  const time = parseIsoStamp(line.slice(0, sp), ctx);
  if (Number.isNaN(time)) return null;
  return parseHeaderTail(line, sp + 1, time, 'iso_syslog');
}

/** Host, program, pid and message after the stamp; positions first, then only the needed slices. */
function parseHeaderTail(line: string, start: number, time: number, format: 'syslog' | 'iso_syslog'): LogRecord | null {
  const len = line.length;
  let p = start;
  while (line.charCodeAt(p) === 32) p++;
  if (p >= len) return null;
  let sp = line.indexOf(' ', p);
  if (sp === -1) sp = len;
  let host: string | null = null;
  if (!isProgramToken(line, p, sp)) {
    host = line.slice(p, sp);
    p = sp + 1;
    sp = line.indexOf(' ', p);
    if (sp === -1) sp = len;
  }
  let program: string | null = null;
  let pid: string | null = null;
  let msgStart = p;
  if (p < len && isProgramToken(line, p, sp)) {
    let nameEnd = sp - 1; // before ':'
    let nameStart = p;
    if (line.charCodeAt(nameEnd - 1) === 93 /* ] */) {
      const b = line.lastIndexOf('[', nameEnd - 1);
      if (b > p) {
        pid = line.slice(b + 1, nameEnd - 1);
        nameEnd = b;
      } else if (b === p) {
        nameStart = p + 1; // "[sshd]:"
        nameEnd -= 1;
      }
    }
    if (nameEnd > nameStart) program = line.slice(nameStart, nameEnd);
    msgStart = sp + 1;
  }
  let message = msgStart >= len ? '' : line.slice(msgStart);
  if (message.charCodeAt(0) === 91 && message.startsWith('[ID ')) {
    const m = SOLARIS_ID.exec(message);
    if (m !== null) message = message.slice(m[0].length);
  }
  return { format, time, host, program, pid, message, ip: null, user: null, status: null, severity: null };
}

/** line[s, e) is "sshd[123]:", "sshd:", "[sshd]:" or "pop(pam_unix)[4920]:" */
function isProgramToken(line: string, s: number, e: number): boolean {
  return e - s > 1 && line.charCodeAt(e - 1) === 58 && line.charCodeAt(e - 2) !== 58;
}
