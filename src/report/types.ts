/** A source of the numbers in a section: an artifact of the pipeline, named by its content hash. */
export interface ReportSource {
  label: string;
  hash: string;
}

export interface ReportColumn {
  key: string;
  label: string;
  /** Defaults to right when every filled cell in the column is, or starts with, a number. */
  align?: 'left' | 'right';
}

export type ReportCell = string | number | null;

export interface ReportTable {
  kind: 'table';
  /** Anchor in the HTML and Markdown, e.g. "table-2". */
  id: string;
  title: string;
  columns: ReportColumn[];
  rows: Array<Record<string, ReportCell>>;
  /** Cells to emphasise (e.g. best per column): row index + column key. */
  marked?: Array<{ row: number; key: string }>;
  /** Plain text lines shown under the table. */
  notes?: string[];
  sources: ReportSource[];
}

export interface ReportChart {
  kind: 'chart';
  /** Anchor, and the chart's file name (charts/<id>.svg). */
  id: string;
  title: string;
  /** A Vega-Lite spec (v5/v6 JSON) with inline data (data.values). */
  spec: Record<string, unknown>;
  notes?: string[];
  sources: ReportSource[];
}

export interface ReportText {
  kind: 'text';
  id: string;
  title: string;
  paragraphs: string[];
}

export type ReportSection = ReportTable | ReportChart | ReportText;

export interface Report {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
}
