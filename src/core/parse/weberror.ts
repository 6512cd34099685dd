// Web server error logs, where HTTP authentication failures are written:
//   apache:   [Www Mmm dd HH:MM:SS(.ffffff) YYYY] [module:level] [pid N] [client IP:port] message
//             (program: the module, e.g. auth_basic, or "apache" when the line names none)
//   nginx:    YYYY/MM/DD HH:MM:SS [level] PID#TID: *CID message
//   lighttpd: YYYY-MM-DD HH:MM:SS: message
// Only the leading bracket groups of an apache line are header: a "[client x]" later in
// the message is attacker text (a requested path) and never sets the address.

import type { LogRecord } from '../types.js';
import type { ParseContext } from './common.js';
import { MONTHS, civilToMs, zonedToUtc } from '../time.js';
import { d2, d4, fraction } from './common.js';
import { normalizeIp } from '../ip.js';

const LEVELS: Readonly<Record<string, number>> = {
  emerg: 0, alert: 1, crit: 2, error: 3, err: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7,
};

function levelOf(s: string): number | null {
  // Own keys only: "[constructor]" must not read Object.prototype's constructor as a level.
  const v = Object.hasOwn(LEVELS, s) ? LEVELS[s] : undefined;
  if (v !== undefined) return v;
  return s.startsWith('trace') ? 7 : null;
}

export function parseApacheError(line: string, ctx: ParseContext): LogRecord | null {
  if (line.charCodeAt(0) !== 91 || line.charCodeAt(4) !== 32 || line.charCodeAt(8) !== 32) return null;
  const close = line.indexOf(']');
  if (close < 25 || close > 40) return null;
  const mo = MONTHS[line.slice(5, 8)];
  const day = line.charCodeAt(9) === 32 ? line.charCodeAt(10) - 48 : d2(line, 9);
  const h = d2(line, 12);
  const mi = d2(line, 15);
  const s = d2(line, 18);
  if (mo === undefined || day < 0 || h < 0 || mi < 0 || s < 0 || line.charCodeAt(14) !== 58 || line.charCodeAt(17) !== 58) return null;
  let i = 20;
  let ms = 0;
  if (line.charCodeAt(i) === 46) [ms, i] = fraction(line, i + 1);
  if (line.charCodeAt(i) !== 32) return null;
  const y = d4(line, i + 1);
  if (y < 0 || i + 5 !== close) return null;
  const time = zonedToUtc(civilToMs(y, mo, day, h, mi, s, ms), ctx.timeZone);
  if (Number.isNaN(time)) return null;

  const hd = apacheHeaders(line, close + 1);
  return { format: 'apache_error', time, host: null, program: hd.program, pid: null, message: hd.message, ip: hd.ip, user: null, status: null, severity: hd.severity };
}

export interface ApacheHeaders {
  ip: string | null;
  severity: number | null;
  /** The module ("auth_basic"), or "apache" when the line names none. */
  program: string;
  message: string;
}

/**
 * The leading "[module:level] [pid N] [client ADDR:port]" groups from p on. Only leading
 * groups are header: a "[client x]" later in the message is attacker text.
 */
export function apacheHeaders(line: string, p: number): ApacheHeaders {
  let ip: string | null = null;
  let severity: number | null = null;
  let program = 'apache';
  while ((line.charCodeAt(p) === 32 && line.charCodeAt(p + 1) === 91) || (p === 0 && line.charCodeAt(0) === 91)) {
    const open = line.charCodeAt(p) === 91 ? p : p + 1;
    let end = line.indexOf(']', open + 1);
    // "[client [2001:db8::1]:51548]": the address has brackets of its own.
    // Only after a first ']': searching again from -1 + 1 would find one before the group and loop forever.
    if (end !== -1 && line.charCodeAt(open + 8) === 91 && (line.startsWith('client [', open + 1) || line.startsWith('remote [', open + 1))) {
      end = line.indexOf(']', end + 1);
    }
    if (end === -1) break;
    const group = line.slice(open + 1, end);
    if (group.startsWith('client ') || group.startsWith('remote ')) {
      ip = stripPort(group.slice(7));
    } else if (!group.startsWith('pid ')) {
      const colon = group.lastIndexOf(':');
      severity = levelOf(colon === -1 ? group : group.slice(colon + 1)) ?? severity;
      if (colon > 0) program = group.slice(0, colon);
    }
    p = end + 1;
  }
  const message = line.charCodeAt(p) === 32 ? line.slice(p + 1) : line.slice(p);
  return { ip, severity, program, message };
}

/** "192.0.2.1:5858" -> 192.0.2.1; "2001:db8::1" stays; "[2001:db8::1]:443" -> 2001:db8::1 */
function stripPort(s: string): string | null {
  if (s.startsWith('[')) {
    const e = s.indexOf(']');
    return normalizeIp(e === -1 ? s : s.slice(1, e));
  }
  const colon = s.indexOf(':');
  if (colon !== -1 && colon === s.lastIndexOf(':')) return normalizeIp(s.slice(0, colon));
  return normalizeIp(s);
}

/** "YYYY?MM?DD HH:MM:SS" with the given date separator -> wall ms (as UTC), or NaN. */
function dateTime(line: string, sep: number): number {
  if (line.charCodeAt(4) !== sep || line.charCodeAt(7) !== sep || line.charCodeAt(10) !== 32 || line.charCodeAt(13) !== 58 || line.charCodeAt(16) !== 58) {
    return NaN;
  }
  const y = d4(line, 0);
  const mo = d2(line, 5);
  const d = d2(line, 8);
  const h = d2(line, 11);
  const mi = d2(line, 14);
  const s = d2(line, 17);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return NaN;
  return civilToMs(y, mo, d, h, mi, s);
}

export function parseNginxError(line: string, ctx: ParseContext): LogRecord | null {
  if (line.charCodeAt(19) !== 32 || line.charCodeAt(20) !== 91) return null;
  const wall = dateTime(line, 47 /* / */);
  if (Number.isNaN(wall)) return null;
  const lvlEnd = line.indexOf('] ', 21);
  if (lvlEnd === -1) return null;
  const severity = levelOf(line.slice(21, lvlEnd));
  let p = lvlEnd + 2;
  // "2865#0: " process and thread ids
  const colon = line.indexOf(': ', p);
  let pid: string | null = null;
  if (colon !== -1 && /^\d+#\d+$/.test(line.slice(p, colon))) {
    pid = line.slice(p, line.indexOf('#', p));
    p = colon + 2;
  }
  // "*66647 " connection id
  if (line.charCodeAt(p) === 42) {
    const sp = line.indexOf(' ', p);
    if (sp !== -1) p = sp + 1;
  }
  const time = zonedToUtc(wall, ctx.timeZone);
  return { format: 'nginx_error', time, host: null, program: 'nginx', pid, message: line.slice(p), ip: null, user: null, status: null, severity };
}

export function parseLighttpdError(line: string, ctx: ParseContext): LogRecord | null {
  if (line.charCodeAt(19) !== 58 || line.charCodeAt(20) !== 32) return null;
  const wall = dateTime(line, 45 /* - */);
  if (Number.isNaN(wall)) return null;
  const time = zonedToUtc(wall, ctx.timeZone);
  return { format: 'lighttpd_error', time, host: null, program: 'lighttpd', pid: null, message: line.slice(21), ip: null, user: null, status: null, severity: null };
}
