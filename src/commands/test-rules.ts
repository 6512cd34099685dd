// `logward test-rules [--rules FILE] LOG...`: logward's fail2ban-regex. Shows which rule
// matched each line and what it captured, counts the lines no rule matched with their most
// frequent shapes, and checks "# expect:" annotations (exit 65 on any disagreement), so
// users can test their own rules on annotated sample logs.

import { loadConfig, rulesOf } from '../config/load.js';
import { Detector, type DetectorListener } from '../core/detector.js';
import type { DetectionEvent } from '../core/types.js';
import { visibleLine } from '../core/visible.js';
import { resolveInputs, readLines } from '../sources/file-batch.js';
import { AppError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { intOption, parseArgs, usage, type OptionSpec } from './args.js';
import { printable } from '../util/text.js';

export const TEST_RULES_OPTIONS: readonly OptionSpec[] = [
  { name: 'rules', kind: 'list' },
  { name: 'config', kind: 'string' },
  { name: 'year', kind: 'string' },
  { name: 'timezone', kind: 'string' },
  { name: 'quiet', kind: 'boolean' },
  { name: 'json', kind: 'boolean' },
];

export const TEST_RULES_HELP = `usage: logward test-rules [--rules FILE]... [--config FILE] LOG...

For every line of LOG: which rules matched and what they captured (ip, user). Then a
summary: lines read, parsed, matched, and the most frequent shapes of unmatched lines.
An annotated log (a line "# expect: {"rule": "ssh_bruteforce", "ip": "203.0.113.7"}",
a JSON array of such objects, or "# expect: none", before the line it describes) is
checked: every disagreement is printed and the exit status is 65. In a file with
annotations, a line without one must match no rule.

  --rules FILE     test the rules of this rule file instead of the configured ones (repeatable)
  --config FILE    configuration (default: $LOGWARD_CONFIG, /etc/logward/logward.yaml,
                   ./config/logward.yaml, the packaged one: see \`logward validate\`)
  --year YYYY      year of syslog stamps that carry none
  --timezone TZ    zone of stamps without offset
  --quiet          print only disagreements and the summary
  --json           print the result as JSON
`;

interface Expectation {
  readonly rule: string;
  readonly fields: Readonly<Record<string, string | null>>;
}

interface LineResult {
  events: DetectionEvent[];
}

const EXPECT = /^#+\s*expect:\s*(.*)$/;

export async function testRulesCommand(argv: readonly string[], io: { stdout: (s: string) => void; clock: Clock }): Promise<number> {
  const { values: v, positionals } = parseArgs(argv, TEST_RULES_OPTIONS, 'test-rules');
  if (positionals.length === 0) throw usage('name at least one log file to test', 'test-rules');
  const ruleFiles = v.rules as string[] | undefined;
  const config = loadConfig((v.config as string | undefined) ?? null, ruleFiles === undefined ? {} : { ruleFiles });
  const ruleset = rulesOf(config);
  const ruleNames = new Set(ruleset.rules.map((r) => r.spec.name));
  const year = intOption(v.year, 'year', 'test-rules', 1970, 9999) ?? config.input.year;
  const timeZone = (v.timezone as string | undefined) ?? config.input.timeZone;

  const byLine = new Map<string, LineResult>();
  const listener: DetectorListener = {
    event(ev) {
      const k = `${ev.source}\u0000${ev.line}`;
      let r = byLine.get(k);
      if (r === undefined) byLine.set(k, (r = { events: [] }));
      r.events.push(ev);
    },
    opened() {},
    closed() {},
  };
  const detector = new Detector(ruleset, listener);
  const out: string[] = [];
  const problems: string[] = [];
  const shapes = new Map<string, number>();
  let linesRead = 0;
  let comments = 0;
  let unparsed = 0;
  let matchedLines = 0;
  let unmatched = 0;
  const perRule = new Map<string, number>();

  for (const input of resolveInputs(positionals)) {
    const texts: string[] = [];
    const src = detector.source({ label: input.label, format: config.input.format, time: { timeZone, year, refMs: input.mtimeMs ?? io.clock.now() } });
    await readLines(input, config.input.maxLineBytes, (line) => {
      texts.push(line);
      src.line(line);
    });
    src.end();
    // Comment lines of annotated logs are not log lines: counted apart, never "not parsed".
    const commentLines = texts.filter((t) => t.startsWith('#')).length;
    comments += commentLines;
    linesRead += src.stats.lines;
    unparsed += src.stats.unparsed - commentLines;
    const expectations = new Map<number, Expectation[] | 'none'>();
    let annotated = false;
    texts.forEach((t, i) => {
      const m = EXPECT.exec(t);
      if (m === null) return;
      annotated = true;
      const parsed = parseExpect(m[1]!, ruleNames);
      if (parsed !== 'none' && typeof parsed === 'string') problems.push(`${input.label}:${i + 1}: ${parsed}`);
      else expectations.set(i + 2, parsed); // annotates the next line
    });
    texts.forEach((t, i) => {
      const lineNo = i + 1;
      if (t.startsWith('#') || t.trim() === '') return;
      const evs = byLine.get(`${input.label}\u0000${lineNo}`)?.events ?? [];
      if (evs.length > 0) {
        matchedLines++;
        for (const e of evs) perRule.set(e.rule, (perRule.get(e.rule) ?? 0) + 1);
        if (v.quiet !== true) {
          for (const e of evs) out.push(`${input.label}:${lineNo}: ${e.rule} ip=${e.ip === null ? '-' : printable(e.ip)} user=${e.user === null ? '-' : printable(e.user)}`);
        }
      } else {
        unmatched++;
        const shape = shapeOf(t);
        if (shapes.size < 10_000 || shapes.has(shape)) shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
      }
      if (!annotated) return;
      const exp = expectations.get(lineNo);
      for (const p of compare(exp, evs)) problems.push(`${input.label}:${lineNo}: ${p}\n      ${printable(t)}`);
    });
  }

  const top = [...shapes].sort((a, b) => b[1] - a[1]).slice(0, 10);
  if (v.json === true) {
    io.stdout(`${JSON.stringify({ lines: linesRead, comments, not_parsed: unparsed, matched: matchedLines, unmatched, per_rule: Object.fromEntries(perRule), unmatched_shapes: top.map(([shape, count]) => ({ shape, count })), disagreements: problems })}\n`);
  } else {
    out.push('', `Lines: ${linesRead} read (${comments} comments), ${unparsed} not parsed, ${matchedLines} matched, ${unmatched} unmatched`);
    for (const [rule, n] of [...perRule].sort()) out.push(`  ${rule}: ${n}`);
    if (top.length > 0) {
      out.push('Most frequent unmatched line shapes:');
      for (const [shape, n] of top) out.push(`  ${String(n).padStart(6)}  ${printable(shape)}`);
    }
    if (problems.length > 0) {
      out.push('', `${problems.length} disagreement${problems.length === 1 ? '' : 's'} with "# expect:" annotations:`);
      for (const p of problems) out.push(`  ${p}`);
    }
    io.stdout(`${out.join('\n')}\n`);
  }
  if (problems.length > 0) {
    throw new AppError('RULE_TEST_FAILED', `${problems.length} line${problems.length === 1 ? '' : 's'} disagree with their "# expect:" annotations; see the list above`);
  }
  return 0;
}

function parseExpect(text: string, rules: ReadonlySet<string>): Expectation[] | 'none' | string {
  if (text.trim() === 'none') return 'none';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `"# expect:" must be followed by none, a JSON object or a JSON array (got ${text.slice(0, 60)})`;
  }
  const list = Array.isArray(doc) ? doc : [doc];
  const out: Expectation[] = [];
  for (const item of list) {
    if (item === null || typeof item !== 'object' || typeof (item as { rule?: unknown }).rule !== 'string') {
      return 'each expectation needs a "rule" name';
    }
    const { rule, ...fields } = item as Record<string, unknown>;
    if (!rules.has(rule as string)) return `expectation names unknown rule "${String(rule)}"`;
    const f: Record<string, string | null> = {};
    // Events hold what the patterns saw (controls escaped, see core/visible.ts): a value
    // written as the log holds it compares as the event shows it.
    for (const [k, val] of Object.entries(fields)) f[k] = val === null ? null : visibleLine(String(val));
    out.push({ rule: rule as string, fields: f });
  }
  return out;
}

