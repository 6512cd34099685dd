import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildDigest, digestMail, digestText, digestHtml, digestCsv } from '../../dist/digest/digest.js';
import { Coverage, shapeOf, SHAPE_SAMPLE } from '../../dist/digest/coverage.js';
import { oneLine, escapeHtml } from '../../dist/util/text.js';
import { AlertDispatcher, alertMail } from '../../dist/delivery/alerts.js';

const H = 3_600_000;
const END = Date.UTC(2026, 10, 29, 6, 0); // 07:00 in Europe/Zurich
const START = END - 24 * H;
const families = new Map([['ssh_bruteforce', 'ssh'], ['failed_logins', 'ssh'], ['web_scan', 'web']]);

function rec(type, id, atMs, o = {}) {
  return {
    type, id, at: new Date(atMs).toISOString(), rule: o.rule ?? 'ssh_bruteforce', severity: o.severity ?? 'high',
    first: o.first ?? new Date(atMs - 60_000).toISOString().replace('.000', ''), last: new Date(atMs).toISOString().replace('.000', ''),
    count: o.count ?? 5, key_field: 'ip', key: o.ip ?? '203.0.113.7', ips: [o.ip ?? '203.0.113.7'], users: o.users ?? ['root'], hosts: ['web1'],
  };
}

