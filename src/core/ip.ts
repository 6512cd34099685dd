// Address normalisation so that one attacker is one key: IPv4-mapped IPv6
// (::ffff:203.0.113.5) becomes plain IPv4, IPv6 is lower-cased, brackets are dropped.
// A value that is not an address (a host name written by sshd or PAM) is kept, lower-cased.
// Pure: no DNS, no node:net.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;

export function isIPv4(s: string): boolean {
  const m = IPV4.exec(s);
  if (m === null) return false;
  // As node:net: no octet above 255, no leading zero (030 reads as octal in some tools).
  for (let i = 1; i <= 4; i++) if (Number(m[i]) > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return false;
  return true;
}

export function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !s.includes(':') || !IPV6_CHARS.test(s)) return false;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return false;
  // A lone colon may only stand at either end as part of "::".
  if ((s.startsWith(':') && !s.startsWith('::')) || (s.endsWith(':') && !s.endsWith('::'))) return false;
  const parts = s.split(':');
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '') continue;
    if (p.includes('.')) {
      if (i !== parts.length - 1 || !isIPv4(p)) return false;
      groups += 2;
    } else if (p.length > 4) {
      return false;
    } else {
      groups++;
    }
  }
  return dbl === -1 ? groups === 8 : groups < 8;
}

export function isIp(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** Canonical form of an address as found in a log, or null for an empty value. */
export function normalizeIp(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  let s = raw.trim();
  if (s === '' || s === '-') return null;
  if (s.charCodeAt(0) === 91 /* [ */ && s.endsWith(']')) s = s.slice(1, -1);
  s = s.toLowerCase();
  if (s.startsWith('::ffff:')) {
    const v4 = s.slice(7);
    if (isIPv4(v4)) return v4;
  }
  return s;
}

/** IPv4 dotted quad -> 32-bit number, or -1 when s is anything else (even with leading zeros). */
export function ipv4Number(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero: not the canonical form
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

export function ipv4String(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
