// The incident journal's newest incidents, handed back at load for the dashboard after a
// restart: the last `recent` incidents by their opening, each with its closed record when it
// closed, turned back into the incidents the detector made. Real files in a temp directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IncidentJournal, journaledIncident } from '../../dist/sinks/incident-journal.js';
import { tempDir } from '../helpers/cli.mjs';

const opened = (id, n) => ({
  type: 'opened', at: '2026-01-02T03:04:05.000Z', id, rule: 'failed_logins', severity: 'medium', time: '2025-10-14T12:00:00Z', first: '2025-10-14T12:00:00Z',
  last: `2025-10-14T12:00:0${n}Z`, fired_at: `2025-10-14T12:00:0${n}Z`, count: 3, key_field: null, key: null, ips: ['49.36.0.1'], users: ['root'], hosts: ['host1'],
  values_truncated: false, window_secs: 60, threshold: 3, samples: [{ file: '/var/log/auth.log', line: n, time: '2025-10-14T12:00:00Z', text: `sample ${n}` }],
});
const closed = (id, count) => ({ ...opened(id, 9), type: 'closed', count, ips: ['49.36.0.1', '8.8.8.8'], samples: undefined });

test('hands back the newest incidents by their opening, each with its closed record, oldest first', () => {
  const dir = tempDir('logward-journal-');
  const records = [opened('a', 1), opened('b', 2), closed('a', 7), opened('c', 3), opened('d', 4), closed('b', 8), closed('d', 30), opened('e', 5)];
  fs.writeFileSync(path.join(dir, 'incidents.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const j = new IncidentJournal(dir, { recent: 3 });
  j.close();
  assert.deepEqual(j.recent.map((x) => [x.opened.id, x.closed?.count ?? null]), [['c', null], ['d', 30], ['e', null]]);
  const d = journaledIncident(j.recent[1]);
  assert.deepEqual([d.id, d.count, d.last, d.ips, d.key, d.keyField, d.windowMs], ['d', 30, Date.UTC(2025, 9, 14, 12, 0, 9), ['49.36.0.1', '8.8.8.8'], null, null, 60_000]);
  assert.deepEqual(d.samples, [{ source: '/var/log/auth.log', line: 4, time: Date.UTC(2025, 9, 14, 12), text: 'sample 4' }], 'the samples of its opened record');
  const plain = new IncidentJournal(dir);
  plain.close();
  assert.deepEqual(plain.recent, [], 'none unless asked for');
  fs.rmSync(dir, { recursive: true, force: true });
});