describe('the daily digest', () => {
  test('says there were no alerts, states the exact period, and still shows what was read', () => {
    const cov = new Coverage(START);
    cov.observe('/var/log/auth.log', 'file', { lines: 1200, unparsed: 3, parsed: 1197, events: 0, matchedLines: 0 }, END - H);
    const d = buildDigest({ host: 'web1', start: START, end: END, timeZone: 'Europe/Zurich', records: [], coverage: cov.snapshot(), families });
    const text = digestText(d);
    assert.match(text, /Period: 2026-11-28 07:00 to 2026-11-29 07:00 \(Europe\/Zurich\), 24 h/);
    assert.match(text, /No alerts in the last 24 h\./);
    assert.match(text, /\/var\/log\/auth\.log \(file\): 1200 lines, 3 not parsed, 1197 matched no rule/);
    assert.doesNotMatch(text, /STOPPED GROWING/);
    const mail = digestMail(d);
    assert.equal(mail.subject, '[logward] web1: no alerts in the last 24 h');
    assert.equal(mail.messageId, 'digest-2026-11-29.web1@logward');
    assert.equal(mail.attachments[0].filename, 'logward-incidents-2026-11-29.csv');
    assert.equal(mail.attachments[0].content.trim().split('\n').length, 1, 'a header-only CSV');
  });

  test('lists incidents of the period per family, and tells new offenders from repeat ones', () => {
    const records = [
      rec('opened', 'old1', START - 5 * 24 * H, { ip: '198.51.100.9' }), // history: alerted days ago
      rec('opened', 'a', START + H, { ip: '198.51.100.9', users: ['admin', 'oracle'] }),
      rec('opened', 'b', START + 2 * H, { ip: '203.0.113.7' }),
      rec('closed', 'b', START + 3 * H, { ip: '203.0.113.7', count: 40 }),
      rec('opened', 'c', START + 4 * H, { rule: 'web_scan', severity: 'medium', ip: '192.0.2.44', users: [] }),
      rec('opened', 'late', END + H), // after the period
    ];
    const d = buildDigest({ host: 'web1', start: START, end: END, timeZone: 'UTC', records, coverage: null, families, origin: (ip) => (ip === '203.0.113.7' ? 'US/Chicago (AS15169 Google LLC)' : null) });
    assert.deepEqual(d.incidents.map((i) => i.id).sort(), ['a', 'b', 'c']);
    assert.equal(d.incidents.find((i) => i.id === 'b').count, 40, 'the closed record gives the final count');
    assert.deepEqual(d.families.map((f) => f.family), ['ssh', 'web']);
    const text = digestText(d);
    assert.match(text, /== ssh ==[\s\S]*ssh_bruteforce\s+2/);
    assert.match(text, /198\.51\.100\.9\s+1 incident \(repeat, first alerted \d{4}-\d\d-\d\d\) users: admin, oracle/);
    assert.match(text, /203\.0\.113\.7\s+US\/Chicago \(AS15169 Google LLC\) 1 incident \(new\)/);
    assert.match(text, /== web ==[\s\S]*web_scan\s+1/);
    assert.match(text, /No source was read in this period/);
    assert.equal(digestMail(d).subject, '[logward] web1: 3 alerts in the last 24 h (worst: high)');
    const csv = digestCsv(d).trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[0], /"id","rule","severity"/);
  });

  test('shows an incident still open at digest time as it stands, not with the count it opened with', () => {
    const records = [
      rec('opened', 'open1', START + H, { ip: '198.51.100.9', count: 5 }), // still open: only its opened record
      rec('opened', 'done', START + 2 * H, { ip: '203.0.113.7', count: 5 }),
      rec('closed', 'done', START + 3 * H, { ip: '203.0.113.7', count: 12 }),
    ];
    const now = {
      id: 'open1', rule: 'ssh_bruteforce', severity: 'high', key: '198.51.100.9', keyField: 'ip', first: START + H - 60_000, last: START + 5 * H, firedAt: START + H,
      count: 30, ips: ['198.51.100.9'], users: ['root', 'admin'], hosts: ['web1'], truncated: false, samples: [], windowMs: 600_000, threshold: 5,
    };
    const d = buildDigest({ host: 'web1', start: START, end: END, timeZone: 'UTC', records, coverage: null, families, open: [now] });
    const open1 = d.incidents.find((i) => i.id === 'open1');
    assert.deepEqual([open1.count, open1.last, open1.users, open1.alertedAt], [30, new Date(START + 5 * H).toISOString().replace('.000', ''), ['root', 'admin'], records[0].at]);
    assert.equal(d.incidents.find((i) => i.id === 'done').count, 12, 'a closed incident keeps its final count');
    assert.match(digestText(d), /198\.51\.100\.9\s+1 incident \(new\) users: root, admin/);
    assert.match(digestText(d), /ssh_bruteforce\s+ip=198\.51\.100\.9\s+30\n/);
  });

  test('flags a source that stopped growing', () => {
    const cov = new Coverage(START);
    cov.observe('/var/log/nginx/access.log', 'file', { lines: 10, unparsed: 0, parsed: 10, events: 0, matchedLines: 0 }, START - 3 * 24 * H);
    cov.reset(START);
    const d = buildDigest({ host: 'h', start: START, end: END, timeZone: 'UTC', records: [], coverage: cov.snapshot(), families });
    assert.match(digestText(d), /access\.log \(file\): 0 lines.*STOPPED GROWING/);
    assert.match(digestHtml(d), /stopped growing/);
  });

  test('shows the most frequent shapes of the lines no rule matched', () => {
    const cov = new Coverage(START);
    for (let i = 0; i < 5; i++) cov.unmatched('auth.log', 'file', `Connection closed by 192.0.2.${i} port ${40000 + i} [preauth]`);
    cov.unmatched('auth.log', 'file', 'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)');
    const d = buildDigest({ host: 'h', start: START, end: END, timeZone: 'UTC', records: [], coverage: cov.snapshot(), families });
    const text = digestText(d);
    assert.match(text, new RegExp(`~${5 * SHAPE_SAMPLE}  Connection closed by <ip> port # \\[preauth\\]`));
    assert.match(text, new RegExp(`~${SHAPE_SAMPLE}  pam_unix\\(cron:session\\): session opened for user root\\(uid=#\\) by \\(uid=#\\)`));
  });

  test('keeps log-derived text on one line in the text part and escaped in the HTML part', () => {
    const evil = 'x\r\nBcc: victim@example.com\r\n<script>alert(1)</script>';
    const records = [rec('opened', 'e', START + H, { users: [evil] })];
    const d = buildDigest({ host: 'web1', start: START, end: END, timeZone: 'UTC', records, coverage: null, families });
    const text = digestText(d);
    assert.doesNotMatch(text, /\nBcc:/);
    const html = digestHtml(d);
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&#60;script&#62;/);
  });
});

