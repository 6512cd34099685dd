// `logward run`: the daemon. It follows the configured sources (and files named on the
// command line) through rotation, feeds every line to the same detection core as `scan`,
// prints alerts as they fire, appends events, writes reports on a schedule and keeps
// checkpoints so a restart, even after kill -9, continues where reading stopped.
// Order: lines -> detector -> events and incident journal appended -> position advanced
// in memory; the state file is saved on a timer and at shutdown, each time after the
// events file and the journal were fsynced, so it is never ahead of them.

import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { Detector, type DetectorSource } from '../core/detector.js';
import type { CompiledRuleSet } from '../core/rules.js';
import { isoUtc } from '../core/time.js';
import type { DetectionEvent, FormatName, Incident } from '../core/types.js';
import { createLogger, type Logger } from '../util/logger.js';
import { schedule, type Schedule } from '../util/cron.js';
import { limitHeapGrowth } from '../runtime/heap.js';
import { StateStore, type DaemonState } from '../sources/checkpoint.js';
import { FileTail, type TailBatch, type TailEvent, type TailProblem } from '../sources/file-tail.js';
import { fileType, inside } from '../sources/paths.js';
import { JournalTail, journalKey, type JournalBatch, type JournalEvent, type JournalFilter } from '../sources/journal-tail.js';
import { IncidentJournal, readJournal, type JournalRecord } from '../sinks/incident-journal.js';
import { Coverage } from '../digest/coverage.js';
import { buildDigest, digestMail, ruleFamilies } from '../digest/digest.js';
import { oneLine } from '../util/text.js';
import { AlertDispatcher } from '../delivery/alerts.js';
import { Outbox } from '../delivery/outbox.js';
import os from 'node:os';
import { watchDirs, type DirWatcher } from '../sources/watch.js';
import { ReportCollector } from '../sinks/collector.js';
import { EventsAppender } from '../sinks/events-jsonl.js';
import { alertJson, writeReport, type OriginOf } from '../sinks/report.js';
import { ATTRIBUTION, Enricher, offlineOrigins } from '../enrich/index.js';
import { startHttpServer } from '../http/server.js';
import { LiveBoard } from '../http/live-board.js';
import type { SourceHealth, StatusProvider } from '../http/status.js';
import { AppError, describeSystemError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import { wildcardRegex, hasWildcard } from '../util/glob.js';
import { version } from '../util/version.js';
import { parseArgs, type OptionSpec } from './args.js';
import { selectRuleSet } from './select.js';

export const RUN_OPTIONS: readonly OptionSpec[] = [
  { name: 'config', kind: 'string' },
  { name: 'events', kind: 'string' },
  { name: 'state-dir', kind: 'string' },
  { name: 'once', kind: 'boolean' },
];

export const RUN_HELP = `usage: logward run [--config FILE] [--events FILE] [--state-dir DIR] [--once] [FILE...]

Follows the configured sources (config: sources) and every FILE named here, through
rotation and restarts, and prints alerts as they fire. Reports are written on the
run.report_cron schedule and at shutdown. SIGTERM/SIGINT stop cleanly (drain, report,
save); SIGHUP reloads the configuration (a new one that fails validation is refused and
the old one keeps running).

  --config FILE      configuration (default: config/logward.yaml)
  --events FILE      append every matched event as JSON Lines to FILE
  --state-dir DIR    where checkpoints are kept (default: state.dir, data)
  --once             read what is there now, then stop as on SIGTERM
`;

/** Delay of the follow-up read after a change event (see Daemon.trail). */
const TRAIL_MS = 15;
/** chokidar drops a file's change events for this long after one it emitted (plus slack). */
const WATCH_THROTTLE_MS = 60;
/**
 * Bytes read from one file per turn of the event loop (about 0.1 s of detection here): a
 * backlog of gigabytes is read in slices, so checkpoints, /metrics and SIGTERM are served
 * while it is caught up.
 */
const READ_BUDGET = 1024 * 1024;

/** Names of rotated files: never followed as sources of their own (they are drained by fingerprint). */
const ROTATED = /(?:\.\d+|[-.]\d{8}(?:\d{2})?|\.(?:gz|xz|bz2|zst|lz4|old))$/;

interface SourceSpec {
  /** As configured, for messages. */
  given: string;
  kind: 'file' | 'dir' | 'pattern';
  /** The file (kind file) or the directory to look in. */
  path: string;
  match: RegExp | null;
  format: FormatName | 'auto';
  startAt: 'end' | 'beginning';
  /** Follow links in a directory or pattern source that lead outside its directory. */
  followSymlinks: boolean;
}

interface Followed {
  tail: FileTail;
  src: DetectorSource;
  spec: SourceSpec;
}

interface FollowedJournal {
  key: string;
  tail: JournalTail;
  src: DetectorSource;
  filter: JournalFilter;
  startAt: 'end' | 'beginning';
}

export interface RunIO {
  clock: Clock;
  /** Resolves when the daemon should stop (tests); signals are wired by the command itself. */
  stop?: Promise<void>;
}

export async function runCommand(argv: readonly string[], io: RunIO): Promise<number> {
  const { values: v, positionals } = parseArgs(argv, RUN_OPTIONS, 'run');
  const configFile = (v.config as string | undefined) ?? null;
  const config = loadConfig(configFile);
  process.umask(config.umask); // before any report, state or outbox file is created
  limitHeapGrowth();
  // Offline databases load before reading starts; a failure only costs the origins.
  const enricher = config.enrich.enabled ? await Enricher.open(config, { log: createLogger({ level: config.log.level, fd: 1 }), clock: io.clock, env: process.env }) : null;
  const d = new Daemon(config, configFile, positionals, {
    eventsFile: v.events as string | undefined,
    once: v.once === true,
    stateDir: v['state-dir'] as string | undefined,
    clock: io.clock,
    enricher,
  });
  // Handlers first: a SIGTERM that arrives while the backlog is read still stops cleanly.
  const stopped = new Promise<string>((resolve) => {
    const on = (sig: NodeJS.Signals): void => resolve(sig);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    void io.stop?.then(() => resolve('stop'));
  });
  const onHup = (): void => d.reload();
  process.on('SIGHUP', onHup);
  d.start();
  await d.startHttp();
  if (v.once === true) {
    const read = (async (): Promise<string> => {
      await d.journalsFinished();
      await d.filesCaughtUp();
      return 'once';
    })();
    // A backlog is read in slices: SIGTERM between two of them stops as it would a daemon.
    await d.stop(await Promise.race([read, stopped]));
    return 0;
  }
  const reason = await stopped;
  process.off('SIGHUP', onHup);
  const timer = setTimeout(() => {
    d.log.error({ timeoutMs: d.config.run.shutdownTimeoutMs }, 'Shutdown took too long; exiting without finishing it.');
    process.exit(70);
  }, d.config.run.shutdownTimeoutMs);
  timer.unref();
  await d.stop(reason);
  clearTimeout(timer);
  return 0;
}

interface DaemonOptions {
  eventsFile: string | undefined;
  enricher?: Enricher | null;
  once?: boolean;
  stateDir: string | undefined;
  clock: Clock;
}

export class Daemon {
  readonly log: Logger;
  config: Config;
  private ruleset: CompiledRuleSet;
  private detector: Detector;
  private collector: ReportCollector;
  private readonly followed = new Map<string, Followed>();
  private readonly trailing = new Map<Followed, NodeJS.Timeout>();
  private readonly lastChange = new Map<Followed, number>();
  /** Files read up to the budget with more to read: read on at the next turn. */
  private readonly catching = new Set<Followed>();
  private caughtUpWaiters: (() => void)[] = [];
  private caughtUpLogged = false;
  /** The last read error of each failing source (logged once until a read succeeds). */
  private readonly failing = new Map<Followed, string>();
  /** Files of directory sources skipped (links leading outside, FIFOs), warned about once. */
  private readonly skipped = new Set<string>();
  /** Where configured files that are links lead (as found at start) -> the configured path. */
  private readonly linked = new Map<string, string>();
  private readonly journals = new Map<string, FollowedJournal>();
  private readonly incidents: IncidentJournal;
  private readonly once: boolean;
  private readonly host = os.hostname();
  private readonly coverage: Coverage;
  private readonly outbox: Outbox;
  private dispatcher: AlertDispatcher;
  private lastDigest: number | null;
  private http: { url: string; close(): Promise<void> } | null = null;
  /** What the live dashboard shows; only kept when http is enabled. */
  private board: LiveBoard | null = null;
  private specs: SourceSpec[] = [];
  private readonly store: StateStore;
  private state: DaemonState;
  private readonly events: EventsAppender | null;
  private watcher: DirWatcher | null = null;
  private timers: NodeJS.Timeout[] = [];
  private schedules: Schedule[] = [];
  private dirty = false;
  /** Wall-clock ms of the last successful (or unneeded) save, for /healthz. */
  private lastSaveOk = Date.now();
  /** Why the last save failed (null: it worked); logged once per cause. */
  private saveFailing: string | null = null;
  /** Rules whose key cap evicted keys, warned about once. */
  private readonly keyCapWarned = new Set<string>();
  private stopping = false;
  private lastFlush: number;
  private alertsFired = 0;

  constructor(config: Config, private readonly configFile: string | null, private readonly extraFiles: readonly string[], private readonly opts: DaemonOptions) {
    this.config = config;
    this.log = createLogger({ level: config.log.level, fd: 1, pretty: process.stdout.isTTY === true });
    this.store = new StateStore(opts.stateDir ?? config.state.dir);
    let loaded;
    try {
      loaded = this.store.load();
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot read the state file ${this.store.file} (${describeSystemError(err)}); check the permissions of the state directory or pass --state-dir`);
    }
    this.state = loaded.state;
    if (loaded.movedAside !== null) this.log.warn({ file: loaded.movedAside }, 'The state file was damaged; it was moved aside and reading starts afresh.');
    this.once = opts.once === true;
    const enricher = opts.enricher ?? null;
    this.originOf = enricher === null ? undefined : offlineOrigins(enricher);
    if (config.http.enabled) this.board = new LiveBoard(this.host, opts.clock.now(), this.originOf);
    this.events = opts.eventsFile === undefined ? null : new EventsAppender(opts.eventsFile, this.state.eventsBytes);
    try {
      this.incidents = new IncidentJournal(path.dirname(this.store.file));
    } catch (err) {
      throw new AppError('OUTPUT_UNWRITABLE', `cannot open the incident journal in ${path.dirname(this.store.file)} (${describeSystemError(err)}); check the permissions of the state directory or pass --state-dir`);
    }
    if (this.incidents.damaged > 0) this.log.warn({ file: this.incidents.file, lines: this.incidents.damaged }, 'The incident journal had damaged lines (a write cut by a crash); they were dropped.');
    this.coverage = new Coverage(opts.clock.now(), this.state.coverage ?? null);
    this.lastDigest = this.state.lastDigest ?? null;
    this.outbox = new Outbox({ dir: path.join(path.dirname(this.store.file), 'outbox'), config, log: this.log, clock: opts.clock });
    this.dispatcher = new AlertDispatcher(config, this.host, this.outbox, this.log, opts.clock, this.state.rate ?? null);
    this.ruleset = selectRuleSet(config, {}, 'run');
    this.collector = new ReportCollector(config.reports.maxEvents);
    this.detector = this.makeDetector();
    if (this.state.windows !== null) this.detector.importState(this.state.windows);
    // Incidents still open at the last stop are on the dashboard from the start, not only
    // once they next change.
    for (const i of this.detector.openIncidents()) this.board?.opened(i);
    this.lastFlush = opts.clock.now();
  }

  start(): void {
    this.log.info({ version: version(), rules: this.ruleset.rules.map((r) => r.spec.name), state: this.store.file }, 'logward is starting.');
    this.specs = this.resolveSources();
    for (const spec of this.specs) this.discover(spec);
    for (const f of this.followed.values()) this.pollOne(f);
    this.startJournals();
    this.reportSources();
    this.save();
    if (this.stopping) return;
    this.settleCatchUp();
    const dirs = this.specs.map((s) => (s.kind === 'file' ? path.dirname(s.path) : s.path));
    for (const s of this.specs) {
      // A configured file that is a link is written where the link leads: watch there too.
      if (s.kind !== 'file') continue;
      try {
        const real = fs.realpathSync(s.path);
        if (real !== s.path) {
          this.linked.set(real, s.path);
          dirs.push(path.dirname(real));
        }
      } catch {
        // not there (yet): the re-check finds it
      }
    }
    this.watcher = watchDirs(
      dirs.filter((dir) => fs.existsSync(dir)),
      (file) => this.onChange(file),
      (err) => this.log.warn({ err: err.message }, 'A file watcher failed; the periodic re-check still reads every source.'),
      () => {
        if (!this.stopping) this.pollAll();
      },
    );
    this.timers.push(setInterval(() => this.pollAll(), this.config.run.pollMs));
    this.timers.push(setInterval(() => this.dispatcher.tick(), 60_000));
    this.outbox.start();
    this.timers.push(setInterval(() => this.save(), this.config.run.checkpointMs));
    const onError = (err: unknown): void => void this.log.error({ err: describeSystemError(err) }, 'A scheduled task failed.');
    this.schedules.push(schedule(this.config.run.reportCron, this.config.run.timeZone, () => this.flushReport('schedule'), onError));
    this.schedules.push(schedule(this.config.run.digestCron, this.config.run.timeZone, () => this.sendDigest(), onError));
  }

  /** Drains every source, writes the report of what is pending, saves the state. */
  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.settleCatchUp();
    for (const t of this.timers) clearInterval(t);
    for (const t of this.trailing.values()) clearTimeout(t);
    this.trailing.clear();
    for (const s of this.schedules) s.stop();
    await this.watcher?.close();
    await this.http?.close();
    for (const j of this.journals.values()) await j.tail.stop();
    this.pollAll();
    this.flushReport('shutdown');
    this.save();
    for (const f of this.followed.values()) f.tail.close();
    this.events?.close();
    this.incidents.close();
    this.dispatcher.close();
    // A last delivery attempt for what is due; what fails stays in the outbox.
    await this.outbox.flush();
    await this.outbox.stop();
    await this.opts.enricher?.close();
    const lines = this.fileLines() + [...this.journals.values()].reduce((a, j) => a + j.src.stats.lines, 0);
    if (this.saveFailing === null) this.log.info({ reason, lines, alerts: this.alertsFired }, 'logward stopped; positions saved.');
    else this.log.error({ reason, lines, alerts: this.alertsFired, file: this.store.file, err: this.saveFailing }, 'logward stopped, but the last positions could not be saved; the next start goes on from the previous checkpoint.');
  }

  /** SIGHUP: a valid new configuration replaces the old one; an invalid one is refused. */
  reload(): void {
    let next: Config;
    try {
      next = loadConfig(this.configFile);
    } catch (err) {
      const details = err instanceof AppError ? err.details : [];
      this.log.error({ problems: details }, `The new configuration is invalid (${err instanceof Error ? err.message : String(err)}); the running one stays.`);
      return;
    }
    this.pollAll();
    // The new tails start from the positions of the old ones: record them first.
    this.dirty = true;
    this.save();
    const windows = this.detector.exportState();
    // Alert-mail thresholds and limits follow the new config; the outbox (SMTP, webhook
    // URL, retries) keeps the one it started with until a restart.
    const rate = this.dispatcher.state();
    this.dispatcher.close();
    this.dispatcher = new AlertDispatcher(next, this.host, this.outbox, this.log, this.opts.clock, rate);
    this.config = next;
    this.ruleset = selectRuleSet(next, {}, 'run');
    this.detector = this.makeDetector();
    // Open windows carry over to the rules that still exist: a reload loses no attack.
    this.detector.importState(windows);
    for (const f of this.followed.values()) f.tail.close();
    this.followed.clear();
    this.lastChange.clear();
    this.failing.clear();
    for (const j of this.journals.values()) void j.tail.stop();
    this.journals.clear();
    this.specs = this.resolveSources();
    for (const spec of this.specs) this.discover(spec);
    this.pollAll();
    this.startJournals();
    this.save();
    this.log.info({ rules: this.ruleset.rules.map((r) => r.spec.name) }, 'Configuration reloaded; files reopened.');
  }

  private makeDetector(): Detector {
    return new Detector(this.ruleset, {
      event: (ev: DetectionEvent) => {
        this.collector.event(ev);
        this.events?.add(ev);
        this.board?.event(ev);
      },
      opened: (i: Incident) => {
        this.collector.opened(i);
        this.board?.opened(i);
        if (this.incidents.hasOpened(i.id)) {
          // Re-read after a crash: this incident was journaled (and alerted) before.
          this.log.debug({ id: i.id, rule: i.rule }, 'Incident already alerted before a restart; not alerted again.');
          return;
        }
        const alert = alertJson(i, this.originOf);
        this.enrichLater(i.ips);
        const body = JSON.stringify(alert); // once, for the stream and the journal
        // Out first, journal second: a crash in between re-reads the lines, and the
        // outbox drops the second copy by id (at least once, never lost).
        this.dispatcher.alert(i, alert, body);
        this.journal('opened', i.id, body);
        this.alertsFired++;
        // The log line carries the alert without its samples (the journal and the stream have them).
        const { samples: _s, ...brief } = alert;
        this.log.warn({ alert: brief }, `ALERT ${i.rule} at ${isoUtc(i.first)} (count=${i.count})${i.key === null ? '' : ` ${i.keyField}=${oneLine(i.key)}`}`);
      },
      unmatched: (src, message) => this.coverage.unmatched(src.label, src.label.startsWith('journal') ? 'journal' : 'file', message),
      closed: (i: Incident) => {
        this.collector.closed(i);
        this.board?.closed(i);
        if (!this.incidents.hasClosed(i.id)) {
          // The final counts, for the digest; the samples were journaled when it opened.
          const { samples: _samples, ...final } = alertJson(i);
          this.journal('closed', i.id, JSON.stringify(final));
        }
      },
    });
  }

  /** An address's origin from the offline databases and the cache (never waits). */
  private readonly originOf: OriginOf | undefined;

  /**
   * Asks the online provider (when one is configured) about an alert's addresses in the
   * background: the alert has gone out already; the answers fill the cache for the digest,
   * the reports and later alerts.
   */
  private enrichLater(ips: readonly string[]): void {
    const e = this.opts.enricher;
    if (e == null || this.config.enrich.provider === 'none') return;
    for (const ip of ips.slice(0, 10)) void e.lookup(ip).catch(() => undefined);
  }

  private syncJournal(): void {
    try {
      this.incidents.sync();
    } catch (err) {
      this.log.error({ file: this.incidents.file, err: describeSystemError(err) }, 'Syncing the incident journal failed; alerts of the last lines may be repeated after a crash.');
    }
  }

  /** Appends to the incident journal; a failure is logged and the alert still goes out. */
  private journal(type: 'opened' | 'closed', id: string, alertBody: string): void {
    try {
      this.incidents.appendJson(type, id, new Date(this.opts.clock.now()).toISOString(), alertBody);
    } catch (err) {
      this.log.error({ file: this.incidents.file, err: describeSystemError(err) }, 'Writing the incident journal failed; this alert may be repeated after a crash.');
    }
  }

  private startJournals(): void {
    for (const s of this.config.sources) {
      if (s.kind !== 'journal') continue;
      const key = journalKey(s.journal);
      if (this.journals.has(key)) continue;
      const label = journalLabel(s.journal);
      const src = this.detector.source({ label, format: 'rfc5424', time: { timeZone: this.config.input.timeZone, year: this.config.input.year, refMs: this.opts.clock.now() } });
      const j: FollowedJournal = {
        key,
        filter: s.journal,
        startAt: s.startAt,
        src,
        tail: new JournalTail(s.journal, {
          cursor: this.state.journal[key] ?? null,
          startAt: s.startAt,
          follow: !this.once,
          maxLineBytes: this.config.input.maxLineBytes,
          onBatch: (b) => this.onJournalBatch(j, b),
          onEvent: (e) => this.onJournalEvent(label, e),
        }),
      };
      this.journals.set(key, j);
      j.tail.start();
    }
  }

  /** Resolves when every journal source has read to the journal's end (--once). */
  async journalsFinished(): Promise<void> {
    for (const j of this.journals.values()) await j.tail.finished();
  }

  /** Resolves when every file has been read to its end (--once), or logward stops. */
  filesCaughtUp(): Promise<void> {
    if (this.catching.size === 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  /** Reads the next slice of a file that stopped at the read budget, after what is queued. */
  private catchUp(f: Followed): void {
    if (this.catching.has(f)) return;
    this.catching.add(f);
    setImmediate(() => {
      this.catching.delete(f);
      if (!this.stopping && this.followed.get(f.tail.path) === f) this.pollOne(f);
      this.settleCatchUp();
    });
  }

  private settleCatchUp(): void {
    if (this.catching.size > 0 && !this.stopping) return;
    for (const w of this.caughtUpWaiters.splice(0)) w();
    if (this.caughtUpLogged || this.once || this.stopping) return;
    this.caughtUpLogged = true;
    this.log.info({ lines: this.fileLines(), alerts: this.alertsFired }, 'Caught up with the files; following new lines (Ctrl-C or SIGTERM stops logward cleanly).');
  }

  /** Lines read from followed files since start. */
  private fileLines(): number {
    return [...this.followed.values()].reduce((a, f) => a + f.src.stats.lines, 0);
  }

  private onJournalBatch(j: FollowedJournal, b: JournalBatch): void {
    for (const line of b.lines) j.src.line(line);
    j.src.stats.unparsed += b.malformed;
    j.src.settle();
    this.events?.write();
    this.coverage.observe(j.src.label, 'journal', j.src.stats, this.opts.clock.now());
    this.dirty = true;
  }

  private onJournalEvent(label: string, e: JournalEvent): void {
    switch (e.kind) {
      case 'started': this.log.debug({ source: label, from: e.from, args: e.args }, 'Reading the journal.'); break;
      case 'exited': this.log.warn({ source: label, code: e.code, stderr: e.stderr, retryMs: e.retryMs }, 'journalctl stopped; it is started again after the last entry read.'); break;
      case 'failed': this.log.error({ source: label, err: e.message, retryMs: e.retryMs }, 'The journal cannot be read; install journalctl (systemd) or remove the journal source, and check that logward may read the journal (group systemd-journal).'); break;
    }
  }

  private resolveSources(): SourceSpec[] {
    const out: SourceSpec[] = [];
    const add = (given: string, format: FormatName | 'auto', startAt: 'end' | 'beginning', followSymlinks: boolean): void => {
      const abs = path.resolve(given);
      if (hasWildcard(abs)) {
        out.push({ given, kind: 'pattern', path: path.dirname(abs), match: wildcardRegex(path.basename(abs)), format, startAt, followSymlinks });
      } else if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
        out.push({ given, kind: 'dir', path: abs, match: null, format, startAt, followSymlinks });
      } else {
        out.push({ given, kind: 'file', path: abs, match: null, format, startAt, followSymlinks });
      }
    };
    for (const s of this.config.sources) if (s.kind === 'file') add(s.path, s.format ?? this.config.input.format, s.startAt, s.followSymlinks);
    for (const f of this.extraFiles) add(f, this.config.input.format, 'beginning', false);
    if (out.length === 0 && !this.config.sources.some((s) => s.kind === 'journal')) throw new AppError('USAGE', 'nothing to follow: add sources to the config or name files; see `logward run --help`');
    return out;
  }

  /** Starts following the files a source names now. */
  private discover(spec: SourceSpec): void {
    if (spec.kind === 'file') {
      this.follow(spec.path, spec);
      return;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(spec.path);
    } catch (err) {
      this.log.warn({ dir: spec.path, err: describeSystemError(err) }, 'A source directory cannot be read; it is checked again later.');
    }
    for (const n of names.sort()) {
      const file = path.join(spec.path, n);
      if (this.accepts(spec, file)) this.follow(file, spec);
    }
  }

  private accepts(spec: SourceSpec, file: string): boolean {
    if (spec.kind === 'file') return file === spec.path;
    if (path.dirname(file) !== spec.path) return false;
    const base = path.basename(file);
    if (base.startsWith('.') || ROTATED.test(base)) return false;
    if (spec.match !== null && !spec.match.test(base)) return false;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
      if (st.isSymbolicLink()) {
        // Whoever may write to a log directory must not make logward read, and copy into
        // reports and mails, a file elsewhere (/etc/shadow): only links that stay inside
        // the source's directory are followed, unless the source allows more.
        const real = fs.realpathSync(file);
        if (!spec.followSymlinks && !inside(real, fs.realpathSync(spec.path))) {
          this.skipOnce(file, `outside ${real}`, { target: real }, 'A symbolic link in a source directory points outside it; it is not followed. Set follow_symlinks: true on the source to follow such links.');
          return false;
        }
        st = fs.statSync(file);
      }
    } catch {
      return false; // gone meanwhile, or a dangling link: nothing to read
    }
    if (st.isFile()) return true;
    // Subdirectories are normal in log directories; a FIFO or a socket is worth a word.
    if (!st.isDirectory()) this.skipOnce(file, 'special', { type: fileType(st) }, 'A source directory holds something that is not a regular file; it is not read (reading a FIFO would block).');
    return false;
  }

  /** Logs once per file and reason why a file of a directory or pattern source is skipped. */
  private skipOnce(file: string, reason: string, fields: Record<string, string>, msg: string): void {
    const key = `${file}\0${reason}`;
    if (this.skipped.has(key)) return;
    this.skipped.add(key);
    this.log.warn({ file, ...fields }, msg);
  }

  private follow(file: string, spec: SourceSpec, startAt = spec.startAt): Followed {
    const existing = this.followed.get(file);
    if (existing !== undefined) return existing;
    const src = this.detector.source({ label: file, format: spec.format, time: { timeZone: this.config.input.timeZone, year: this.config.input.year, refMs: this.opts.clock.now() } });
    const tail = new FileTail(file, {
      maxLineBytes: this.config.input.maxLineBytes,
      readBudget: READ_BUDGET,
      startAt,
      saved: this.state.files[file] ?? null,
      // A configured file is followed wherever its link leads (as /var/log setups use).
      confine: spec.kind === 'file' || spec.followSymlinks ? null : spec.path,
      onBatch: (b) => this.onBatch(f, b),
      onEvent: (e) => this.onTailEvent(e),
    });
    const f: Followed = { tail, src, spec };
    this.followed.set(file, f);
    return f;
  }

  private onBatch(f: Followed, b: TailBatch): void {
    const src = f.src;
    if (src.nextLine !== b.firstLine) src.setNextLine(b.firstLine);
    for (const line of b.lines) src.line(line);
    src.settle();
    this.events?.write();
    this.coverage.observe(src.label, 'file', src.stats, this.opts.clock.now());
    this.dirty = true;
  }

  private onTailEvent(e: TailEvent): void {
    switch (e.kind) {
      case 'problem': this.logProblem(e.file, e.problem); break;
      case 'readable': this.log.info({ file: e.file, after: e.after.kind }, 'A source can be read again; reading continues.'); break;
      case 'rotated': this.log.info({ file: e.file, drainedLines: e.drained }, 'A source was rotated; the old file was read to its end.'); break;
      case 'gone': this.log.warn({ file: e.file, drainedLines: e.drained }, 'A source was deleted or replaced; what was written to it was read to its end.'); break;
      case 'truncated': this.log.warn({ file: e.file, offset: e.offset }, 'A source was truncated (copytruncate); reading starts again at its beginning.'); break;
      case 'recovered': this.log.info({ file: e.file, from: e.from, lines: e.lines }, 'A source was rotated before logward read it to its end; the unread end was read from the rotated file first.'); break;
      case 'opened': this.log.debug({ file: e.file, from: e.from }, 'Following a source.'); break;
    }
  }

  /** Once per source and condition (the tail reports a condition again only after it cleared). */
  private logProblem(file: string, p: TailProblem): void {
    switch (p.kind) {
      case 'missing': this.log.warn({ file }, 'A source does not exist (yet); it is picked up when it appears.'); break;
      case 'unreadable': this.log.error({ file, err: describeSystemError(p.error) }, 'A source cannot be opened; its lines are not read until it can. Give logward read access (e.g. the adm group); reading then continues where it stopped.'); break;
      case 'not-a-file': this.log.warn({ file, type: p.type }, 'A source is not a regular file; it is not read (a FIFO would block reading) until a file takes its place.'); break;
      case 'outside': this.log.warn({ file, target: p.target }, 'A source is now a symbolic link leading outside its source directory; it is not followed. Set follow_symlinks: true on the source to follow it.'); break;
    }
  }

  private onChange(file: string): void {
    if (this.stopping) return;
    const f = this.followed.get(file) ?? this.followed.get(this.linked.get(file) ?? '');
    if (f !== undefined) {
      this.pollOne(f);
      this.lastChange.set(f, Date.now());
      this.trail(f);
      return;
    }
    for (const spec of this.specs) {
      if (spec.kind !== 'file' && this.accepts(spec, file)) {
        // A new file in a followed directory is read from its beginning.
        this.pollOne(this.follow(file, spec, 'beginning'));
        return;
      }
    }
  }

  private pollAll(): void {
    // New files of followed directories are found here too if a watch event was missed.
    for (const spec of this.specs) if (spec.kind !== 'file' && !this.stopping) this.discoverNew(spec);
    for (const f of this.followed.values()) this.pollOne(f);
  }

  private discoverNew(spec: SourceSpec): void {
    let names: string[];
    try {
      names = fs.readdirSync(spec.path);
    } catch {
      return;
    }
    for (const n of names) {
      const file = path.join(spec.path, n);
      if (!this.followed.has(file) && this.accepts(spec, file)) this.follow(file, spec, 'beginning');
    }
  }

  private pollOne(f: Followed): number {
    try {
      const n = f.tail.poll();
      this.failing.delete(f);
      if (f.tail.behind && !this.stopping) this.catchUp(f);
      return n;
    } catch (err) {
      // Once per source and error, not at every re-check while it lasts.
      const what = describeSystemError(err);
      if (this.failing.get(f) !== what) this.log.error({ file: f.tail.path, err: what }, 'Reading a source failed; it is tried again at the next change or re-check.');
      this.failing.set(f, what);
      return 0;
    }
  }

  /**
   * Reads again shortly after a change, and keeps doing so while lines keep coming: the
   * watcher drops change events within 50 ms of the previous one, so a write in that
   * gap would otherwise wait for the next write or the slow re-check. Stops once a read
   * finds nothing and that throttle window has passed (no polling of an idle file).
   */
  private trail(f: Followed): void {
    if (this.trailing.has(f)) return;
    const t = setTimeout(() => {
      this.trailing.delete(f);
      if (this.stopping || this.followed.get(f.tail.path) !== f) return;
      const read = this.pollOne(f);
      if (read > 0 || Date.now() - (this.lastChange.get(f) ?? 0) < WATCH_THROTTLE_MS) this.trail(f);
      else this.lastChange.delete(f);
    }, TRAIL_MS);
    this.trailing.set(f, t);
  }

  /**
   * Makes the events file and the incident journal durable. Positions only reach the
   * state file through save(), which calls this first: a checkpoint never covers a line
   * whose event or alert is not on disk, with one fsync per checkpoint instead of one per
   * batch of lines.
   */
  private syncOutputs(): void {
    this.events?.sync();
    try {
      this.dispatcher.sync();
    } catch (err) {
      this.log.error({ err: describeSystemError(err) }, 'Syncing the alert stream failed.');
    }
    this.syncJournal();
  }

  private save(): void {
    this.syncOutputs();
    this.warnKeyCap();
    if (!this.dirty && fs.existsSync(this.store.file)) {
      this.lastSaveOk = Date.now();
      return;
    }
    const files: DaemonState['files'] = { ...this.state.files };
    for (const [file, f] of this.followed) {
      const pos = f.tail.position();
      if (pos !== null) files[file] = pos;
    }
    const journal: DaemonState['journal'] = { ...this.state.journal };
    for (const [key, j] of this.journals) {
      const cursor = j.tail.position();
      if (cursor !== null) journal[key] = cursor;
    }
    this.state = {
      version: this.state.version, files, journal, eventsBytes: this.events?.size ?? null, windows: this.detector.exportState(),
      coverage: this.coverage.snapshot(), rate: this.dispatcher.state(), lastDigest: this.lastDigest,
    };
    try {
      this.store.save(this.state);
      this.dirty = false;
      this.lastSaveOk = Date.now();
      if (this.saveFailing !== null) this.log.info({ file: this.store.file }, 'Saving the reading positions works again.');
      this.saveFailing = null;
    } catch (err) {
      // Once per cause, not at every checkpoint while the disk stays full.
      const what = describeSystemError(err);
      if (this.saveFailing !== what) this.log.error({ file: this.store.file, err: what }, 'Saving the reading positions failed; the previous ones stay and saving is retried at every checkpoint (logged again only when it works or fails differently).');
      this.saveFailing = what;
    }
  }

  /** Once per rule: a rule at its key cap forgets the stalest keys, which an operator should know. */
  private warnKeyCap(): void {
    for (const [rule, w] of this.detector.windows) {
      if (w.stats.evictedKeys === 0 || this.keyCapWarned.has(rule)) continue;
      this.keyCapWarned.add(rule);
      this.log.warn({ rule, maxKeysPerRule: this.config.detection.limits.maxKeysPerRule, evicted: w.stats.evictedKeys }, 'A rule holds limits.max_keys_per_rule keys; the least recently seen are dropped to make room (a flood of addresses, or raise the limit). Counted in logward_rule_keys_evicted_total; logged once per rule.');
    }
  }

  /** The /metrics and /healthz endpoint, when http.enabled. A failure to bind stops the start. */
  async startHttp(): Promise<void> {
    if (!this.config.http.enabled || this.stopping) return;
    try {
      this.http = await startHttpServer(this.config.http, this.status(), this.log, { board: this.board });
    } catch (err) {
      throw new AppError('USAGE', `cannot serve metrics on ${this.config.http.host}:${this.config.http.port} (${describeSystemError(err)}); pick another http.port or turn http.enabled off`);
    }
    this.log.info({ url: this.http.url }, 'Serving the dashboard, /metrics and /healthz.');
  }

  /** What /metrics and /healthz report: read at each request, cheap. */
  private status(): StatusProvider {
    return {
      sources: (): SourceHealth[] => {
        const out: SourceHealth[] = [];
        for (const [file, f] of this.followed) {
          const st = f.src.stats;
          let lag: number | null = null;
          const pos = f.tail.position();
          try {
            if (pos !== null) lag = Math.max(0, fs.statSync(file).size - pos.offset);
          } catch {
            lag = null;
          }
          out.push({ source: file, kind: 'file', lines: st.lines, parsed: st.parsed, notParsed: st.unparsed, events: st.events, lastLineAt: this.coverage.lastGrowth(file), lagBytes: lag });
        }
        for (const j of this.journals.values()) {
          const st = j.src.stats;
          out.push({ source: j.src.label, kind: 'journal', lines: st.lines, parsed: st.parsed, notParsed: st.unparsed, events: st.events, lastLineAt: this.coverage.lastGrowth(j.src.label), lagBytes: null });
        }
        return out;
      },
      ruleEvents: () => Object.fromEntries([...this.detector.ruleStats].map(([rule, s]) => [rule, s.events])),
      ruleKeys: () => Object.fromEntries([...this.detector.windows].map(([rule, w]) => [rule, { held: w.size, evicted: w.stats.evictedKeys }])),
      incidents: () => ({ alerted: this.alertsFired, open: [...this.detector.windows.values()].reduce((a, w) => a + w.openIncidents, 0) }),
      outboxDepth: () => this.outbox.pendingCount(),
      enrichCache: () => this.opts.enricher?.cacheCounters ?? null,
      health: () => {
        const problems: string[] = [];
        if (this.stopping) problems.push('logward is stopping');
        if (this.followed.size === 0 && this.journals.size === 0) problems.push('no source is being read');
        if (Date.now() - this.lastSaveOk > Math.max(60_000, 10 * this.config.run.checkpointMs)) problems.push('reading positions could not be saved recently');
        return { ok: problems.length === 0, problems };
      },
    };
  }

  /** The daily digest: what happened since the last one, sent even when nothing did. */
  sendDigest(): void {
    if (!this.config.mail.digest) return;
    const end = this.opts.clock.now();
    const start = this.lastDigest ?? end - 86_400_000;
    for (const f of this.followed.values()) this.coverage.source(f.src.label, 'file');
    for (const j of this.journals.values()) this.coverage.source(j.src.label, 'journal');
    let records: JournalRecord[];
    try {
      records = readJournal(this.incidents.file);
    } catch (err) {
      this.log.error({ file: this.incidents.file, err: describeSystemError(err) }, 'The incident journal cannot be read; the digest lists no incidents.');
      records = [];
    }
    const digest = buildDigest({
      host: this.host, start, end, timeZone: this.config.run.timeZone, records,
      coverage: this.coverage.snapshot(), families: ruleFamilies(this.ruleset), ...(this.originOf === undefined ? {} : { origin: this.originOf }),
    });
    const mail = digestMail(digest);
    const r = this.outbox.enqueue({ kind: 'mail', id: mail.messageId.split('@')[0]!, created: end, mail });
    this.log.info({ id: mail.messageId, incidents: digest.incidents.length, queued: r, since: isoUtc(start) }, 'Daily digest queued.');
    this.coverage.reset(end);
    this.lastDigest = end;
    this.dirty = true;
    this.save();
  }

  private flushReport(why: string): void {
    const c = this.collector;
    this.collector = new ReportCollector(this.config.reports.maxEvents);
    if (c.eventsTotal === 0 && c.incidents.size === 0) return;
    for (const [file, f] of this.followed) c.sources.push({ file, stats: { ...f.src.stats }, cut: f.tail.cutLines });
    for (const j of this.journals.values()) c.sources.push({ file: j.src.label, stats: { ...j.src.stats }, cut: 0 });
    const now = this.opts.clock.now();
    try {
      const meta = { version: version(), command: 'run', generatedMs: now, timeZone: this.config.input.timeZone, rules: this.ruleset.rules.map((r) => r.spec), ...(this.originOf === undefined ? {} : { originOf: this.originOf, attribution: ATTRIBUTION }) };
      const base = writeReport(this.config.reports.dir, c, meta, this.config.reports.formats);
      this.log.info({ report: base, why, incidents: c.incidents.size, events: c.eventsTotal, since: isoUtc(this.lastFlush) }, 'Report written.');
    } catch (err) {
      this.log.error({ dir: this.config.reports.dir, err: describeSystemError(err) }, 'Writing a report failed.');
    }
    this.lastFlush = now;
  }

  private reportSources(): void {
    for (const j of this.journals.values()) {
      this.log.info({ source: j.src.label, from: j.tail.position() !== null ? 'cursor' : j.startAt }, 'Following the systemd journal.');
    }
    for (const spec of this.specs) {
      const files = [...this.followed.values()].filter((f) => f.spec === spec);
      this.log.info({ source: spec.given, kind: spec.kind, files: files.length, lines: files.reduce((a, f) => a + f.src.stats.lines, 0) }, files.length === 0 ? 'Source has no file yet.' : 'Following source.');
    }
  }
}

/** "journal", "journal(ssh.service,sshd)" or "journal(file x.journal)": how messages name a journal source. */
function journalLabel(f: JournalFilter): string {
  const parts = [...f.units, ...f.identifiers];
  if (f.files.length > 0) parts.push(...f.files.map((x) => `file ${x}`));
  if (f.directory !== null) parts.push(`dir ${f.directory}`);
  return parts.length === 0 ? 'journal' : `journal(${parts.join(',')})`;
}

