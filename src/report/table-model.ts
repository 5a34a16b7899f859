import type { ReportCell, ReportTable } from './types.ts';

export interface TableModel {
  columns: Array<{ key: string; label: string; align: 'left' | 'right' }>;
  /** Display text per cell, row-major, in column order. */
  rows: Array<Array<{ text: string; marked: boolean }>>;
}

// Covers caller-formatted figures such as "91.2 ± 0.3", "-0.5", "12 s" or "3e-4", which are
// numbers to a reader and should line up like numbers.
const STARTS_NUMERIC = /^[-+\u2212]?(\d|\.\d)/;
const EMPTY_CELL = '\u2014';

/**
 * Resolves what both the HTML and the Markdown renderer show for a table, so the two twins
 * cannot disagree about text, alignment or emphasis.
 */
export function tableModel(table: ReportTable): TableModel {
  const marked = new Set((table.marked ?? []).map((m) => `${m.row}\u0000${m.key}`));
  const columns = table.columns.map((column) => ({
    key: column.key,
    label: column.label,
    align: column.align ?? (looksNumeric(table.rows.map((row) => row[column.key])) ? 'right' : 'left'),
  }));
  const rows = table.rows.map((row, r) =>
    columns.map((column) => ({
      text: cellText(row[column.key]),
      marked: marked.has(`${r}\u0000${column.key}`),
    })),
  );
  return { columns, rows };
}

function cellText(value: ReportCell | undefined): string {
  if (value === null || value === undefined) return EMPTY_CELL;
  // String() gives the shortest text that reads back as the same double, so a number prints
  // identically on every machine; callers wanting fixed decimals pass a formatted string.
  return typeof value === 'number' ? String(value) : value;
}

function looksNumeric(values: Array<ReportCell | undefined>): boolean {
  const filled = values.filter((v): v is string | number => v !== null && v !== undefined && v !== '');
  return filled.length > 0 && filled.every((v) => typeof v === 'number' || STARTS_NUMERIC.test(v.trim()));
}