describe('message shapes and safe text', () => {
  test('replace addresses, numbers and hex ids', () => {
    assert.equal(shapeOf('Accepted publickey for deploy from 2001:db8::7 port 5022 ssh2: ED25519 SHA256:abc'), 'Accepted publickey for deploy from <ip> port # ssh#: ED# SHA#:abc');
    assert.equal(shapeOf('session deadbeef01 started'), 'session <hex> started');
  });

  test('never let a control character or an over-long value through', () => {
    assert.equal(oneLine('a\nb\tc\u0000d'), 'a\\x0ab c\\x00d');
    assert.equal(oneLine('\u001b[2Jx\u202ey\u2028z\u0085'), '\\x1b[2Jx\\u202ey\\u2028z\\x85');
    assert.equal(oneLine('x'.repeat(500)).length, 200);
    assert.equal(escapeHtml(`<a href="x">'&`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
  });
});

describe('alert mail', () => {
  const incident = (id, severity = 'high', user = 'root') => ({
    id, rule: 'ssh_bruteforce', severity, key: '203.0.113.7', keyField: 'ip', first: END - 60_000, last: END, firedAt: END, count: 12,
    ips: ['203.0.113.7'], users: [user], hosts: ['web1'], truncated: false, samples: [{ source: '/var/log/auth.log', line: 7, time: END, text: 'Failed password for root' }],
    windowMs: 600_000, threshold: 5,
  });
  const config = (o = {}) => ({ mail: { alertMinSeverity: 'high', alertsPerHour: 2, ...o }, webhook: { url: null, minSeverity: 'medium' }, delivery: { alertStream: null } });
  const silent = { error() {}, warn() {}, info() {}, debug() {} };

  test('names rule, key, count and host in a one-line subject, whatever the user name', () => {
    const m = alertMail(incident('i1', 'high', 'x\r\nSubject: pwned'), 'web1', END);
    assert.equal(m.subject, '[logward] HIGH ssh_bruteforce ip=203.0.113.7: 12 events on web1');
    assert.equal(m.messageId, 'alert-i1.web1@logward');
    assert.match(m.text, /Users:     x\\x0d\\x0aSubject: pwned/);
    assert.doesNotMatch(m.text, /\nSubject:/);
  });

  test('mails serious incidents at once, at most N an hour, and folds the rest into one follow-up', () => {
    const queued = [];
    let now = END;
    const d = new AlertDispatcher(config(), 'web1', { enqueue: (m) => { queued.push(m); return 'queued'; } }, silent, { now: () => now }, null);
    d.alert(incident('low1', 'medium'), {});
    for (const id of ['a', 'b', 'c', 'd']) d.alert(incident(id), {});
    assert.deepEqual(queued.map((m) => m.id), ['alert-a', 'alert-b']);
    d.tick();
    assert.equal(queued.length, 2, 'no follow-up while the hour is full');
    now += H + 1;
    d.tick();
    assert.equal(queued.length, 3);
    assert.match(queued[2].mail.subject, /2 more alerts on web1 \(mail limit reached\)/);
    assert.match(queued[2].mail.text, /ssh_bruteforce\s+ip=203\.0\.113\.7/);
    // The limiter's state survives a restart.
    const d2 = new AlertDispatcher(config(), 'web1', { enqueue: (m) => { queued.push(m); return 'queued'; } }, silent, { now: () => now }, d.state());
    d2.alert(incident('e'), {});
    assert.equal(queued.length, 4);
    d2.alert(incident('f'), {});
    assert.equal(queued.length, 4, 'the follow-up counted against the hour');
  });
});
