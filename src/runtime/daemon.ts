// The daemon composed from its parts: the file and journal readers feed the pipeline
// (detector -> report collector, events file, dashboard, alerts, coverage); the
// checkpointer saves positions after the outputs are durable; schedules flush reports and
// send the digest; the status answers http. It owns start, stop and reload and the order
// of each; the parts own the how. It never exits the process and never reads flags.
// Order: lines -> detector -> events and incident journal appended -> position advanced in
// memory; the state file is saved on a timer and at shutdown, each time after the events
// file and the journal were fsynced, so it is never ahead of them.

import os from 'node:os';
import path from 'node:path';
import { loadConfig, rulesOf } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Detector } from '../core/detector.js';
import type { CompiledRuleSet } from '../core/rules.js';
import { AlertDispatcher } from '../delivery/alerts.js';
import { Outbox } from '../delivery/outbox.js';
import { Coverage } from '../digest/coverage.js';
import { offlineOrigins, type Enricher } from '../enrich/index.js';
import { BOARD_INCIDENTS, LiveBoard } from '../http/live-board.js';
import { startHttpServer, type HttpServerHandle } from '../http/server.js';
import { ReportCollector } from '../sinks/collector.js';
import { EventsAppender } from '../sinks/events-jsonl.js';
import type { IncidentJournal } from '../sinks/incident-journal.js';
import type { OriginOf } from '../sinks/report.js';
import type { Sink } from '../sinks/types.js';
import { FileSet, sourceSpec, type SourceSpec } from '../sources/file-set.js';
import type { Clock } from '../util/clock.js';
import { schedule, type Schedule } from '../util/cron.js';
import { AppError, describeSystemError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/logger.js';
import { version } from '../util/version.js';
import { AlertSink } from './alert-sink.js';
import { Checkpointer } from './checkpointer.js';
import { JournalReader } from './journal-reader.js';
import { Pipeline } from './pipeline.js';
import { FileReader, warnSkippedOnce } from './reader.js';
import { flushReport, queueDigest } from './jobs.js';
import type { DaemonState, StateStore } from './state.js';
import { openStateDir, seedBoard } from './state-dir.js';
import { daemonStatus } from './status.js';

export interface DaemonOptions {
  readonly configFile: string | null;
  /** Files named on the command line, followed from their beginning. */
  readonly extraFiles: readonly string[];
  readonly eventsFile: string | undefined;
  readonly stateDir: string | undefined;
  readonly enricher: Enricher | null;
  /** --once: read what is there, then stop. */
  readonly once: boolean;
  readonly clock: Clock;
}

export class Daemon {
  readonly log: Logger;
  config: Config;
  private ruleset: CompiledRuleSet;
  private pipeline: Pipeline;
  private collector: ReportCollector;
  private readonly host = os.hostname();
  private readonly store: StateStore;
  private state: DaemonState;
  private readonly events: EventsAppender | null;
  private readonly incidents: IncidentJournal;
  private readonly coverage: Coverage;
  private readonly outbox: Outbox;
  private dispatcher: AlertDispatcher;
  private readonly alerts: AlertSink;
  /** What the live dashboard shows; only kept when http is enabled. */
  private readonly board: LiveBoard | null;
  private readonly originOf: OriginOf | undefined;
  private readonly files: FileReader;
  private readonly journals: JournalReader;
  private readonly checkpoints: Checkpointer;
  private readonly warnSkipped: ReturnType<typeof warnSkippedOnce>;
  /** Rules whose key cap evicted keys, warned about once. */
  private readonly keyCapWarned = new Set<string>();
  private http: HttpServerHandle | null = null;
  private timers: NodeJS.Timeout[] = [];
  private schedules: Schedule[] = [];
  private lastDigest: number | null;
  private lastFlush: number;
  private stopping = false;
  /** start() ran to its end: there is reading to drain and a state to save at stop. */
  private started = false;

  constructor(config: Config, private readonly opts: DaemonOptions) {
    this.config = config;
    this.log = createLogger({ level: config.log.level, fd: 1, pretty: process.stdout.isTTY === true });
    const board = config.http.enabled;
    const opened = openStateDir(opts.stateDir ?? config.state.dir, { clock: opts.clock, log: this.log, recent: board ? BOARD_INCIDENTS : 0 });
    this.store = opened.store;
    this.incidents = opened.incidents;
    const loaded = opened.loaded;
    const stateDir = path.dirname(this.store.file);
    this.state = loaded.state;
    this.originOf = opts.enricher === null ? undefined : offlineOrigins(opts.enricher);
    // Open incidents on the dashboard are read from the detector of the moment (a reload replaces it).
    this.board = board ? new LiveBoard(this.host, opts.clock.now(), this.originOf, (rule, key) => this.detector.openIncident(rule, key)) : null;
    const eventsBytes = this.state.eventsBytes;
    this.events = opts.eventsFile === undefined ? null : new EventsAppender(opts.eventsFile, eventsBytes === null ? null : { bytes: eventsBytes, file: this.state.eventsFile ?? null });
    this.coverage = new Coverage(opts.clock.now(), this.state.coverage ?? null);
    this.lastDigest = this.state.lastDigest ?? null;
    this.outbox = new Outbox({ dir: path.join(stateDir, 'outbox'), config, log: this.log, clock: opts.clock });
    this.dispatcher = new AlertDispatcher(config, this.host, this.outbox, this.log, opts.clock, this.state.rate ?? null);
    this.alerts = new AlertSink({
      journal: this.incidents, dispatcher: () => this.dispatcher, log: this.log, clock: opts.clock, originOf: this.originOf,
      enrichLater: (ips) => this.enrichLater(ips),
    });
    this.ruleset = rulesOf(config);
    this.collector = new ReportCollector(config.reports.maxEvents);
    this.pipeline = this.makePipeline();
    if (this.state.windows !== null) this.detector.importState(this.state.windows); // checked by StateStore.load
    if (this.board !== null) seedBoard(this.board, this.incidents, this.detector);
    this.lastFlush = opts.clock.now();
    this.warnSkipped = warnSkippedOnce(this.log);
    this.files = new FileReader({
      log: this.log, clock: opts.clock, pollMs: config.run.pollMs, maxLineBytes: config.input.maxLineBytes,
      saved: (file) => this.state.files[file] ?? null,
      source: (file, spec) => this.detector.source({ label: file, format: spec.format, time: this.timeContext() }),
      onBatch: (f, b) => {
        const src = f.src;
        if (src.nextLine !== b.firstLine) src.setNextLine(b.firstLine);
        for (const line of b.lines) src.line(line);
        src.settle();
        this.afterBatch(src.label, 'file', src.stats);
      },
      onCaughtUp: () => {
        if (!this.opts.once) this.log.info({ lines: this.files.lines(), alerts: this.alerts.fired }, 'Caught up with the files; following new lines (Ctrl-C or SIGTERM stops logward cleanly).');
      },
    }, this.fileSet(config));
    this.journals = new JournalReader({
      log: this.log, maxLineBytes: config.input.maxLineBytes, once: opts.once,
      cursor: (key) => this.state.journal[key] ?? null,
      source: (label) => this.detector.source({ label, format: 'rfc5424', time: this.timeContext() }),
      onBatch: (j, b) => {
        for (const line of b.lines) j.src.line(line);
        j.src.stats.unparsed += b.malformed;
        j.src.settle();
        this.afterBatch(j.src.label, 'journal', j.src.stats);
      },
    });
    this.checkpoints = new Checkpointer({ store: this.store, clock: opts.clock, log: this.log, collect: () => this.collectState(), beforeSave: () => this.syncOutputs() });
    if (loaded.problems.count > 0) this.checkpoints.markDirty(); // the checked state replaces the damaged file
  }

  private get detector(): Detector {
    return this.pipeline.detector;
  }

  start(): void {
    this.log.info({ version: version(), rules: this.ruleset.rules.map((r) => r.spec.name), state: this.store.file }, 'logward is starting.');
    // Before the first event is appended: a kill -9 before the first checkpoint below must
    // find the events file's size at start (and which file it is) in the state, or the
    // restart would append the events of the lines it reads again a second time.
    if (this.events !== null) {
      this.checkpoints.markDirty();
      this.checkpoints.save();
    }
    this.files.open();
    this.journals.start(this.config.sources);
    const unreadable = this.journals.journals.size === 0 ? this.files.noneReadable() : null;
    if (unreadable !== null) {
      throw new AppError('INPUT_UNREADABLE', `no source can be read: ${unreadable.join(', ')}; give logward read access (e.g. the adm group) or fix config: sources`);
    }
    this.started = true;
    this.logSources();
    // The ends of start_at: end sources (a journal's pinned cursor) are positions too,
    // even when no line came yet.
    this.checkpoints.markDirty();
    this.checkpoints.save();
    if (this.stopping) return;
    this.files.watch();
    this.timers.push(setInterval(() => this.dispatcher.tick(), 60_000));
    this.outbox.start();
    this.timers.push(setInterval(() => this.checkpoints.save(), this.config.run.checkpointMs));
    const onError = (err: unknown): void => void this.log.error({ err: describeSystemError(err) }, 'A scheduled task failed.');
    this.schedules.push(schedule(this.config.run.reportCron, this.config.run.timeZone, () => this.flushReport('schedule'), onError));
    this.schedules.push(schedule(this.config.run.digestCron, this.config.run.timeZone, () => this.sendDigest(), onError));
  }

  /** --once: resolves when every journal and file was read to its end. */
  async caughtUp(): Promise<void> {
    await this.journals.finished();
    await this.files.caughtUp();
  }

  /** Drains every source, writes the report of what is pending, saves the state. */
  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.files.stop();
    for (const t of this.timers) clearInterval(t);
    for (const s of this.schedules) s.stop();
    await this.http?.close();
    await this.journals.stop();
    if (this.started) {
      this.files.pollAll();
      this.flushReport('shutdown');
      this.checkpoints.save();
    }
    this.files.close();
    this.events?.close();
    this.incidents.close();
    this.dispatcher.close();
    // A last delivery attempt for what is due; what fails stays in the outbox.
    if (this.started) await this.outbox.flush();
    await this.outbox.stop();
    await this.opts.enricher?.close();
    if (!this.started) return;
    const lines = this.files.lines() + this.journals.lines();
    const failure = this.checkpoints.failure;
    if (failure === null) this.log.info({ reason, lines, alerts: this.alerts.fired }, 'logward stopped; positions saved.');
    else this.log.error({ reason, lines, alerts: this.alerts.fired, file: this.store.file, err: failure }, 'logward stopped, but the last positions could not be saved; the next start goes on from the previous checkpoint.');
  }

  /** SIGHUP: a valid new configuration replaces the old one; an invalid one is refused. */
  reload(): void {
    let next: Config;
    let files: FileSet;
    try {
      next = loadConfig(this.opts.configFile);
      files = this.fileSet(next);
    } catch (err) {
      const details = err instanceof AppError ? err.details : [];
      this.log.error({ problems: details }, `The new configuration is invalid (${err instanceof Error ? err.message : String(err)}); the running one stays.`);
      return;
    }
    this.files.pollAll();
    // The new tails start from the positions of the old ones: record them first.
    this.checkpoints.markDirty();
    this.checkpoints.save();
    const windows = this.detector.exportState();
    // Alert-mail thresholds and limits follow the new config; the outbox (SMTP, webhook
    // URL, retries) keeps the one it started with until a restart.
    const rate = this.dispatcher.state();
    this.dispatcher.close();
    this.dispatcher = new AlertDispatcher(next, this.host, this.outbox, this.log, this.opts.clock, rate);
    this.config = next;
    // A new http.token ends the dashboard sessions; host, port and bounds wait for a restart.
    this.http?.reload(next.http);
    this.ruleset = rulesOf(next);
    this.pipeline = this.makePipeline();
    // Open windows carry over to the rules that still exist: a reload loses no attack.
    this.detector.importState(windows);
    this.journals.clear();
    this.files.replace(files);
    this.journals.start(this.config.sources);
    this.checkpoints.save();
    this.log.info({ rules: this.ruleset.rules.map((r) => r.spec.name) }, 'Configuration reloaded; files reopened.');
  }

  /** The /metrics and /healthz endpoint, when http.enabled. A failure to bind stops the start. */
  async startHttp(): Promise<void> {
    if (!this.config.http.enabled || this.stopping) return;
    try {
      this.http = await startHttpServer(this.config.http, this.status(), this.log, { board: this.board, clock: this.opts.clock });
    } catch (err) {
      throw new AppError('HTTP_UNAVAILABLE', `cannot serve the dashboard and metrics on ${this.config.http.host}:${this.config.http.port} (${describeSystemError(err)}); pick another http.port or turn http.enabled off`);
    }
    this.log.info({ url: this.http.url }, 'Serving the dashboard, /metrics and /healthz.');
  }

  /** The daily digest: what happened since the last one, sent even when nothing did. */
  sendDigest(): void {
    if (!this.config.mail.digest) return;
    const end = this.opts.clock.now();
    for (const f of this.files.followed.values()) this.coverage.source(f.src.label, 'file');
    for (const j of this.journals.journals.values()) this.coverage.source(j.src.label, 'journal');
    queueDigest({
      host: this.host, start: this.lastDigest ?? end - 86_400_000, end, timeZone: this.config.run.timeZone, journalFile: this.incidents.file,
      coverage: this.coverage, ruleset: this.ruleset, originOf: this.originOf, outbox: this.outbox, log: this.log, open: this.detector.openIncidents(),
    });
    this.lastDigest = end;
    this.checkpoints.markDirty();
    this.checkpoints.save();
  }

  private flushReport(why: string): void {
    const c = this.collector;
    // Open incidents are reported as they stand now, not with the count they opened with.
    const open = this.detector.openIncidents();
    c.refresh(open);
    this.collector = new ReportCollector(this.config.reports.maxEvents, open);
    for (const [file, f] of this.files.followed) c.sources.push({ file, stats: { ...f.src.stats }, cut: f.tail.cutLines });
    for (const j of this.journals.journals.values()) c.sources.push({ file: j.src.label, stats: { ...j.src.stats }, cut: 0 });
    const now = this.opts.clock.now();
    flushReport(c, { config: this.config, ruleset: this.ruleset, originOf: this.originOf, now, since: this.lastFlush, why, log: this.log });
    this.lastFlush = now;
  }

  private makePipeline(): Pipeline {
    const coverage: Sink = { name: 'coverage', unmatched: (label, message) => this.coverage.unmatched(label, label.startsWith('journal') ? 'journal' : 'file', message) };
    // Reads this.collector at each call: a report flush swaps it without rebuilding the detector.
    const collector: Sink = { name: 'report', event: (ev) => this.collector.event(ev), opened: (i) => this.collector.opened(i), closed: (i) => this.collector.closed(i) };
    const sinks: Sink[] = [collector];
    if (this.events !== null) sinks.push(this.events);
    if (this.board !== null) sinks.push({ name: 'dashboard', event: (ev) => this.board!.event(ev), opened: (i) => this.board!.opened(i), closed: (i) => this.board!.closed(i) });
    sinks.push(this.alerts, coverage);
    return new Pipeline(this.ruleset, sinks, (sink, what, err) => this.log.error({ sink, on: what, err: describeSystemError(err) }, 'A sink failed; the other sinks still got this event.'));
  }

  /** The file sources of a config (and of the command line); a config that names none and no journal is refused. */
  private fileSet(config: Config): FileSet {
    const specs: SourceSpec[] = [];
    for (const s of config.sources) if (s.kind === 'file') specs.push(sourceSpec({ path: s.path, format: s.format ?? config.input.format, startAt: s.startAt, followSymlinks: s.followSymlinks }));
    for (const f of this.opts.extraFiles) specs.push(sourceSpec({ path: f, format: config.input.format, startAt: 'beginning', followSymlinks: false }));
    if (specs.length === 0 && !config.sources.some((s) => s.kind === 'journal')) throw new AppError('USAGE', 'nothing to follow: add sources to the config or name files; see `logward run --help`');
    return new FileSet(specs, this.warnSkipped);
  }

  private timeContext(): { timeZone: string; year: number | null; refMs: number } {
    return { timeZone: this.config.input.timeZone, year: this.config.input.year, refMs: this.opts.clock.now() };
  }

  private afterBatch(label: string, kind: 'file' | 'journal', stats: Parameters<Coverage['observe']>[2]): void {
    this.events?.write();
    this.coverage.observe(label, kind, stats, this.opts.clock.now());
    this.checkpoints.markDirty();
  }

  private collectState(): DaemonState {
    const files: DaemonState['files'] = { ...this.state.files };
    for (const [file, f] of this.files.followed) {
      const pos = f.tail.position();
      if (pos !== null) files[file] = pos;
    }
    this.state = {
      version: this.state.version, files, journal: { ...this.state.journal, ...this.journals.positions() }, eventsBytes: this.events?.size ?? null, eventsFile: this.events?.identity ?? null,
      windows: this.detector.exportState(), coverage: this.coverage.snapshot(), rate: this.dispatcher.state(), lastDigest: this.lastDigest,
    };
    return this.state;
  }

  /**
   * Makes the events file and the incident journal durable. Positions only reach the
   * state file through a save, which calls this first: a checkpoint never covers a line
   * whose event or alert is not on disk, with one fsync per checkpoint instead of one per
   * batch of lines.
   */
  private syncOutputs(): void {
    this.warnKeyCap();
    this.events?.sync();
    try {
      this.dispatcher.sync();
    } catch (err) {
      this.log.error({ err: describeSystemError(err) }, 'Syncing the alert stream failed.');
    }
    this.alerts.sync();
  }

  /** Once per rule: a rule at its key cap forgets the stalest keys, which an operator should know. */
  private warnKeyCap(): void {
    for (const [rule, w] of this.detector.windows) {
      if (w.stats.evictedKeys === 0 || this.keyCapWarned.has(rule)) continue;
      this.keyCapWarned.add(rule);
      this.log.warn({ rule, maxKeysPerRule: this.config.detection.limits.maxKeysPerRule, evicted: w.stats.evictedKeys }, 'A rule holds limits.max_keys_per_rule keys; the least recently seen are dropped to make room (a flood of addresses, or raise the limit). Counted in logward_rule_keys_evicted_total; logged once per rule.');
    }
  }

  private status(): ReturnType<typeof daemonStatus> {
    return daemonStatus({
      files: this.files, journals: this.journals, coverage: this.coverage, detector: () => this.detector, alerted: () => this.alerts.fired,
      outboxDepth: () => this.outbox.pendingCount(), enrichCache: () => this.opts.enricher?.cacheCounters ?? null,
      problems: () => {
        const problems: string[] = [];
        if (this.stopping) problems.push('logward is stopping');
        if (this.checkpoints.staleFor(Math.max(60_000, 10 * this.config.run.checkpointMs))) problems.push('reading positions could not be saved recently');
        return problems;
      },
    });
  }

  /**
   * Asks the online provider (when one is configured) about an alert's addresses in the
   * background: the alert has gone out already; the answers fill the cache for the digest,
   * the reports and later alerts.
   */
  private enrichLater(ips: readonly string[]): void {
    const e = this.opts.enricher;
    if (e === null || this.config.enrich.provider === 'none') return;
    for (const ip of ips.slice(0, 10)) void e.lookup(ip).catch(() => undefined);
  }

  private logSources(): void {
    this.journals.logStarted();
    for (const spec of this.files.specs()) {
      const files = [...this.files.followed.values()].filter((f) => f.spec === spec);
      this.log.info({ source: spec.given, kind: spec.kind, files: files.length, lines: files.reduce((a, f) => a + f.src.stats.lines, 0) }, files.length === 0 ? 'Source has no file yet.' : 'Following source.');
    }
  }
}
