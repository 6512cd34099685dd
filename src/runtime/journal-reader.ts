// Reading the systemd journal sources: one journalctl follower per distinct filter, each
// started from its saved cursor (or its start_at), its batches handed to `onBatch`, and
// what journalctl reports about itself logged. It never parses or detects, and never
// saves a cursor: the daemon collects positions() for its checkpoint.

import type { DetectorSource } from '../core/detector.js';
import type { JournalFilter, SourceConfig } from '../config/types.js';
import { JournalTail, journalKey, type JournalBatch, type JournalEvent } from '../sources/journal-tail.js';
import type { Logger } from '../util/logger.js';

export interface FollowedJournal {
  readonly key: string;
  readonly tail: JournalTail;
  readonly src: DetectorSource;
  readonly startAt: 'end' | 'beginning';
}

export interface JournalReaderOptions {
  readonly log: Logger;
  readonly maxLineBytes: number;
  /** --once: read to the journal's end, then stop. */
  readonly once: boolean;
  readonly cursor: (key: string) => string | null;
  readonly source: (label: string) => DetectorSource;
  readonly onBatch: (j: FollowedJournal, b: JournalBatch) => void;
}

export class JournalReader {
  readonly journals = new Map<string, FollowedJournal>();

  constructor(private readonly opts: JournalReaderOptions) {}

  /** Starts a follower for every journal source not followed yet. */
  start(sources: readonly SourceConfig[]): void {
    for (const s of sources) {
      if (s.kind !== 'journal') continue;
      const key = journalKey(s.journal);
      if (this.journals.has(key)) continue;
      const label = journalLabel(s.journal);
      const j: FollowedJournal = {
        key,
        startAt: s.startAt,
        src: this.opts.source(label),
        tail: new JournalTail(s.journal, {
          cursor: this.opts.cursor(key),
          startAt: s.startAt,
          follow: !this.opts.once,
          maxLineBytes: this.opts.maxLineBytes,
          onBatch: (b) => this.opts.onBatch(j, b),
          onEvent: (e) => this.onEvent(label, e),
        }),
      };
      this.journals.set(key, j);
      j.tail.start();
    }
  }

  /** Resolves when every journal source has read to the journal's end (--once). */
  async finished(): Promise<void> {
    for (const j of this.journals.values()) await j.tail.finished();
  }

  async stop(): Promise<void> {
    for (const j of this.journals.values()) await j.tail.stop();
  }

  /** SIGHUP: every follower stops; start() then follows the new sources from the saved cursors. */
  clear(): void {
    for (const j of this.journals.values()) void j.tail.stop();
    this.journals.clear();
  }

  /** Cursors by source key, of the followers that read something. */
  positions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, j] of this.journals) {
      const cursor = j.tail.position();
      if (cursor !== null) out[key] = cursor;
    }
    return out;
  }

  lines(): number {
    let n = 0;
    for (const j of this.journals.values()) n += j.src.stats.lines;
    return n;
  }

  logStarted(): void {
    for (const j of this.journals.values()) {
      this.opts.log.info({ source: j.src.label, from: j.tail.position() !== null ? 'cursor' : j.startAt }, 'Following the systemd journal.');
    }
  }

  private onEvent(label: string, e: JournalEvent): void {
    const log = this.opts.log;
    switch (e.kind) {
      case 'started': log.debug({ source: label, from: e.from, args: e.args }, 'Reading the journal.'); break;
      case 'exited':
        if (e.code === 0 || e.code === null) log.warn({ source: label, code: e.code, stderr: e.stderr, retryMs: e.retryMs }, 'journalctl stopped; it is started again after the last entry read.');
        else log.error({ source: label, code: e.code, stderr: e.stderr, retryMs: e.retryMs }, 'journalctl failed; check the journal source (files, directory) and that logward may read the journal (group systemd-journal). While following, it is started again after retryMs, from the last entry read.');
        break;
      case 'failed': log.error({ source: label, err: e.message, retryMs: e.retryMs }, 'The journal cannot be read; install journalctl (systemd) or remove the journal source, and check that logward may read the journal (group systemd-journal).'); break;
      case 'no-unit': log.warn({ source: label, units: e.patterns, retryMs: e.retryMs }, 'No unit in the journal matches the source\'s unit patterns (yet); nothing is read from it until one does (looked up again after retryMs while following).'); break;
    }
  }
}

/** "journal", "journal(ssh.service,sshd)" or "journal(file x.journal)": how messages name a journal source. */
export function journalLabel(f: JournalFilter): string {
  const parts = [...f.units, ...f.identifiers];
  if (f.files.length > 0) parts.push(...f.files.map((x) => `file ${x}`));
  if (f.directory !== null) parts.push(`dir ${f.directory}`);
  return parts.length === 0 ? 'journal' : `journal(${parts.join(',')})`;
}
