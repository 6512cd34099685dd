// The systemd journal as a source, on real journal files: entries are written in the
// journal export format and stored with Debian's systemd-journal-remote, then read by the
// real `logward run` through journalctl, as on a host where sshd logs only to the journal.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { daemonDir, events, killAll, logged, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';
import { runCli } from '../helpers/cli.mjs';

after(killAll);

const REMOTE = ['/usr/lib/systemd/systemd-journal-remote', '/lib/systemd/systemd-journal-remote'].find((p) => fs.existsSync(p));
const BASE_US = Date.UTC(2025, 9, 14, 12, 0, 0) * 1000;

/** Appends entries to a journal file; n encodes the attacker address 10.9.x.y. */
function journalWrite(file, from, to, { unit = 'ssh.service', ident = 'sshd', text = null } = {}) {
  assert.ok(REMOTE, 'systemd-journal-remote is needed (Debian package systemd-journal-remote; .ci/run installs it)');
  let doc = '';
  for (let n = from; n < to; n++) {
    const msg = text ?? `Failed password for root from 10.9.${Math.floor(n / 256)}.${n % 256} port ${20000 + n} ssh2`;
    doc += [
      `__REALTIME_TIMESTAMP=${BASE_US + n * 1_000_000}`,
      `__MONOTONIC_TIMESTAMP=${1_000_000 + n * 1_000_000}`,
      '_BOOT_ID=0123456789abcdef0123456789abcdef',
      `MESSAGE=${msg}`,
      `SYSLOG_IDENTIFIER=${ident}`,
      `_PID=${3000 + n}`,
      'PRIORITY=6',
      '_HOSTNAME=jhost',
      `_SYSTEMD_UNIT=${unit}`,
      '', '',
    ].join('\n');
  }
  const r = spawnSync(REMOTE, [`--output=${file}`, '-'], { input: doc, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

const numbers = (dir) => events(dir).map((e) => {
  const [, , a, b] = e.ip.split('.').map(Number);
  return a * 256 + b;
});

function journalDir(startAt = 'beginning', filter = '') {
  const dir = daemonDir({ sources: [] });
  const file = path.join(dir, 'logs', 'sys.journal');
  const cfg = path.join(dir, 'logward.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('sources:\n', `sources:\n  - { journal: { files: [${file}]${filter} }, start_at: ${startAt} }\n`));
  return { dir, file };
}

describe('logward run reads the systemd journal', () => {
  test('alerts on sshd failures found only in the journal, with the entry host, program and time', async () => {
    const { dir, file } = journalDir();
    journalWrite(file, 0, 4);
    const r = await runCli(['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const evs = events(dir);
    assert.deepEqual(numbers(dir), [0, 1, 2, 3]);
    assert.equal(evs[0].host, 'jhost');
    assert.equal(evs[0].program, 'sshd');
    assert.equal(evs[0].time, '2025-10-14T12:00:00Z');
    assert.match(r.stdout, /ALERT failed_logins/);
  });

  test('resumes after the saved cursor: a second run reads only the entries written since', async () => {
    const { dir, file } = journalDir();
    journalWrite(file, 0, 3);
    const args = ['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')];
    assert.equal((await runCli(args)).code, 0);
    journalWrite(file, 3, 5);
    assert.equal((await runCli(args)).code, 0);
    assert.equal((await runCli(args)).code, 0);
    assert.deepEqual(numbers(dir), [0, 1, 2, 3, 4]);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'logward-state.json'), 'utf8'));
    assert.equal(Object.keys(state.journal).length, 1);
    assert.match(Object.values(state.journal)[0], /^s=[0-9a-f]+;i=5;/);
  });

  test('follows entries as they are written, and continues after a restart without a duplicate', async () => {
    const { dir, file } = journalDir();
    journalWrite(file, 0, 2);
    const d1 = startDaemon(dir);
    await waitFor(() => numbers(dir).length === 2, '2 journal events');
    journalWrite(file, 2, 5);
    await waitFor(() => numbers(dir).length === 5, '5 journal events');
    assert.equal((await stopDaemon(d1)).code, 0, d1.output);
    journalWrite(file, 5, 7); // written while logward is stopped
    const d2 = startDaemon(dir);
    await waitFor(() => numbers(dir).length >= 7, '7 journal events');
    journalWrite(file, 7, 8);
    await waitFor(() => numbers(dir).length >= 8, '8 journal events');
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.deepEqual(numbers(dir), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.match(d1.output, /Following the systemd journal/);
  });

  test('starts at the end of the journal by default and reads what comes after', async () => {
    const { dir, file } = journalDir('end');
    journalWrite(file, 0, 3);
    const args = ['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')];
    assert.equal((await runCli(args)).code, 0);
    assert.deepEqual(numbers(dir), []);
    journalWrite(file, 3, 5);
    assert.equal((await runCli(args)).code, 0);
    assert.deepEqual(numbers(dir), [3, 4]);
  });

  test('reads only the configured units', async () => {
    const { dir, file } = journalDir('beginning', ', units: [ssh.service]');
    journalWrite(file, 0, 2);
    journalWrite(file, 2, 4, { unit: 'other.service', ident: 'other' });
    journalWrite(file, 4, 5);
    const r = await runCli(['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(numbers(dir), [0, 1, 4]);
  });

  describe('units and identifiers are alternatives', () => {
    const SUDO = 'alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh';
    /** sshd entries of ssh.service, a sudo entry of a session scope, and an sshd entry of another unit. */
    function mixed(filter) {
      const { dir, file } = journalDir('beginning', filter);
      const cfg = path.join(dir, 'logward.yaml');
      fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('enabled: [failed_logins]', 'enabled: [failed_logins, sudo_failures]'));
      journalWrite(file, 0, 2);
      journalWrite(file, 2, 3, { unit: 'session-1.scope', ident: 'sudo', text: SUDO });
      journalWrite(file, 3, 4, { unit: 'other.service', ident: 'sshd' });
      journalWrite(file, 4, 5);
      return dir;
    }
    const read = async (dir) => {
      const r = await runCli(['run', '--once', '--config', path.join(dir, 'logward.yaml'), '--events', path.join(dir, 'events.jsonl')]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      return events(dir).map((e) => `${e.rule} ${e.program} ${e.ip ?? e.user}`);
    };

    test('reads the entries of the units and those of the identifiers, not those of neither', async () => {
      const dir = mixed(', units: [ssh.service], identifiers: [sudo]');
      assert.deepEqual(await read(dir), ['failed_logins sshd 10.9.0.0', 'failed_logins sshd 10.9.0.1', 'sudo_failures sudo alice', 'failed_logins sshd 10.9.0.4']);
    });

    test('takes a unit without a type for a service and a unit pattern as journalctl -u does', async () => {
      for (const units of ['[ssh]', '["ss*"]']) {
        const dir = mixed(`, units: ${units}, identifiers: [sudo]`);
        assert.deepEqual(await read(dir), ['failed_logins sshd 10.9.0.0', 'failed_logins sshd 10.9.0.1', 'sudo_failures sudo alice', 'failed_logins sshd 10.9.0.4'], units);
      }
    });

    test('follows both as they are written', async () => {
      const dir = mixed(', units: [ssh.service], identifiers: [sudo]');
      const d = startDaemon(dir);
      await waitFor(() => events(dir).length === 4, '4 events');
      journalWrite(path.join(dir, 'logs', 'sys.journal'), 5, 6, { unit: 'session-2.scope', ident: 'sudo', text: SUDO.replace('alice', 'bob') });
      await waitFor(() => events(dir).length === 5, 'the sudo event written while following');
      assert.equal((await stopDaemon(d)).code, 0, d.output);
      assert.equal(events(dir)[4].user, 'bob');
    });
  });

  test('logs one error per failed start of a missing journalctl, retrying in one chain with a growing backoff', async () => {
    const { dir } = journalDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('{ files:', '{ journalctl: /nonexistent/journalctl, files:'));
    const d = startDaemon(dir);
    const failures = () => d.output.split('\n').filter((l) => /journal cannot be read|journalctl (stopped|failed)/.test(l)).map((l) => JSON.parse(l));
    // Tries at 0, 1 and 3 seconds: the third error ends the wait (the fourth is 4 s later).
    await logged(d, /(?:The journal cannot be read[\s\S]*){3}/, 'three journal errors');
    assert.equal((await stopDaemon(d)).code, 0, d.output);
    const got = failures();
    assert.deepEqual(got.map((f) => [f.level, f.retryMs]), [['error', 1000], ['error', 2000], ['error', 4000]], d.output);
    assert.ok(got.every((f) => /nonexistent\/journalctl/.test(f.err)));
    const at = got.map((f) => Date.parse(f.time));
    assert.ok(at[1] - at[0] >= 950, `the second try ${at[1] - at[0]} ms after the first`);
    assert.ok(at[2] - at[1] >= 1950, `the third try ${at[2] - at[1]} ms after the second`);
  });

  test('keeps running with a clear error when journalctl cannot be run', async () => {
    const { dir } = journalDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('{ files:', '{ journalctl: /nonexistent/journalctl, files:'));
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const d = startDaemon(dir, [path.join(dir, 'logs', 'app.log')]);
    await waitFor(() => /The journal cannot be read/.test(d.output), 'the journal error');
    fs.appendFileSync(path.join(dir, 'logs', 'app.log'), 'Oct 14 12:00:01 h sshd[1]: Failed password for root from 10.9.0.9 port 1 ssh2\n');
    await waitFor(() => numbers(dir).length === 1, 'the file event');
    assert.equal((await stopDaemon(d)).code, 0);
    assert.match(d.output, /nonexistent\/journalctl/);
  });

  test('refuses a source that names both a path and a journal, and a journal with a format', async () => {
    const { dir } = journalDir();
    const cfg = path.join(dir, 'logward.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('sources:\n', 'sources:\n  - { path: /var/log/x.log, journal: {} }\n  - { journal: {}, format: syslog }\n'));
    const r = await runCli(['validate', '--config', cfg]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /sources\[0\]: .*exactly one of "path"/);
    assert.match(r.stderr, /sources\[1\]\.format: .*journal source has no format/);
  });
});
