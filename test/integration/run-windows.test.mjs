// Open windows and alerted incidents survive restarts and reloads: a brute force that
// straddles a restart still alerts, and an incident alerted before a kill -9 is not
// alerted again when the lines after the last checkpoint are read a second time.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { attackLine, daemonDir, killAll, range, seen, startDaemon, stopDaemon, waitFor } from '../helpers/daemon.mjs';

after(killAll);

const write = (dir, from, to, second = (n) => n) => fs.appendFileSync(path.join(dir, 'logs', 'app.log'), range(from, to).map((n) => attackLine(n, second(n))).join(''));
const alerts = (output) => (output.match(/ALERT failed_logins/g) ?? []).length;
const journal = (dir) => {
  const file = path.join(dir, 'state', 'incidents.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
};

describe('logward run keeps windows and incidents across restarts', () => {
  test('alerts on a brute force whose attempts straddle a restart', async () => {
    const dir = daemonDir();
    write(dir, 0, 2);
    const d1 = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    assert.equal((await stopDaemon(d1)).code, 0);
    assert.equal(alerts(d1.output), 0);
    write(dir, 2, 3); // the third attempt within the window, after the restart
    const d2 = startDaemon(dir);
    await waitFor(() => alerts(d2.output) === 1, 'the alert after the restart');
    assert.equal((await stopDaemon(d2)).code, 0);
    const opened = journal(dir).filter((r) => r.type === 'opened');
    assert.equal(opened.length, 1);
    assert.equal(opened[0].count, 3);
  });

  test('does not alert twice for an incident alerted just before kill -9', async () => {
    const dir = daemonDir({ extra: '' });
    const cfg = path.join(dir, 'logward.yaml');
    // Positions are saved only at start: the kill -9 comes after the alert, before any save.
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('checkpoint_secs: 0.1', 'checkpoint_secs: 3600'));
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), '');
    const d1 = startDaemon(dir);
    await waitFor(() => /Following source/.test(d1.output), 'the start');
    write(dir, 0, 4);
    await waitFor(() => alerts(d1.output) === 1 && seen(dir).length === 4, 'the alert');
    d1.kill('SIGKILL');
    await d1.exited;
    const d2 = startDaemon(dir);
    await waitFor(() => /Following source/.test(d2.output), 'the restart');
    write(dir, 4, 5);
    await waitFor(() => seen(dir).length === 5, 'the new event');
    assert.equal((await stopDaemon(d2)).code, 0, d2.output);
    assert.equal(alerts(d2.output), 0, 'the incident was alerted again after the restart');
    assert.deepEqual(seen(dir), range(0, 5));
    const records = journal(dir);
    assert.equal(records.filter((r) => r.type === 'opened').length, 1);
    const closed = records.filter((r) => r.type === 'closed');
    assert.equal(closed.length, 0, 'the incident is still open: its window was kept');
  });

  test('keeps open windows through a SIGHUP reload', async () => {
    const dir = daemonDir();
    write(dir, 0, 2);
    const d = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    d.kill('SIGHUP');
    await waitFor(() => /Configuration reloaded/.test(d.output), 'the reload');
    write(dir, 2, 3);
    await waitFor(() => alerts(d.output) === 1, 'the alert after the reload');
    assert.equal((await stopDaemon(d)).code, 0);
  });

  test('does not carry a window over a restart once its span has passed', async () => {
    const dir = daemonDir();
    write(dir, 0, 2, () => 0);
    const d1 = startDaemon(dir);
    await waitFor(() => seen(dir).length === 2, '2 events');
    assert.equal((await stopDaemon(d1)).code, 0);
    // Two minutes later in event time: outside the 60 s window of the first two.
    fs.appendFileSync(path.join(dir, 'logs', 'app.log'), attackLine(2).replace('12:00:02', '12:02:00'));
    const d2 = startDaemon(dir);
    await waitFor(() => seen(dir).length === 3, '3 events');
    assert.equal((await stopDaemon(d2)).code, 0);
    assert.equal(alerts(d2.output), 0);
  });

  test('drops a damaged last line of the incident journal and alerts that incident again', async () => {
    const dir = daemonDir();
    fs.mkdirSync(path.join(dir, 'state'));
    fs.writeFileSync(path.join(dir, 'state', 'incidents.jsonl'), '{"type":"opened","id":"x","at":"2025');
    write(dir, 0, 3);
    const d = startDaemon(dir);
    await waitFor(() => alerts(d.output) === 1, 'the alert');
    assert.equal((await stopDaemon(d)).code, 0);
    assert.match(d.output, /incident journal had damaged lines/);
    const records = journal(dir);
    assert.equal(records[0].type, 'opened');
    assert.equal(records[0].rule, 'failed_logins');
  });
});