function compare(exp: Expectation[] | 'none' | undefined, evs: readonly DetectionEvent[]): string[] {
  if (exp === undefined || exp === 'none') {
    return evs.length === 0 ? [] : [`expected no event, got ${evs.map(describe).join('; ')}`];
  }
  const problems: string[] = [];
  for (const e of exp) {
    const got = evs.filter((ev) => ev.rule === e.rule);
    if (got.length === 0) {
      problems.push(`expected ${e.rule}, no event`);
      continue;
    }
    const ok = got.some((ev) => Object.entries(e.fields).every(([k, want]) => fieldOf(ev, k) === want));
    if (!ok) problems.push(`expected ${e.rule} ${JSON.stringify(e.fields)}, got ${got.map(describe).join('; ')}`);
  }
  return problems;
}

function fieldOf(ev: DetectionEvent, k: string): string | null | undefined {
  switch (k) {
    case 'ip': return ev.ip;
    case 'user': return ev.user;
    case 'host': return ev.host;
    case 'program': return ev.program;
    case 'time': return new Date(ev.time).toISOString();
    default: return undefined;
  }
}

function describe(ev: DetectionEvent): string {
  return `${ev.rule} ip=${ev.ip === null ? '-' : printable(ev.ip)} user=${ev.user === null ? '-' : printable(ev.user)}`;
}

/** A line's shape: its program and message with numbers, addresses and hex collapsed. */
export function shapeOf(line: string): string {
  return line
    .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ /, '')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>')
    .replace(/\b[0-9a-f]*:[0-9a-f:]{4,}\b/gi, '<ip6>')
    .replace(/\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}
