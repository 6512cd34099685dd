// A real state directory for the damaged-state tests: `logward run --once` on a real log
// leaves a state file with file positions, the events-file size, open windows (keys below
// threshold and open incidents of a keyed and a host-wide rule), coverage with unmatched
// shapes and an alert-mail rate with a folded alert; the incident journal and the outbox
// hold what was alerted. `restore()` puts a directory back to that state (the log is cut
// back in place, so its inode and first bytes, and so the saved fingerprint, stay valid).

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, runCli, tempDir } from './cli.mjs';

function sshLine(time, ip, user, pid) {
  return `Oct 14 ${time} host1 sshd[${pid}]: Failed password for ${user} from ${ip} port ${20000 + pid} ssh2\n`;
}

/** The base log: three bursts and an address below threshold among cron noise. */
function baseLog() {
  const lines = [];
  let pid = 1000;
  const noise = (n) => {
    for (let i = 0; i < n; i++) lines.push(`Oct 14 12:00:00 host1 CRON[${4000 + i}]: pam_unix(cron:session): session closed for user root\n`);
  };
  noise(20);
  for (const s of ['01', '02', '03', '04']) lines.push(sshLine(`12:00:${s}`, '10.9.9.9', 'root', pid++));
  noise(20);
  for (const s of ['05', '06', '07']) lines.push(sshLine(`12:00:${s}`, '10.7.7.7', 'admin', pid++));
  for (const s of ['11', '12']) lines.push(sshLine(`12:00:${s}`, '10.8.8.8', 'oracle', pid++));
  noise(10);
  return lines.join('');
}

/**
 * A fresh burst two hours after the base log (past every window and cooldown) from an
 * address the base never saw: both rules must alert on it.
 */
export function freshBurst(n) {
  const ip = `10.66.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  let text = '';
  for (let i = 1; i <= 4; i++) text += sshLine(`14:00:0${i}`, ip, 'bob', 5000 + i);
  return { ip, text };
}

export function writeConfig(dir) {
  const file = path.join(dir, 'logward.yaml');
  fs.writeFileSync(file, [
    'rules:',
    `  files: [${path.join(ROOT, 'config', 'rules', '*.yaml')}]`,
    '  enabled: [failed_logins, ssh_bruteforce]',
    '  overrides:',
    '    failed_logins: { threshold: 3, window_secs: 60, cooldown_secs: 300 }',
    '    ssh_bruteforce: { threshold: 3, window_secs: 60, cooldown_secs: 300 }',
    'input:',
    '  timezone: UTC',
    '  year: 2025',
    'sources:',
    `  - { path: ${path.join(dir, 'logs', 'app.log')}, start_at: beginning }`,
    'state:',
    `  dir: ${path.join(dir, 'state')}`,
    'reports:',
    `  dir: ${path.join(dir, 'reports')}`,
    'mail:',
    '  alerts_per_hour: 1',
    '  digest: false',
    'enrich:',
    '  enabled: false',
    'run:',
    '  poll_secs: 0.2',
    '  checkpoint_secs: 0.1',
    '',
  ].join('\n'));
  return file;
}

/** Runs `logward run --once` on the directory; resolves with { code, lines (parsed log lines), stdout }. */
export async function runOnce(dir) {
  const r = await runCli(['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')], { env: { LOGWARD_LOG_LEVEL: 'warn' } });
  const lines = [];
  for (const l of r.stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(l));
    } catch {
      // not a log line
    }
  }
  return { ...r, lines };
}

/** Builds the base directory with a real run; returns { dir, stateFile, doc, restore }. */
export async function baseState() {
  const dir = tempDir('logward-state-base-');
  fs.mkdirSync(path.join(dir, 'logs'));
  const log = path.join(dir, 'logs', 'app.log');
  fs.writeFileSync(log, baseLog());
  writeConfig(dir);
  const r = await runOnce(dir);
  if (r.code !== 0) throw new Error(`the base run failed (${r.code}):\n${r.stdout}${r.stderr}`);
  const stateDir = path.join(dir, 'state');
  const pristine = path.join(dir, 'pristine-state');
  fs.cpSync(stateDir, pristine, { recursive: true });
  const logBytes = fs.statSync(log).size;
  const events = path.join(dir, 'events.jsonl');
  const eventsBytes = fs.statSync(events).size;
  const stateFile = path.join(stateDir, 'logward-state.json');
  const text = fs.readFileSync(stateFile, 'utf8');
  return {
    dir,
    log,
    stateFile,
    text,
    doc: JSON.parse(text),
    /** Back to the state the base run left (the log and events file cut back in place). */
    restore() {
      fs.rmSync(stateDir, { recursive: true, force: true });
      fs.cpSync(pristine, stateDir, { recursive: true });
      fs.truncateSync(log, logBytes);
      fs.truncateSync(events, eventsBytes);
      fs.rmSync(path.join(dir, 'reports'), { recursive: true, force: true });
    },
  };
}

/** The alert log lines of a run (the daemon logs each alert once, at warn). */
export function alertsOf(lines) {
  return lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('ALERT '));
}

/** Did the run alert on the fresh burst from `ip`, on both rules? */
export function alertedOn(lines, ip) {
  const a = alertsOf(lines);
  return {
    keyed: a.some((l) => l.alert?.rule === 'ssh_bruteforce' && l.alert.key === ip),
    hostWide: a.some((l) => l.alert?.rule === 'failed_logins' && l.alert.first === '2025-10-14T14:00:01Z'),
  };
}

/** The warnings about a damaged state file. */
export function stateWarnings(lines) {
  return lines.filter((l) => l.level === 'warn' && typeof l.msg === 'string' && /^The state file (is damaged|had damaged entries)/.test(l.msg));
}
