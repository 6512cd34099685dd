// The daemon's answer to the status interface that http/ defines (http never imports the
// runtime): source health, per-rule counters, incidents, outbox depth and whether the
// daemon is healthy. Each call reads the parts' live counters at request time and must
// stay cheap (a scrape calls each once); it never changes anything.

import fs from 'node:fs';
import type { Detector } from '../core/detector.js';
import type { Coverage } from '../digest/coverage.js';
import type { SourceHealth, StatusProvider } from '../http/status.js';
import type { FileReader } from './reader.js';
import type { JournalReader } from './journal-reader.js';

export interface StatusParts {
  readonly files: FileReader;
  readonly journals: JournalReader;
  readonly coverage: Coverage;
  readonly detector: () => Detector;
  readonly alerted: () => number;
  readonly outboxDepth: () => number;
  readonly enrichCache: () => { hits: number; misses: number } | null;
  /** Problems that make the daemon unhealthy now (stopping, no save for long). */
  readonly problems: () => string[];
}

export function daemonStatus(p: StatusParts): StatusProvider {
  return {
    sources: (): SourceHealth[] => {
      const out: SourceHealth[] = [];
      for (const [file, f] of p.files.followed) {
        const st = f.src.stats;
        let lag: number | null = null;
        const pos = f.tail.position();
        try {
          if (pos !== null) lag = Math.max(0, fs.statSync(file).size - pos.offset);
        } catch {
          lag = null;
        }
        out.push({ source: file, kind: 'file', lines: st.lines, parsed: st.parsed, notParsed: st.unparsed, events: st.events, lastLineAt: p.coverage.lastGrowth(file), lagBytes: lag });
      }
      for (const j of p.journals.journals.values()) {
        const st = j.src.stats;
        out.push({ source: j.src.label, kind: 'journal', lines: st.lines, parsed: st.parsed, notParsed: st.unparsed, events: st.events, lastLineAt: p.coverage.lastGrowth(j.src.label), lagBytes: null });
      }
      return out;
    },
    ruleEvents: () => Object.fromEntries([...p.detector().ruleStats].map(([rule, s]) => [rule, s.events])),
    ruleKeys: () => Object.fromEntries([...p.detector().windows].map(([rule, w]) => [rule, { held: w.size, evicted: w.stats.evictedKeys }])),
    incidents: () => ({ alerted: p.alerted(), open: [...p.detector().windows.values()].reduce((a, w) => a + w.openIncidents, 0) }),
    outboxDepth: p.outboxDepth,
    enrichCache: p.enrichCache,
    health: () => {
      const problems = p.problems();
      if (p.files.followed.size === 0 && p.journals.journals.size === 0) problems.push('no source is being read');
      return { ok: problems.length === 0, problems };
    },
  };
}
