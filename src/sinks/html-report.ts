// The HTML report: one self-contained file (inline CSS, SVG and a little JS, nothing
// fetched), for operators who would rather look than read. Events per rule over time,
// incidents per rule, top offending addresses with their origin, what each source gave,
// and the incidents table (sortable, filterable). Every log-derived text is escaped.

import { isoUtc } from '../core/time.js';
import type { Incident } from '../core/types.js';
import { escapeHtml } from '../util/text.js';
import type { ReportCollector } from './collector.js';
import type { OriginOf, ReportMeta } from './report.js';

const BARS = 60;
const TOP = 15;
const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const e = (s: string): string => escapeHtml(s);

export function renderHtmlReport(c: ReportCollector, meta: ReportMeta): string {
  const incidents = c.sortedIncidents();
  const rules = [...c.minutes.keys()].sort();
  const h: string[] = [];
  h.push('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">');
  h.push(`<title>logward report ${e(isoUtc(meta.generatedMs))}</title><style>${CSS}</style></head><body>`);
  h.push(`<h1>logward report</h1><p class="meta">${e(meta.command)} · generated ${e(isoUtc(meta.generatedMs))} · logward ${e(meta.version)}</p>`);
  const lines = c.sources.reduce((a, s) => a + s.stats.lines, 0);
  h.push('<section class="cards">');
  h.push(card('incidents', incidents.length), card('events', c.eventsTotal), card('lines read', lines), card('sources', c.sources.length));
  h.push('</section>');
  h.push('<h2>Events per rule over time</h2>', timeChart(c, rules));
  h.push('<h2>Incidents per rule</h2>', incidentBars(incidents));
  h.push('<h2>Top offending addresses</h2>', offenders(incidents, meta.originOf));
  h.push('<h2>Sources</h2>', sources(c));
  h.push('<h2 id="incidents">Incidents</h2>', incidentTable(incidents));
  if (meta.attribution !== undefined) h.push(`<p class="meta">${e(meta.attribution)}</p>`);
  h.push(`<script>${JS}</script></body></html>`);
  return h.join('\n');
}

function card(label: string, n: number): string {
  return `<div class="card"><div class="n" data-metric="${e(label)}">${n.toLocaleString('en-US')}</div><div>${e(label)}</div></div>`;
}

/** Stacked bars: per-minute counts re-bucketed into at most BARS buckets. */
function timeChart(c: ReportCollector, rules: string[]): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of c.minutes.values()) for (const t of m.keys()) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  if (!Number.isFinite(lo)) return '<p>No events.</p>';
  const span = hi - lo + 60_000;
  const width = Math.max(60_000, Math.ceil(span / BARS / 60_000) * 60_000);
  const n = Math.ceil(span / width);
  const stacks = rules.map(() => new Array<number>(n).fill(0));
  rules.forEach((r, ri) => {
    for (const [t, k] of c.minutes.get(r)!) stacks[ri]![Math.floor((t - lo) / width)]! += k;
  });
  const totals = new Array<number>(n).fill(0).map((_, i) => stacks.reduce((a, s) => a + s[i]!, 0));
  const max = Math.max(1, ...totals);
  const W = 900;
  const H = 220;
  const bw = W / n;
  const svg: string[] = [`<svg viewBox="0 0 ${W} ${H + 20}" class="chart" role="img" aria-label="events per rule over time">`];
  for (let i = 0; i < n; i++) {
    let y = H;
    rules.forEach((r, ri) => {
      const v = stacks[ri]![i]!;
      if (v === 0) return;
      const bh = (v / max) * (H - 10);
      y -= bh;
      svg.push(`<rect x="${(i * bw + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${COLORS[ri % COLORS.length]}"><title>${e(r)} ${e(isoUtc(lo + i * width))}: ${v}</title></rect>`);
    });
  }
  svg.push(`<text x="0" y="${H + 16}" class="axis">${e(isoUtc(lo))}</text><text x="${W}" y="${H + 16}" text-anchor="end" class="axis">${e(isoUtc(hi))}</text></svg>`);
  const legend = rules.map((r, ri) => `<span><i style="background:${COLORS[ri % COLORS.length]}"></i>${e(r)} (${c.byRule.get(r)?.events ?? 0})</span>`).join(' ');
  return `${svg.join('')}<p class="legend">${legend} · ${width / 60_000} min per bar, up to ${max} events</p>`;
}

function incidentBars(incidents: readonly Incident[]): string {
  if (incidents.length === 0) return '<p>No incidents.</p>';
  const per = new Map<string, number>();
  for (const i of incidents) per.set(i.rule, (per.get(i.rule) ?? 0) + 1);
  const rows = [...per].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = rows[0]![1];
  return `<table class="bars">${rows.map(([r, k]) => `<tr><td>${e(r)}</td><td><div class="bar" style="width:${Math.max(1, (k / max) * 100).toFixed(1)}%"></div></td><td class="num" data-rule="${e(r)}">${k}</td></tr>`).join('')}</table>`;
}

