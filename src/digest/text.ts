// Making log-derived text safe where people read it: one line without control characters
// (a crafted user name cannot add a mail header or fake a second line), and HTML-escaped.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line, control characters replaced by a space, at most `max` characters. */
export function oneLine(s: string, max = 200): string {
  const t = s.replace(CONTROL, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function escapeHtml(s: string): string {
  return oneLine(s, 2000).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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
