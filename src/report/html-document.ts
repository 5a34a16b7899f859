import { escapeHtml } from './escape-html.ts';
import { renderProse } from './render-prose.ts';
import { shortHash } from './short-hash.ts';
import { listSources } from './source-list.ts';
import { STYLESHEET } from './stylesheet.ts';
import { tableModel } from './table-model.ts';
import type { Report, ReportChart, ReportSection, ReportSource, ReportTable, ReportText } from './types.ts';

/**
 * Assembles the self-contained HTML document from a validated report and its rendered charts
 * (chart id -> SVG). Pure and synchronous so the same inputs always give the same bytes.
 */
export function buildHtml(report: Report, charts: ReadonlyMap<string, string>): string {
  const lines = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>\n${STYLESHEET}\n</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<header>',
    `<h1>${escapeHtml(report.title)}</h1>`,
    ...(report.subtitle === undefined ? [] : [`<p class="subtitle">${renderProse.html(report.subtitle)}</p>`]),
    '</header>',
    contents(report),
    ...report.sections.map((section) => sectionHtml(section, charts)),
    sourcesSection(report),
    '</main>',
    '</body>',
    '</html>',
  ];
  return `${lines.filter((line) => line !== '').join('\n')}\n`;
}

function contents(report: Report): string {
  if (report.sections.length === 0) return '';
  const items = report.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`);
  items.push('<li><a href="#sources">Sources</a></li>');
  return `<nav class="contents" aria-label="Contents">\n<ol>\n${items.join('\n')}\n</ol>\n</nav>`;
}

function sectionHtml(section: ReportSection, charts: ReadonlyMap<string, string>): string {
  const body =
    section.kind === 'table'
      ? tableHtml(section)
      : section.kind === 'chart'
        ? chartHtml(section, charts)
        : textHtml(section);
  return [
    `<section id="${section.id}" class="report-${section.kind}">`,
    `<h2>${escapeHtml(section.title)}</h2>`,
    body,
    '</section>',
  ].join('\n');
}

function tableHtml(table: ReportTable): string {
  const model = tableModel(table);
  const cls = (align: 'left' | 'right'): string => (align === 'right' ? ' class="num"' : '');
  const head = model.columns.map((c) => `<th scope="col"${cls(c.align)}>${escapeHtml(c.label)}</th>`).join('');
  const body = model.rows.map((row) => {
    const cells = row.map((cell, i) => {
      const text = escapeHtml(cell.text);
      return `<td${cls(model.columns[i]?.align ?? 'left')}>${cell.marked ? `<strong>${text}</strong>` : text}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return [
    '<div class="table-wrap">',
    '<table>',
    `<thead><tr>${head}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table>',
    '</div>',
    notesHtml(table.notes),
    sourcesLine(table.sources),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function chartHtml(chart: ReportChart, charts: ReadonlyMap<string, string>): string {
  const svg = charts.get(chart.id);
  if (svg === undefined) throw new Error(`no rendered SVG for chart ${JSON.stringify(chart.id)}`);
  return [
    `<figure class="chart">${inlineSvg(svg, chart.title)}</figure>`,
    notesHtml(chart.notes),
    sourcesLine(chart.sources),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * The HTML parser puts <svg> in the SVG namespace by itself, so the namespace declarations go:
 * they are URIs that only identify, but dropping them keeps the page free of any URL at all.
 * The chart gets an accessible name, as the picture it is.
 */
function inlineSvg(svg: string, title: string): string {
  return svg
    .replace(/^<svg([^>]*)>/, (_tag, attrs: string) => {
      const kept = attrs.replace(/\s+xmlns(?::xlink)?="[^"]*"/g, '');
      return `<svg${kept} role="img" aria-label="${escapeHtml(title)}">`;
    })
    .trim();
}

function textHtml(text: ReportText): string {
  return text.paragraphs.map((p) => `<p>${renderProse.html(p)}</p>`).join('\n');
}

function notesHtml(notes: string[] | undefined): string {
  return (notes ?? [])
    .filter((note) => note.trim() !== '')
    .map((note) => `<p class="note">${renderProse.html(note)}</p>`)
    .join('\n');
}

function sourcesLine(sources: ReportSource[]): string {
  if (sources.length === 0) return '<p class="sources">Sources: none recorded</p>';
  const items = sources.map(
    (s) =>
      `<li>${escapeHtml(s.label)} <code title="${escapeHtml(s.hash)}">${escapeHtml(shortHash(s.hash))}</code></li>`,
  );
  return `<div class="sources">Sources: <ul>${items.join('')}</ul></div>`;
}

function sourcesSection(report: Report): string {
  const rows = listSources(report).map(
    (s) =>
      `<tr><td><a href="#${s.sectionId}">${escapeHtml(s.sectionTitle)}</a></td>` +
      `<td>${escapeHtml(s.label)}</td><td><code>${escapeHtml(s.hash)}</code></td></tr>`,
  );
  const body =
    rows.length === 0
      ? '<p>No sources recorded.</p>'
      : [
          '<div class="table-wrap">',
          '<table>',
          '<thead><tr><th scope="col">Section</th><th scope="col">Source</th><th scope="col">Full hash</th></tr></thead>',
          '<tbody>',
          ...rows,
          '</tbody>',
          '</table>',
          '</div>',
        ].join('\n');
  return ['<section id="sources" class="report-sources">', '<h2>Sources</h2>', body, '</section>'].join('\n');
}