function offenders(incidents: readonly Incident[], originOf: OriginOf | undefined): string {
  const m = new Map<string, { incidents: number; rules: Set<string>; users: Set<string> }>();
  for (const i of incidents) {
    for (const ip of i.ips) {
      let o = m.get(ip);
      if (o === undefined) m.set(ip, (o = { incidents: 0, rules: new Set(), users: new Set() }));
      o.incidents++;
      o.rules.add(i.rule);
      if (i.ips.length === 1) for (const u of i.users) if (o.users.size < 10) o.users.add(u);
    }
  }
  if (m.size === 0) return '<p>No addresses.</p>';
  const rows = [...m].sort((a, b) => b[1].incidents - a[1].incidents || a[0].localeCompare(b[0])).slice(0, TOP);
  return `<table><thead><tr><th>address</th><th>origin</th><th>incidents</th><th>rules</th><th>users tried</th></tr></thead><tbody>${rows.map(([ip, o]) =>
    `<tr><td>${e(ip)}</td><td>${e(originOf?.(ip) ?? '')}</td><td class="num">${o.incidents}</td><td>${e([...o.rules].join(', '))}</td><td>${e([...o.users].join(', '))}</td></tr>`).join('')}</tbody></table>`;
}

function sources(c: ReportCollector): string {
  if (c.sources.length === 0) return '<p>No source read.</p>';
  return `<table><thead><tr><th>source</th><th>format</th><th>lines</th><th>not parsed</th><th>cut</th><th>events</th><th>first</th><th>last</th></tr></thead><tbody>${c.sources.map((s) =>
    `<tr><td>${e(s.file)}</td><td>${e(s.stats.format ?? '-')}</td><td class="num">${s.stats.lines}</td><td class="num">${s.stats.unparsed}</td><td class="num">${s.cut}</td><td class="num">${s.stats.events}</td><td>${s.stats.firstTime === null ? '' : e(isoUtc(s.stats.firstTime))}</td><td>${s.stats.lastTime === null ? '' : e(isoUtc(s.stats.lastTime))}</td></tr>`).join('')}</tbody></table>`;
}

function incidentTable(incidents: readonly Incident[]): string {
  if (incidents.length === 0) return '<p>No incidents.</p>';
  const head = ['first', 'last', 'severity', 'rule', 'key', 'count', 'addresses', 'users', 'sample'];
  const rows = incidents.map((i) => [
    isoUtc(i.first), isoUtc(i.last), i.severity, i.rule, i.key === null ? '(host-wide)' : `${i.keyField ?? 'key'}=${i.key}`, String(i.count),
    i.ips.slice(0, 10).join(' '), i.users.slice(0, 10).join(' '), i.samples[0]?.text ?? '',
  ]);
  return `<input id="filter" type="search" placeholder="filter incidents" aria-label="filter incidents"> <span id="shown">${incidents.length}</span> shown
<table id="inc" class="sortable"><thead><tr>${head.map((c, i) => `<th data-col="${i}">${c}</th>`).join('')}</tr></thead><tbody>${rows.map((r) =>
    `<tr>${r.map((v, i) => `<td${i === 5 ? ' class="num"' : ''}>${e(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h1{margin:0}h2{margin-top:28px;font-size:17px}
.meta{color:#666}.cards{display:flex;gap:12px;margin-top:12px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px}.card .n{font-size:22px;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f6f6f6;cursor:pointer}
td.num{text-align:right;font-variant-numeric:tabular-nums}.bars td:nth-child(2){width:70%}.bar{background:#4e79a7;height:12px}
.chart{width:100%;max-width:900px;height:auto;border-bottom:1px solid #ccc}.axis{font-size:11px;fill:#666}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
#inc td:last-child{font-family:monospace;font-size:12px;word-break:break-all}`;

// Sorting and filtering of the incidents table; no network, no library.
const JS = `(function(){var t=document.getElementById('inc');if(!t)return;var b=t.tBodies[0],f=document.getElementById('filter'),s=document.getElementById('shown');
t.tHead.addEventListener('click',function(ev){var th=ev.target.closest('th');if(!th)return;var c=+th.dataset.col,d=th.dataset.dir==='asc'?'desc':'asc';th.dataset.dir=d;
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){var a=x.cells[c].textContent,z=y.cells[c].textContent,na=parseFloat(a),nz=parseFloat(z);
var r=(!isNaN(na)&&!isNaN(nz)&&c===5)?na-nz:a.localeCompare(z);return d==='asc'?r:-r});rows.forEach(function(r){b.appendChild(r)})});
f.addEventListener('input',function(){var q=f.value.toLowerCase(),n=0;Array.prototype.forEach.call(b.rows,function(r){var v=r.textContent.toLowerCase().indexOf(q)>=0;r.style.display=v?'':'none';if(v)n++});s.textContent=n})})();`;
