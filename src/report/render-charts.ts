import { assertValidReport } from './validate.ts';
import { vegaLiteToSvg } from './vega-svg.ts';
import type { Report } from './types.ts';

/** Renders every chart of the report to SVG text, keyed by chart id in document order. */
export async function renderCharts(report: Report): Promise<Map<string, string>> {
  assertValidReport(report);
  const charts = new Map<string, string>();
  // One at a time: vega keeps some module-level state (id counters, text metrics), and a
  // predictable order keeps any remaining interaction reproducible.
  for (const section of report.sections) {
    if (section.kind === 'chart') charts.set(section.id, await vegaLiteToSvg(section.spec, section.id));
  }
  return charts;
}
