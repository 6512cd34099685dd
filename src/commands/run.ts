// `logward run`: the daemon's command. It parses the flags, loads the configuration, builds
// the daemon (src/runtime/daemon.ts) and runs it until a signal, --once or a test's stop
// promise ends it; SIGHUP reloads. It holds the state directory's lock (runtime/lock.ts)
// from before the first state file is touched until the daemon stopped. It returns an
// exit code and never exits the process.

import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { Enricher } from '../enrich/index.js';
import { Daemon, type DaemonOptions } from '../runtime/daemon.js';
import { limitHeapGrowth } from '../runtime/heap.js';
import { lockStateDir } from '../runtime/lock.js';
import { boundedStop, stopRequest } from '../runtime/shutdown.js';
import type { Clock } from '../util/clock.js';
import { createLogger } from '../util/logger.js';
import { parseArgs, type OptionSpec } from './args.js';

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

  --config FILE      configuration (default: $LOGWARD_CONFIG, /etc/logward/logward.yaml,
                     ./config/logward.yaml, the packaged one: see \`logward validate\`)
  --events FILE      append every matched event as JSON Lines to FILE
  --state-dir DIR    where checkpoints are kept (default: state.dir); one logward run
                     per directory, a second one exits 75
  --once             read what is there now, then stop as on SIGTERM
`;

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
  const once = v.once === true;
  const stateDir = (v['state-dir'] as string | undefined) ?? config.state.dir;
  // Before anything in the state directory is read or written (enrichment cache, state
  // file, journal, outbox): a second daemon there would alert and mail everything twice.
  const lock = lockStateDir(stateDir, { clock: io.clock, log: createLogger({ level: config.log.level, fd: 1, pretty: process.stdout.isTTY === true }) });
  try {
    return await runDaemon(config, {
      // A reload re-reads the file found at start, not whatever the lookup finds then.
      configFile: config.source, extraFiles: positionals, eventsFile: v.events as string | undefined, stateDir, once }, io);
  } finally {
    lock.release();
  }
}

async function runDaemon(config: Config, opts: Omit<DaemonOptions, 'enricher' | 'clock'>, io: RunIO): Promise<number> {
  // Offline databases load before reading starts; a failure only costs the origins.
  const enricher = config.enrich.enabled ? await Enricher.open(config, { log: createLogger({ level: config.log.level, fd: 1 }), clock: io.clock, env: process.env }) : null;
  const d = new Daemon(config, { ...opts, enricher, clock: io.clock });
  // Handlers first: a SIGTERM that arrives while the backlog is read still stops cleanly.
  const request = stopRequest(io.stop);
  const onHup = (): void => d.reload();
  process.on('SIGHUP', onHup);
  try {
    try {
      // The port first: a daemon that cannot serve what it was told to exits before it
      // reads, alerts or mails anything.
      await d.startHttp();
      d.start();
    } catch (err) {
      // Nothing half-started keeps running: what did start is stopped, then the error is
      // the exit (under systemd, Restart=on-failure then applies).
      await boundedStop(() => d.stop('start failed'), d.config.run.shutdownTimeoutMs, d.log);
      throw err;
    }
    // A backlog is read in slices: SIGTERM between two of them stops as it would a daemon.
    const reason = opts.once ? await Promise.race([d.caughtUp().then(() => 'once'), request.reason]) : await request.reason;
    return await boundedStop(() => d.stop(reason), d.config.run.shutdownTimeoutMs, d.log);
  } finally {
    process.off('SIGHUP', onHup);
    request.dispose();
  }
}
