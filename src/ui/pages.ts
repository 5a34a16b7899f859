import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { escapeHtml as h } from '../report/escape-html.ts';
import type { LockEntry } from '../store/lockfile.ts';
import { dagSvg, detail } from './dag-svg.ts';
import type { UiSnapshot, UiStage } from './stage-states.ts';

function page(title: string, body: string, scripts: string[] = []): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(title)} · pipeline</title><link rel="stylesheet" href="/assets/ui.css"></head>
<body><header><a href="/">pipeline</a> <nav><a href="/">stages</a> <a href="/report">report</a></nav></header>
<main>${body}</main>
${scripts.map((s) => `<script src="${h(s)}"></script>`).join('\n')}
</body></html>
`;
}

const banner = (snap: UiSnapshot) =>
  `<p id="run-state" class="run-state ${snap.running ? 'live' : ''}">${snap.running ? 'a repro is running: states update live' : 'no run in progress: states from the store'}</p>`;

function stageRow(s: UiStage): string {
  const secs = s.seconds === null ? '' : `${s.seconds.toFixed(1)}s`;
  return `<tr data-stage="${h(s.name)}" class="state-${s.state.replace(' ', '-')}"><td><a href="/stage/${h(encodeURIComponent(s.name))}">${h(s.name)}</a></td><td class="state">${h(detail(s))}</td><td class="seconds">${h(secs)}</td><td class="error">${h(s.error ?? '')}</td></tr>`;
}

/** The front page: the DAG and a table of stages, both with states as served. */
export function dagPage(snap: UiSnapshot, groups: Array<[string, number]>): string {
  const matrices = groups.filter(([, n]) => n > 1);
  return page(
    'stages',
    `${banner(snap)}
