// Addresses as numbers, for range tables: IPv4 as one unsigned 32-bit integer, IPv6 as
// four (most significant first). Pure and allocation-light: the ASN table parses a few
// hundred thousand addresses at load and one per lookup.

import { ipv4Number as ipv4ToInt, isIPv4, isIPv6 } from '../core/ip.js';

/** "203.0.113.5" → 0xcb007105, or -1 when it is not a canonical dotted-quad IPv4 address. */
export { ipv4Number as ipv4ToInt } from '../core/ip.js';

const groups = new Uint16Array(8);
const parts = new Uint16Array(8);

/**
 * Writes the 128 bits of an IPv6 address into out[at..at+3] (most significant word first).
 * Accepts "::" compression and a trailing dotted quad. Returns false when s is not IPv6.
 */
export function ipv6ToWords(s: string, out: Uint32Array, at = 0): boolean {
  const n = s.length;
  if (n < 2) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    if (count === 8) return false;
    const groupStart = i;
    let v = 0;
    let digits = 0;
    let c = 0;
    while (i < n) {
      c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      if (++digits > 4) return false;
      v = v * 16 + d;
      i++;
    }
    if (i < n && c === 46 /* . */) {
      // A dotted quad ends the address.
      if (count > 6) return false;
      const q = ipv4ToInt(s.slice(groupStart));
      if (q < 0) return false;
      parts[count++] = q >>> 16;
      parts[count++] = q & 0xffff;
      break;
    }
    if (digits === 0) return false;
    parts[count++] = v;
    if (i === n) break;
    if (c !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (gap === -1) {
    if (count !== 8) return false;
    groups.set(parts);
  } else {
    if (count > 7) return false;
    const tail = count - gap;
    groups.fill(0);
    for (let k = 0; k < gap; k++) groups[k] = parts[k]!;
    for (let k = 0; k < tail; k++) groups[8 - tail + k] = parts[gap + k]!;
  }
  for (let w = 0; w < 4; w++) out[at + w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return true;
}

export type ParsedIp = { readonly family: 4; readonly v4: number } | { readonly family: 6; readonly words: Uint32Array };

/** The address as numbers, or null when s is neither IPv4 nor IPv6 (a host name). */
export function parseIp(s: string): ParsedIp | null {
  if (isIPv4(s)) return { family: 4, v4: ipv4ToInt(s) };
  if (isIPv6(s)) {
    const words = new Uint32Array(4);
    return ipv6ToWords(s, words) ? { family: 6, words } : null;
  }
  return null;
}
