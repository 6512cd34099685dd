// RFC 3164 ("Oct 14 12:01:10 host prog[pid]: msg") and the same header behind an ISO-8601
// stamp (rsyslog's RSYSLOG_FileFormat). The host is optional: some daemons and old
// syslogds write "Nov 23 21:50:37 sshd[8148]: ..." or "[sshd]: ...". A Solaris message id
// ("[ID 800047 auth.info] ") is stripped from the message.

import type { LogRecord } from '../types.js';
import { MONTHS, civilToMs, inferYear, zonedToUtc } from '../time.js';
import { d2, parseIsoStamp, type ParseContext } from './common.js';
import { apacheHeaders } from './weberror.js';

const SOLARIS_ID = /^\[ID \d+ [a-z0-9]+\.[a-z]+\] /;

/**
 * "Mmm dd HH:MM:SS" (or "Mmm  d", or the unpadded "Mmm d" some daemons write) at the
 * start of the line -> epoch ms, or NaN. `o` is 0, or -1 for the unpadded form.
 */
export function parse3164Stamp(line: string, ctx: ParseContext, o = 0): number {
  if (line.length < 16 + o || line.charCodeAt(3) !== 32 || line.charCodeAt(6 + o) !== 32 || line.charCodeAt(9 + o) !== 58 || line.charCodeAt(12 + o) !== 58) {
    return NaN;
  }
  const mo = MONTHS[line.slice(0, 3)];
  if (mo === undefined) return NaN;
  const c4 = line.charCodeAt(4);
  const day = o === -1 ? c4 - 48 : c4 === 32 ? line.charCodeAt(5) - 48 : d2(line, 4);
  const h = d2(line, 7 + o);
  const mi = d2(line, 10 + o);
  const s = d2(line, 13 + o);
  if (!(day >= 1 && day <= 31) || h < 0 || mi < 0 || s < 0) return NaN;
  const year = ctx.year ?? inferYear(mo, day, h, mi, s, ctx.refYear, ctx.refMs, ctx.timeZone);
  return zonedToUtc(civilToMs(year, mo, day, h, mi, s), ctx.timeZone);
}

/**
 * "Mmm dd HH:MM" as one number (month letters, day, hour, minute), without allocating;
 * -1 when a digit is not a digit. Equal keys mean equal minute stamps.
 */
function minuteKey(line: string): number {
  const day = line.charCodeAt(4) === 32 ? line.charCodeAt(5) - 48 : d2(line, 4);
  const h = d2(line, 7);
  const mi = d2(line, 10);
  if (day < 0 || day > 31 || h < 0 || mi < 0) return -1;
  const month = (line.charCodeAt(0) * 128 + line.charCodeAt(1)) * 128 + line.charCodeAt(2);
  return ((month * 32 + day) * 24 + h) * 60 + mi;
}

/** The instant of a line's RFC 3164 stamp, or NaN. */
function stampTime(line: string, ctx: ParseContext): number {
  if (line.charCodeAt(15) !== 32 || line.charCodeAt(3) !== 32 || line.charCodeAt(9) !== 58 || line.charCodeAt(12) !== 58) return NaN;
  const sec = d2(line, 13);
  if (sec < 0 || sec > 60) return NaN;
  // Lines of the same minute share "Mmm dd HH:MM": only the seconds need reading. Zone
  // offsets change on whole minutes at most, so the minute's instant stays right.
  const key = minuteKey(line);
  if (key === ctx.lastMinuteKey && key !== -1) return ctx.lastMinuteTime + Math.min(sec, 59) * 1000;
  const time = parse3164Stamp(line, ctx);
  if (Number.isNaN(time)) return NaN;
  ctx.lastMinuteKey = key;
  ctx.lastMinuteTime = time - Math.min(sec, 59) * 1000;
  return time;
}

/** line[start, start + s.length) === s, for short s, without String#startsWith's cost. */
function sameAt(line: string, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (line.charCodeAt(start + i) !== s.charCodeAt(i)) return false;
  return true;
}

export function parseSyslog(line: string, ctx: ParseContext): LogRecord | null {
  const time = stampTime(line, ctx);
  if (!Number.isNaN(time)) return parseHeaderTail(line, 16, time, 'syslog');
  if (line.charCodeAt(5) === 32 && line.charCodeAt(14) === 32) {
    // "Feb 7 16:01:07 host ...": unpadded day, one character shorter.
    const t = parse3164Stamp(line, ctx, -1);
    if (!Number.isNaN(t)) return parseHeaderTail(line, 15, t, 'syslog');
  }
  return null;
}

