// Making log-derived text safe where people read it: one line without control characters
// (a crafted user name cannot add a mail header, fake a second line, drive the terminal
// or reverse what is displayed with a bidi override), HTML-escaped, and JSON that every
// line splitter reads as one record per line.

// C0 but tab, DEL, C1 (NEL, CSI ...), the line and paragraph separators, and the bidi
// marks, embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same set as a RegExp source, for the dashboard's script (which escapes in the browser). */
export const CONTROL_PATTERN = CONTROL.source;
// What JSON.stringify leaves raw although some readers treat it as a line end or a
// display control. Outside strings JSON text is ASCII, so these can only stand in a string.
const RAW_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0');
}

/** The visible escape of one UTF-16 unit: \x1b below U+0100, \u2028 above. */
export function escapeUnit(c: string): string {
  return c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
}

/** Control characters shown as escapes (\x1b, \u202e) that a terminal or mail reader will not interpret. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, escapeUnit);
}

/** One line, control characters escaped (a tab becomes a space), at most `max` characters. */
export function oneLine(s: string, max = 200): string {
  const t = escapeControls(s).replace(/\t/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function escapeHtml(s: string): string {
  return oneLine(s, 2000).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON.stringify, with the separators, C1 and bidi characters it leaves raw escaped as \uXXXX. */
export function safeJson(value: unknown, space?: number): string {
  return escapeJsonText(JSON.stringify(value, null, space));
}

/** The same escaping for JSON text serialized elsewhere; the parsed value does not change. */
export function escapeJsonText(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-29 07:00" in the given zone. */
export function zonedStamp(ms: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** Log-derived text on a terminal: control and bidi characters shown escaped, never interpreted. */
export function printable(s: string): string {
  return escapeControls(s).replace(/\t/g, '\\x09');
}

/** How an incident's key reads in a subject or a list: `ip=203.0.113.7`, or `hostWide` for a rule without a key. */
export function keyText(i: { key: string | null; keyField: string | null }, hostWide = 'host-wide'): string {
  return i.key === null ? hostWide : `${i.keyField ?? 'key'}=${i.key}`;
}

/** A host name or label reduced to characters safe in a Message-ID or a file name (at most 64). */
export function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

/** A file-name-safe form of an id (at most 100 characters). */
export function safeFileId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._@-]/g, '_').replace(/^\.+/, '_');
  return (s === '' ? '_' : s).slice(0, 100);
}
