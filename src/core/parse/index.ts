// The format registry. A source's format is picked once, from its first lines (or forced by
// config); each line then tries the format that accepted the previous line first, so a
// file mixing two formats (nginx access and error lines) costs one extra try per switch.

import type { FormatName, LogRecord } from '../types.js';
import { ParseContext } from './common.js';

export { ParseContext };
import { FORMAT_NAMES } from '../types.js';
import { parseClf } from './clf.js';
import { parseRfc5424 } from './rfc5424.js';
import { parseIsoSyslog, parseSyslog } from './syslog.js';
import { parseApacheError, parseLighttpdError, parseNginxError } from './weberror.js';

export type LineParser = (line: string, ctx: ParseContext) => LogRecord | null;

export const PARSERS: Readonly<Record<FormatName, LineParser>> = Object.freeze({
  syslog: parseSyslog,
  iso_syslog: parseIsoSyslog,
  rfc5424: parseRfc5424,
  clf: parseClf,
  apache_error: parseApacheError,
  nginx_error: parseNginxError,
  lighttpd_error: parseLighttpdError,
});

/** How many leading lines format detection looks at. */
export const DETECT_LINES = 20;

/** The format accepting most of the sample lines (ties: registry order), or null if none accepts any. */
export function detectFormat(sample: readonly string[], ctx: ParseContext): FormatName | null {
  let best: FormatName | null = null;
  let bestHits = 0;
  for (const name of FORMAT_NAMES) {
    const parse = PARSERS[name];
    let hits = 0;
    for (const line of sample) if (line !== '' && parse(line, ctx) !== null) hits++;
    if (hits > bestHits) {
      best = name;
      bestHits = hits;
    }
  }
  return best;
}

/** Parses lines with a preferred format first, then (unless pinned) every other format. */
export class FormatChain {
  private readonly parsers: LineParser[];
  private last = 0;
  readonly pinned: boolean;

  constructor(preferred: FormatName | null, pinned: boolean) {
    this.pinned = pinned;
    const order: FormatName[] = preferred === null ? [...FORMAT_NAMES] : [preferred];
    if (!pinned) for (const f of FORMAT_NAMES) if (f !== preferred && preferred !== null) order.push(f);
    this.parsers = order.map((f) => PARSERS[f]);
  }

  parse(line: string, ctx: ParseContext): LogRecord | null {
    const ps = this.parsers;
    const first = ps[this.last]!(line, ctx);
    if (first !== null) return first;
    for (let i = 0; i < ps.length; i++) {
      if (i === this.last) continue;
      const r = ps[i]!(line, ctx);
      if (r !== null) {
        this.last = i;
        return r;
      }
    }
    return null;
  }
}
