// The journalctl match terms of a journal source: units and identifiers are alternatives
// (groups joined by "+"), each unit matched as journalctl -u matches it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { journalMatches } from '../../dist/sources/journal-match.js';

const filter = (f) => ({ units: [], identifiers: [], files: [], directory: null, journalctl: 'journalctl', ...f });
const none = () => assert.fail('the journal is asked for its units only for a unit pattern');
/** The groups of a match list: what journalctl ORs. */
const groups = (terms) => terms.join(' ').split(' + ').map((g) => g.split(' '));

const SSH = [
  ['_SYSTEMD_UNIT=ssh.service'],
  ['MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1', '_UID=0', 'COREDUMP_UNIT=ssh.service'],
  ['_PID=1', 'UNIT=ssh.service'],
  ['_UID=0', 'OBJECT_SYSTEMD_UNIT=ssh.service'],
];

test('reads every entry of a source with neither units nor identifiers', () => {
  assert.deepEqual(journalMatches(filter({}), none), []);
});

test('ORs the units and the identifiers of one source, each unit as journalctl -u matches it', () => {
  assert.deepEqual(groups(journalMatches(filter({ units: ['ssh.service'], identifiers: ['sudo', 'su'] }), none)), [...SSH, ['SYSLOG_IDENTIFIER=sudo'], ['SYSLOG_IDENTIFIER=su']]);
});

test('takes a unit without a type for a service, as journalctl -u does', () => {
  assert.deepEqual(groups(journalMatches(filter({ units: ['ssh'] }), none)), SSH);
});

test('matches a slice\'s units too', () => {
  assert.deepEqual(groups(journalMatches(filter({ units: ['user.slice'] }), none)).at(-1), ['_SYSTEMD_SLICE=user.slice']);
});

test('expands a unit pattern against the units the journal holds', () => {
  const got = groups(journalMatches(filter({ units: ['ssh*', 'ssh.service'], identifiers: ['sudo'] }), () => ['cron.service', 'ssh.service', 'sshd@1.service']));
  assert.deepEqual(got.filter((g) => g[0].startsWith('_SYSTEMD_UNIT=')), [['_SYSTEMD_UNIT=ssh.service'], ['_SYSTEMD_UNIT=sshd@1.service']]);
  assert.deepEqual(got.at(-1), ['SYSLOG_IDENTIFIER=sudo']);
});

test('has nothing to read when its only units are patterns no unit matches', () => {
  assert.equal(journalMatches(filter({ units: ['nope*'] }), () => ['ssh.service']), null);
  assert.deepEqual(journalMatches(filter({ units: ['nope*'], identifiers: ['sudo'] }), () => ['ssh.service']), ['SYSLOG_IDENTIFIER=sudo']);
});
