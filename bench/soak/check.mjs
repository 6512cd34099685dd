// The soak's verdicts, computed after the daemon stopped, from what it left on disk (the
// events file, the incident journal, the outbox), what the mail server received, the
// daemons' own log lines and the RSS samples. Each check returns ok plus the numbers
// behind it, so a failure says what was lost or repeated and where.

import fs from 'node:fs';
import path from 'node:path';
import { SEQ_USER, ipOf } from './traffic.mjs';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

function jsonLines(file) {
  if (!fs.existsSync(file)) return { rows: [], bad: 0 };
  const text = fs.readFileSync(file, 'utf8');
  const rows = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      bad++;
    }
  }
  return { rows, bad };
}

/** (1) Every attack line gave exactly one event per rule that matches it. */
export function checkEvents({ eventsFile, traffic, rules }) {
  const n = traffic.attacks.campaign.length;
  const counts = new Map(rules.map((r) => [r, new Uint16Array(n)]));
  const text = fs.existsSync(eventsFile) ? fs.readFileSync(eventsFile, 'utf8') : '';
  let total = 0, attack = 0, bad = 0, foreign = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    total++;
    if (!line.includes('"user":"soak')) continue;
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    const m = SEQ_USER.exec(ev.user ?? '');
    const seq = m === null ? -1 : Number(m[1]);
    const c = counts.get(ev.rule);
    if (seq < 0 || seq >= n || c === undefined || ev.ip !== ipOf(traffic.attacks.campaign[seq])) {
      foreign++;
      continue;
    }
    attack++;
    c[seq]++;
  }
  const lost = [], partial = [], dup = [];
  for (let s = 0; s < n; s++) {
    let zero = 0, many = 0;
    for (const c of counts.values()) {
      if (c[s] === 0) zero++;
      else if (c[s] > 1) many++;
    }
    if (zero === rules.length) lost.push(s);
    else if (zero > 0) partial.push(s);
    if (many > 0) dup.push(s);
  }
  // Where each lost line was written: in which file generation, how that file ended, and
  // whether the line was in the unread tail of a copytruncated file (every attack line
  // after it in that generation lost too), which copytruncate itself cannot give back.
  const causes = {};
  const isLost = new Uint8Array(n);
  for (const s of lost) isLost[s] = 1;
  for (const s of lost) {
    const g = traffic.attacks.gen[s];
    const r = traffic.rotations.find((x) => x.gen === g);
    let tail = r !== undefined;
    for (let k = s; tail && k <= r.lastSeq; k++) if (!isLost[k]) tail = false;
    const why = r === undefined
      ? 'in the last file'
      : `${tail && r.kind === 'copytruncate' ? 'unread tail at a copytruncate' : `file ended by ${r.kind}, not its tail`} (daemon ${r.daemonUp ? 'running' : 'down or starting'})`;
    causes[why] = (causes[why] ?? 0) + 1;
  }
  const ok = lost.length === 0 && partial.length === 0 && dup.length === 0 && bad === 0 && foreign === 0 && (text === '' || text.endsWith('\n'));
  return { ok, attackLines: n, events: total, attackEvents: attack, expected: n * rules.length, lost: lost.length, lostSample: lost.slice(0, 10), lostCauses: causes, partial: partial.length, duplicated: dup.length, dupSample: dup.slice(0, 10), unreadable: bad, foreign };
}

/** Incidents of the journal, and per attack address how many ssh_bruteforce incidents opened. */
export function readIncidents(stateDir) {
  const { rows, bad } = jsonLines(path.join(stateDir, 'incidents.jsonl'));
  const opened = rows.filter((r) => r.type === 'opened');
  const ids = new Map();
  for (const r of opened) ids.set(r.id, (ids.get(r.id) ?? 0) + 1);
  return { opened, ids, bad, journaledTwice: [...ids.values()].filter((c) => c > 1).length };
}

/** Campaigns of 5 or more lines must open exactly one ssh_bruteforce incident; shorter ones none. */
export function checkCampaigns({ traffic, incidents }) {
  const per = new Map();
  for (const r of incidents.opened) if (r.rule === 'ssh_bruteforce' && typeof r.key === 'string' && r.key.startsWith('198.1')) per.set(r.key, (per.get(r.key) ?? 0) + 1);
  let expected = 0, missing = 0, twice = 0, unexpected = 0;
  // The campaigns still running at the end may not have reached their target: judge by lines written.
  traffic.campaignLines.forEach((lines, c) => {
    const got = per.get(ipOf(c)) ?? 0;
    if (lines >= 5) {
      expected++;
      if (got === 0) missing++;
      if (got > 1) twice++;
    } else if (got > 0) unexpected++;
  });
  return { ok: missing === 0 && twice === 0 && unexpected === 0, campaigns: traffic.campaignLines.length, expected, missing, twice, unexpected };
}

/** What every daemon process said about each outbox id: delivered, or a failed attempt. */
function deliveryLog(lives) {
  const out = new Map();
  for (const life of lives) {
    if (!fs.existsSync(life.log)) continue;
    for (const line of fs.readFileSync(life.log, 'utf8').split('\n')) {
      if (!line.includes('"id":"alert-') && !line.includes('"id":"folded-')) continue;
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue; // a line cut by kill -9
      }
      const kind = typeof r.msg !== 'string' ? null : r.msg.includes(' delivered via ') ? 'delivered' : r.msg.includes(' not delivered (attempt') ? 'failed' : null;
      if (kind === null) continue;
      let e = out.get(r.id);
      if (e === undefined) out.set(r.id, (e = []));
      e.push({ life: life.n, kind, at: r.time });
    }
  }
  return out;
}