/** What probeSyslog found: valid when its return value is >= 0. */
export interface SyslogProbe {
  time: number;
  program: string | null;
}

export const PROBE_INVALID = -1;
export const PROBE_FULL = -2;

/**
 * The cheap path for lines no rule can match: validates a line exactly as parseSyslog
 * would and finds its program and message start without building a record. Returns the
 * message offset, PROBE_INVALID when parseSyslog would reject the line, or PROBE_FULL when
 * only a full parse can tell (a Solaris tag shifts the message).
 */
export function probeSyslog(line: string, ctx: ParseContext, out: SyslogProbe): number {
  const time = stampTime(line, ctx);
  if (Number.isNaN(time)) return line.charCodeAt(5) === 32 ? PROBE_FULL : PROBE_INVALID;
  out.time = time;
  const len = line.length;
  let p = 16;
  while (line.charCodeAt(p) === 32) p++;
  if (p >= len) return PROBE_INVALID;
  let sp = line.indexOf(' ', p);
  if (sp === -1) sp = len;
  if (isBracketProgram(line, p, sp)) return PROBE_FULL;
  if (!isProgramToken(line, p, sp)) {
    p = sp + 1;
    sp = line.indexOf(' ', p);
    if (sp === -1) sp = len;
  }
  if (p >= len || !isProgramToken(line, p, sp)) {
    // A Solaris tag right after the host shifts the message: parse fully.
    if (line.charCodeAt(p) === 91) return PROBE_FULL;
    out.program = null;
    return p >= len ? len : p;
  }
  let nameStart = p;
  let nameEnd = sp - 1;
  if (line.charCodeAt(nameEnd - 1) === 93 /* ] */) {
    const b = line.lastIndexOf('[', nameEnd - 1);
    if (b > p) nameEnd = b;
    else if (b === p) {
      nameStart = p + 1;
      nameEnd -= 1;
    }
  }
  if (nameEnd <= nameStart) out.program = null;
  else {
    const prev = out.program;
    // Consecutive lines mostly share a program: reuse the string instead of slicing.
    if (prev === null || prev.length !== nameEnd - nameStart || !sameAt(line, nameStart, prev)) out.program = line.slice(nameStart, nameEnd);
  }
  const msg = sp + 1;
  // A Solaris tag or apache's syslog header groups shift the message: parse fully.
  if (line.charCodeAt(msg) === 91) return PROBE_FULL;
  return msg >= len ? len : msg;
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
  if (isBracketProgram(line, p, sp)) {
    // "[sshd] User root from ..." (no host, no colon): an old syslogd's program tag.
    const message = sp >= len ? '' : line.slice(sp + 1);
    return { format, time, host: null, program: line.slice(p + 1, sp - 1), pid: null, message, ip: null, user: null, status: null, severity: null };
  }
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
  if (message.charCodeAt(0) === 91) {
    if (message.startsWith('[ID ')) {
      const m = SOLARIS_ID.exec(message);
      if (m !== null) message = message.slice(m[0].length);
    } else if (program !== null && isApacheProgram(program)) {
      // apache's "ErrorLog syslog": the error-log header groups come inside the message.
      const h = apacheHeaders(message, 0);
      return { format, time, host, program: h.program === 'apache' ? program : h.program, pid, message: h.message, ip: h.ip, user: null, status: null, severity: h.severity };
    }
  }
  return { format, time, host, program, pid, message, ip: null, user: null, status: null, severity: null };
}

/** "httpd", "httpd/backend1", "apache2", "apache". */
function isApacheProgram(p: string): boolean {
  return p.startsWith('httpd') || p.startsWith('apache');
}

/** line[s, e) is "[sshd]" (bracketed, no colon). */
function isBracketProgram(line: string, s: number, e: number): boolean {
  return e - s > 2 && line.charCodeAt(s) === 91 && line.charCodeAt(e - 1) === 93;
}

/** line[s, e) is "sshd[123]:", "sshd:", "[sshd]:" or "pop(pam_unix)[4920]:" */
function isProgramToken(line: string, s: number, e: number): boolean {
  return e - s > 1 && line.charCodeAt(e - 1) === 58 && line.charCodeAt(e - 2) !== 58;
}
