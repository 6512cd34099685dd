// What the rules' patterns see of a line: every character that a regex class reads as a
// line end or a space although the log writer wrote it inside a field is replaced by its
// visible escape (U+2028 becomes the six characters \u2028, a tab becomes \x09). Without
// this, whoever chooses a user name, a URL or a user agent blinds any pattern: "." stops
// at U+2028, U+2029 and CR, and "\S" stops at a tab, NBSP and the other Unicode spaces
// where a pattern allows only " " inside a field, so a crafted name made a line of an
// attack match nothing. Once escaped, such a name is plain printable text, which every
// builtin pattern is already built to withstand (see test/security/rule-forgery.test.mjs):
// in the text patterns see, "." matches every character and "\s" only the space.
// The escapes are those of the outputs (util/text.ts escapeControls), and every character
// outputs escape is escaped here too, so the event's user, ip, host and text hold what
// reports and alerts show: what was matched is what is shown.
// Owns: the set and its test. Pure; must never allocate for a line without such a
// character (the common case costs one precompiled test). A "\n" has ended the line
// before it gets here; one that a source let through is escaped like the rest.
//
// Not injective, on purpose: a user name typed as the six characters \u2028 reads the same
// as one holding U+2028. That is harmless: both names are the same attacker's text in the
// same field, the address and the count come from the log writer's fields, so the merge
// can only join events (never hide one), and the raw bytes stay in the log at the same
// line (the splitter cut lines and counted bytes before this, so offsets and line numbers
// do not change). Escaping the backslash as well would make it injective, but would change
// what user patterns see on every line holding a backslash (paths, escaped quotes).
// An escape is a backslash, a letter and hex digits: never a space, quote, comma or
// other mark a pattern ends a field on, so it cannot move a capture where text the
// attacker could type anyway cannot.

import { escapeUnit } from '../util/text.js';

// C0 (tab included: syslog daemons, sshd and apache escape it themselves, so a raw one is
// someone's text), DEL, C1 (NEL, CSI ...), the Unicode spaces "\s" matches (NBSP, U+1680,
// U+2000-U+200A, U+202F, U+205F, U+3000, U+FEFF), the line and paragraph separators,
// and the bidi marks, embeddings, overrides and isolates that outputs escape.
const INVISIBLE_CLASS = '[\\u0000-\\u001f\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u200e\\u200f\\u2028-\\u202f\\u205f\\u2066-\\u2069\\u3000\\ufeff]';
const INVISIBLE = new RegExp(INVISIBLE_CLASS);
const INVISIBLE_ALL = new RegExp(INVISIBLE_CLASS, 'g');

/** The line as patterns see it: itself (the same string) when it holds none of the set. */
export function visibleLine(line: string): string {
  return INVISIBLE.test(line) ? line.replace(INVISIBLE_ALL, escapeUnit) : line;
}

/** The escaped form of a byte-order mark, which RFC 5424 puts before a UTF-8 message. */
export const ESCAPED_BOM = '\\ufeff';
