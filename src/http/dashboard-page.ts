// The live dashboard: one page with no external resources. Its script opens /events
// (Server-Sent Events) and redraws from each snapshot. Everything taken from logs goes into
// the page through textContent or SVG text nodes, never as markup, so a crafted user name
// or URL stays text, and with its control, separator and bidi characters shown as escapes
// (\u202e), as in every other output. The script runs under a nonce-based
// Content-Security-Policy.

import { CONTROL_PATTERN, escapeHtml } from '../util/text.js';

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--mute:#667085;--line:#e4e7ec;--crit:#b42318;--high:#d9480f;--med:#b54708;--low:#3b6fd6;--info:#667085;--ok:#067647}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:12px;padding:12px 20px;background:#101828;color:#fff}
header h1{font-size:18px;margin:0;font-weight:600}header .host{color:#cbd5e1}
#conn{margin-left:auto;font-size:12px;padding:2px 10px;border-radius:10px;background:#475467}
#conn.live{background:var(--ok)}#conn.down{background:var(--crit)}
main{padding:16px 20px;display:grid;gap:16px;grid-template-columns:repeat(12,1fr)}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
section h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute);margin:0 0 8px}
.totals{grid-column:1/-1;display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
.total{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.total b{display:block;font-size:24px;font-variant-numeric:tabular-nums}.total span{color:var(--mute);font-size:12px}
.wide{grid-column:span 7}.narrow{grid-column:span 5}.full{grid-column:1/-1}
@media (max-width:1000px){.wide,.narrow{grid-column:1/-1}.totals{grid-template-columns:repeat(3,1fr)}}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 6px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sev{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:11px;font-weight:600}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.open{color:var(--crit);font-weight:600}.closed{color:var(--mute)}
tr.fresh{animation:fresh 2s ease-out}@keyframes fresh{from{background:#fef0c7}to{background:transparent}}
.state-ok{color:var(--ok)}.state-lagging{color:var(--crit);font-weight:600}.state-quiet,.state-waiting{color:var(--med)}
.empty{color:var(--mute);padding:8px 0}
.origin{color:var(--mute);font-size:12px}section{overflow-x:auto}
svg text{font-size:11px;fill:var(--mute)}.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;margin-top:6px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
footer{padding:0 20px 16px;color:var(--mute);font-size:12px}
`;

// Plain browser JavaScript (no build step): the server inserts it verbatim under a nonce.
const SCRIPT = String.raw`
// The same characters util/text.ts escapes, written the same way.
const CONTROL = new RegExp(${JSON.stringify(CONTROL_PATTERN)}, 'g');
function shown(s) {
  return String(s).replace(CONTROL, (c) => { const n = c.charCodeAt(0); return n < 0x100 ? '\\x' + n.toString(16).padStart(2, '0') : '\\u' + n.toString(16).padStart(4, '0'); });
}
const COLORS = ['#3b6fd6','#d9480f','#067647','#9e77ed','#b42318','#0e9384','#c11574','#b54708','#475467','#2e90fa'];
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat('en');
const seenIds = new Set();
let first = true;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(shown(kid)));
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}
function time(ms) { return ms == null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19); }
function ago(ms, now) {
  if (ms == null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago';
}
function bytes(n) { return n == null ? '' : n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB'; }
function replace(id, ...kids) { $(id).replaceChildren(...kids); }
function cell(v, cls) { return el('td', cls ? { class: cls } : {}, v); }

function totals(v) {
  const t = v.totals;
  for (const [k, n] of Object.entries({ lines: t.lines, events: t.events, alerted: t.alerted, open: t.open, notParsed: t.notParsed, outbox: t.outbox })) {
    $('t-' + k).textContent = fmt.format(n);
  }
}

function chart(v) {
  const W = 760, H = 200, L = 40, B = 22, T = 8;
  const rules = Object.keys(v.series).sort();
  const n = v.minutes.length;
  let max = 1;
  for (let k = 0; k < n; k++) { let s = 0; for (const r of rules) s += v.series[r][k]; if (s > max) max = s; }
  const box = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-label': 'events per minute per rule' });
  const bw = (W - L) / n;
  for (const frac of [0, 0.5, 1]) {
    const y = T + (H - T - B) * (1 - frac);
    box.append(svg('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#e4e7ec' }));
    const label = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' });
    label.textContent = String(Math.round(max * frac));
    box.append(label);
  }
  for (let k = 0; k < n; k++) {
    let y = H - B;
    rules.forEach((r, ri) => {
      const c = v.series[r][k];
      if (c === 0) return;
      const h = (H - T - B) * c / max;
      y -= h;
      const rect = svg('rect', { x: L + k * bw + 0.5, y: y, width: Math.max(1, bw - 1), height: h, fill: COLORS[ri % COLORS.length] });
      const tip = svg('title', {});
      tip.textContent = shown(r) + ': ' + c + ' at ' + time(v.minutes[k]).slice(11, 16);
      rect.append(tip);
      box.append(rect);
    });
  }
  for (const k of [0, Math.floor(n / 2), n - 1]) {
    const label = svg('text', { x: L + k * bw + bw / 2, y: H - 6, 'text-anchor': k === 0 ? 'start' : k === n - 1 ? 'end' : 'middle' });
    label.textContent = time(v.minutes[k]).slice(11, 16);
    box.append(label);
  }
  const legend = el('div', { class: 'legend' });
  rules.forEach((r, ri) => {
    const i = el('i');
    i.style.background = COLORS[ri % COLORS.length];
    legend.append(el('span', {}, i, r + ' (' + fmt.format((v.rules.find((x) => x.rule === r) || { events: 0 }).events) + ')'));
  });
  replace('chart', box, legend);
  $('chart-range').textContent = time(v.minutes[0]).slice(0, 16) + ' to ' + time(v.minutes[n - 1] + 60000).slice(11, 16) + ' UTC (event time)';
}

function incidents(v) {
  const body = $('incidents');
  if (v.incidents.length === 0) { body.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No incidents yet.'))); return; }
  const rows = v.incidents.map((i) => {
    const tr = el('tr', { 'data-id': i.id, 'data-rule': i.rule },
      el('td', {}, el('span', { class: 'sev sev-' + i.severity }, i.severity)),
      cell(i.rule),
      cell(i.key == null ? '(host)' : i.key),
      cell(i.origin || ''),
      cell(i.count, 'n'),
      cell(time(i.first) + ' \u2192 ' + time(i.last).slice(11)),
      el('td', {}, el('span', { class: i.open ? 'open' : 'closed' }, i.open ? 'open' : 'closed')),
      cell(i.sample || '', 'text'));
    tr.title = shown(i.sample || '');
    if (!first && !seenIds.has(i.id)) tr.className = 'fresh';
    return tr;
  });
  for (const i of v.incidents) seenIds.add(i.id);
  body.replaceChildren(...rows);
}

function offenders(v) {
  const body = $('offenders');
  if (v.offenders.length === 0) { body.replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No offenders yet.'))); return; }
  body.replaceChildren(...v.offenders.map((o) => el('tr', {},
    el('td', {}, el('div', { class: 'ip' }, o.ip), el('div', { class: 'origin' }, o.origin || '')),
    cell(o.incidents, 'n'), cell(fmt.format(o.events), 'n'), cell(o.rules.join(', ')))));
}

function sources(v) {
  const body = $('sources');
  if (v.sources.length === 0) { body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'No source is being read.'))); return; }
  body.replaceChildren(...v.sources.map((s) => el('tr', {},
    cell(s.source), cell(s.kind),
    el('td', {}, el('span', { class: 'state-' + s.state }, s.state)),
    cell(ago(s.lastLineAt, v.now)), cell(bytes(s.lagBytes)), cell(fmt.format(s.lines), 'n'), cell(fmt.format(s.notParsed), 'n'))));
}

function draw(v) {
  $('host').textContent = shown(v.host);
  $('updated').textContent = 'updated ' + time(v.now) + ' UTC, running since ' + time(v.startedAt) + ' UTC';
  totals(v); chart(v); incidents(v); offenders(v); sources(v);
  first = false;
  document.body.dataset.ready = 'true';
}

function connect() {
  const conn = $('conn');
  const es = new EventSource('events');
  es.addEventListener('state', (e) => { conn.textContent = 'live'; conn.className = 'live'; draw(JSON.parse(e.data)); });
  es.onerror = () => { conn.textContent = 'reconnecting'; conn.className = 'down'; };
}
connect();
`;

/** The dashboard; `signOut` adds the button that ends the session (with a token only). */
export function dashboardPage(nonce: string, signOut = false): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>logward live</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><h1>logward</h1><span class="host" id="host"></span><span id="conn">connecting</span>${signOut ? '<form method="post" action="logout"><button type="submit" id="signout">sign out</button></form>' : ''}</header>
<main>
<div class="totals">
<div class="total"><b id="t-lines">-</b><span>lines read</span></div>
<div class="total"><b id="t-events">-</b><span>events</span></div>
<div class="total"><b id="t-alerted">-</b><span>incidents alerted</span></div>
<div class="total"><b id="t-open">-</b><span>incidents open</span></div>
<div class="total"><b id="t-notParsed">-</b><span>lines not parsed</span></div>
<div class="total"><b id="t-outbox">-</b><span>messages in the outbox</span></div>
</div>
<section class="wide"><h2>Events per minute per rule</h2><div id="chart"></div><div class="legend" id="chart-range"></div></section>
<section class="narrow"><h2>Top offenders</h2><table><thead><tr><th>address and origin</th><th>incidents</th><th>events</th><th>rules</th></tr></thead><tbody id="offenders"></tbody></table></section>
<section class="full"><h2>Incidents</h2><table><thead><tr><th>severity</th><th>rule</th><th>key</th><th>origin</th><th>count</th><th>first \u2192 last (UTC)</th><th>state</th><th>last line</th></tr></thead><tbody id="incidents"></tbody></table></section>
<section class="full"><h2>Sources</h2><table><thead><tr><th>source</th><th>kind</th><th>state</th><th>last line read</th><th>lag</th><th>lines</th><th>not parsed</th></tr></thead><tbody id="sources"></tbody></table></section>
</main>
<footer id="updated"></footer>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

/** The page a browser gets without the token: a form that exchanges it for a cookie. */
export function loginPage(nonce: string, error: string | null): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>logward: token needed</title><link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE} form{max-width:420px;margin:60px auto;background:#fff;border:1px solid var(--line);border-radius:8px;padding:20px}
input{width:100%;padding:8px;margin:8px 0 12px;font:inherit}button{padding:8px 16px;font:inherit}.err{color:var(--crit)}</style></head>
<body>
<header><h1>logward</h1></header>
<form method="post" action="login">
<p>This dashboard needs the bearer token set in <code>http.token</code>.</p>
${error !== null ? `<p class="err" id="error">${escapeHtml(error)}</p>` : ''}
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button>
</form>
</body>
</html>
`;
}
