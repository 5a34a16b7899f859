import { buildHtml } from './html-document.ts';
import { renderCharts } from './render-charts.ts';
import type { Report } from './types.ts';

/** One self-contained HTML file: inline CSS, inline SVG charts, no scripts, no external URLs. */
export async function renderHtml(report: Report): Promise<string> {
  return buildHtml(report, await renderCharts(report));
}
