import type { ReportColumn } from './types.ts';

/**
 * A table's columns from one map of key to header label, in the order written. A key that reads
 * as an array index would be moved to the front by JavaScript's property order, so it is refused.
 */
export function tableColumns(labels: Readonly<Record<string, string>>): ReportColumn[] {
  return Object.entries(labels).map(([key, label]) => {
    if (/^\d+$/.test(key)) throw new Error(`column key "${key}" is an integer: it would not keep its place`);
    return { key, label };
  });
}
