export type {
  Report,
  ReportCell,
  ReportChart,
  ReportColumn,
  ReportSection,
  ReportSource,
  ReportTable,
  ReportText,
} from './types.ts';
export { renderCharts } from './render-charts.ts';
export { renderHtml } from './render-html.ts';
export { renderMarkdown } from './render-markdown.ts';
export { writeReport } from './write-report.ts';
export { barWithErrorSpec, groupMetricSpec, lossCurveSpec, searchSpec } from './charts.ts';
export type { ErrorBar, GroupMetricPoint, LossPoint, SearchPoint } from './charts.ts';