<section class="dag-wrap">${dagSvg(snap.stages)}</section>
${matrices.length === 0 ? '' : `<p class="matrices">matrices: ${matrices.map(([g, n]) => `<a href="/matrix/${h(encodeURIComponent(g))}">${h(g)}</a> (${n})`).join(', ')}</p>`}
<table class="stages"><thead><tr><th>stage</th><th>state</th><th>time</th><th>error</th></tr></thead>
<tbody>${snap.stages.map(stageRow).join('\n')}</tbody></table>`,
    ['/assets/ui.js'],
  );
}

export interface StagePageData {
  stage: UiStage;
  entry: LockEntry | undefined;
  changed: string[];
  runs: Array<Record<string, unknown>>;
  lineage: string | null;
  log: string[];
  hasCurve: boolean;
}

function kv(rows: Array<[string, string]>): string {
  return rows.length === 0
    ? '<p class="none">none</p>'
    : `<table class="kv">${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>`;
}

function table(rows: Array<Record<string, unknown>>): string {
  const cols = rows[0] === undefined ? [] : Object.keys(rows[0]);
  if (cols.length === 0) return '<p class="none">none</p>';
  return `<table class="rows"><thead><tr>${cols.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr>${cols.map((c) => `<td>${h(r[c] === null || r[c] === undefined ? '' : String(r[c]))}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

/** A stage: fingerprint fields and what changed, params, metrics, lineage, runs, log, curves. */
export function stagePage(d: StagePageData): string {
  const e = d.entry;
  const fields: Array<[string, string]> = e === undefined ? [] : [['fingerprint', e.fingerprint]];
  if (e !== undefined) {
    if (e.cmd !== null) fields.push(['cmd', e.cmd.join(' && ')]);
    if (e.uses !== null) fields.push(['uses', e.uses]);
    for (const [k, v] of Object.entries(e.deps)) fields.push([`dep ${k}`, v.slice(0, 16)]);
    for (const [k, v] of Object.entries(e.code)) fields.push([`code ${k}`, v.slice(0, 16)]);
    for (const [k, v] of Object.entries(e.packages)) fields.push([`package ${k}`, v]);
    for (const [k, v] of Object.entries(e.outputs)) fields.push([`output ${k}`, v.hash.slice(0, 16)]);
  }
  const params =
    e === undefined ? [] : Object.entries(e.params).map(([k, v]): [string, string] => [k, canonicalJson(v)]);
  const metrics = e === undefined ? [] : Object.entries(e.metrics).map(([k, v]): [string, string] => [k, String(v)]);
  const s = d.stage;
  return page(
    s.name,
    `<h1>${h(s.name)}</h1>
<p class="stage-state state-${s.state.replace(' ', '-')}" data-stage="${h(s.name)}"><span class="state">${h(detail(s))}</span>${s.error === null ? '' : ` <span class="error">${h(s.error)}</span>`}</p>
<section id="curves" data-stage="${h(s.name)}" class="${d.hasCurve ? '' : 'empty'}"><h2>curves</h2><div id="curve"></div>${d.hasCurve ? '' : '<p class="none">no values reported yet</p>'}</section>
<h2>fingerprint</h2>${kv(fields)}
<h2>changed since the previous stored result</h2>${d.changed.length === 0 ? '<p class="none">nothing (or only one result stored)</p>' : `<ul>${d.changed.map((c) => `<li>${h(c)}</li>`).join('')}</ul>`}
<h2>params</h2>${kv(params)}
<h2>metrics</h2>${kv(metrics)}
<h2>lineage</h2>${d.lineage === null ? '<p class="none">no stored result</p>' : `<pre>${h(d.lineage)}</pre>`}
<h2>runs</h2>${table(d.runs)}
<h2>log tail</h2><pre id="log">${h(d.log.join('\n'))}</pre>`,
    ['/assets/vega.min.js', '/assets/vega-lite.min.js', '/assets/ui.js'],
  );
}

export interface MatrixRow {
  stage: string;
  state: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
}

/** A matrix's stages side by side (params, then metrics), filtered and sorted by the query string. */
export function matrixPage(
  group: string,
  rows: MatrixRow[],
  sort: string | undefined,
  desc: boolean,
  filter: string,
): string {
  const paramCols = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const metricCols = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
  const cell = (r: MatrixRow, c: string): string | number =>
    c === 'stage'
      ? r.stage
      : c === 'state'
        ? r.state
        : c.startsWith('metric:')
          ? (r.metrics[c.slice(7)] ?? '')
          : canonicalJson((r.params[c.slice(6)] ?? null) as never);
  const needle = filter.trim().toLowerCase();
  let shown = rows.filter(
    (r) => needle === '' || `${r.stage} ${canonicalJson(r.params as never)}`.toLowerCase().includes(needle),
  );
  if (sort !== undefined) {
    shown = [...shown].sort((a, b) => {
      const x = cell(a, sort);
      const y = cell(b, sort);
      const c =
        typeof x === 'number' && typeof y === 'number'
          ? x - y
          : String(x).localeCompare(String(y), 'en', { numeric: true });
      return desc ? -c : c;
    });
  }
  const cols = ['stage', 'state', ...paramCols.map((c) => `param:${c}`), ...metricCols.map((c) => `metric:${c}`)];
  const q = (c: string) =>
    `?sort=${encodeURIComponent(c)}${sort === c && !desc ? '&desc=1' : ''}${needle === '' ? '' : `&filter=${encodeURIComponent(filter)}`}`;
  const head = cols.map(
    (c) =>
      `<th class="${c.startsWith('metric:') ? 'metric' : ''}"><a href="${h(q(c))}">${h(c.replace(/^(param|metric):/, ''))}${sort === c ? (desc ? ' ▼' : ' ▲') : ''}</a></th>`,
  );
  const body = shown.map(
    (r) =>
      `<tr><td><a href="/stage/${h(encodeURIComponent(r.stage))}">${h(r.stage)}</a></td>${cols
        .slice(1)
        .map((c) => {
          const v = cell(r, c);
          return `<td class="${typeof v === 'number' ? 'num' : ''}">${h(typeof v === 'number' ? String(Number(v.toPrecision(5))) : v)}</td>`;
        })
        .join('')}</tr>`,
  );
  return page(
    group,
    `<h1>matrix ${h(group)}</h1>
<form method="get" class="filter"><input name="filter" value="${h(filter)}" placeholder="filter by stage or param"> ${sort === undefined ? '' : `<input type="hidden" name="sort" value="${h(sort)}">${desc ? '<input type="hidden" name="desc" value="1">' : ''}`}<button>filter</button></form>
<p>${shown.length} of ${rows.length} stages; click a column to sort.</p>
<table class="matrix"><thead><tr class="groups"><th colspan="2"></th>${paramCols.length === 0 ? '' : `<th colspan="${paramCols.length}">params</th>`}${metricCols.length === 0 ? '' : `<th colspan="${metricCols.length}" class="metric">metrics</th>`}</tr><tr>${head.join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`,
  );
}

export function messagePage(title: string, text: string): string {
  return page(title, `<h1>${h(title)}</h1><p>${h(text)}</p>`);
}