/**
 * (2) No incident mailed twice, every alerted incident mailed. A repeated Message-ID is
 * explained when the copy before it was accepted by the server and then either the
 * daemon that sent it was killed before logging it delivered (the documented window:
 * accepted, not yet recorded as sent), or that daemon logged the attempt as failed
 * (the server was stopping and its reply never arrived).
 */
export function checkMail({ sink, incidents, lives, minSeverity, outboxDir }) {
  const byId = new Map();
  let folded = 0, other = 0;
  for (const m of sink.received) {
    if (/^folded-/.test(m.messageId ?? '')) folded++;
    const id = /^(alert-[0-9a-f]{16})\./.exec(m.messageId ?? '')?.[1];
    if (id === undefined) {
      other++;
      continue;
    }
    let e = byId.get(id);
    if (e === undefined) byId.set(id, (e = []));
    e.push(m.at);
  }
  const log = deliveryLog(lives);
  const lifeAt = (t) => lives.find((l) => l.start <= t && (l.end === null || t <= l.end));
  const crash = [], replyLost = [], unexplained = [];
  for (const [id, ats] of byId) {
    for (let k = 1; k < ats.length; k++) {
      const first = ats[k - 1];
      const life = lifeAt(first);
      const said = (log.get(id) ?? []).filter((x) => life !== undefined && x.life === life.n && x.at >= first - 50);
      const row = { id, copies: ats.length, firstAt: new Date(first).toISOString(), life: life?.n ?? null };
      if (life !== undefined && life.how === 'kill -9' && !said.some((x) => x.kind === 'delivered')) crash.push({ ...row, killedAfterMs: life.end - first });
      else if (said.some((x) => x.kind === 'failed') && !said.some((x) => x.kind === 'delivered')) replyLost.push(row);
      else unexplained.push(row);
    }
  }
  const min = SEVERITIES.indexOf(minSeverity);
  const alerted = incidents.opened.filter((r) => SEVERITIES.indexOf(r.severity) >= min);
  const notMailed = alerted.filter((r) => !byId.has(`alert-${r.id}`)).map((r) => r.id);
  const journalIds = new Set(incidents.opened.map((r) => r.id));
  const unjournaled = [...byId.keys()].filter((id) => !journalIds.has(id.slice('alert-'.length)));
  const pending = fs.existsSync(path.join(outboxDir, 'pending')) ? fs.readdirSync(path.join(outboxDir, 'pending')).filter((n) => n.endsWith('.json')).length : -1;
  const dead = fs.existsSync(path.join(outboxDir, 'dead')) ? fs.readdirSync(path.join(outboxDir, 'dead')).length : -1;
  const ok = unexplained.length === 0 && notMailed.length === 0 && unjournaled.length === 0 && pending === 0 && dead === 0 && folded === 0 && incidents.journaledTwice === 0 && incidents.bad === 0;
  return {
    ok, received: sink.received.length, distinct: byId.size, alerted: alerted.length, notMailed: notMailed.length, notMailedSample: notMailed.slice(0, 5),
    unjournaled: unjournaled.length, pending, dead, folded, other,
    duplicates: crash.length + replyLost.length + unexplained.length, crashWindow: crash, replyLost, unexplained,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};

/**
 * (3) Memory stays flat: per process lifetime its peak; over the longest-lived process,
 * the RSS around 25 % of its life against the RSS over its last 10 % (medians, so a
 * garbage collection in progress does not decide it), as a slope and a growth.
 */
export function checkMemory({ lives, growthMB, growthPct }) {
  const per = lives.filter((l) => l.rss.length > 0).map((l) => ({
    n: l.n, pid: l.pid, seconds: Math.round(((l.end ?? Date.now()) - l.start) / 1000), samples: l.rss.length,
    peakMB: Math.max(...l.rss.map((x) => x[1])), lastMB: l.rss[l.rss.length - 1][1], how: l.how,
  }));
  const longest = lives.filter((l) => l.rss.length >= 20).sort((a, b) => b.rss.length - a.rss.length)[0];
  if (longest === undefined) return { ok: false, per, why: 'no daemon process lived 20 s' };
  const s = longest.rss;
  const t0 = s[0][0], t1 = s[s.length - 1][0], life = t1 - t0;
  const around = (a, b) => s.filter(([t]) => t >= t0 + a * life && t <= t0 + b * life).map((x) => x[1]);
  const at25 = median(around(0.2, 0.3));
  const atEnd = median(around(0.9, 1));
  const growth = atEnd - at25;
  const slope = growth / ((0.7 * life) / 60_000);
  const limit = Math.max(growthMB, (growthPct / 100) * at25);
  return { ok: growth <= limit, per, longest: { n: longest.n, pid: longest.pid, minutes: Math.round(life / 6000) / 10, at25MB: at25, atEndMB: atEnd, growthMB: growth, slopeMBPerMin: Math.round(slope * 10) / 10, limitMB: Math.round(limit) } };
}
