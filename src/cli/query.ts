import { withStoreReads } from './with-store-reads.ts';
import type { ProjectPaths } from '../project.ts';
import { ReadRefused } from '../store/read-connection.ts';
import { EXIT } from './common.ts';
import { cellText, formatTable } from './table-text.ts';

function csvCell(v: unknown): string {
  const s = cellText(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `pipeline query SQL`: read-only SQL on the store (or on a running repro's store, through its
 * read socket). Statements other than SELECT and EXPLAIN are refused, the store is opened
 * read-only, and DuckDB's file access is off, so a query touches no file but the store.
 */
export async function queryCommand(
  paths: ProjectPaths,
  sql: string,
  o: { json?: boolean; csv?: boolean },
): Promise<number> {
  return withStoreReads(paths, async (opened) => {
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await opened.reads.query(sql);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? '';
      // A refused statement is the store declining (exit 1); any other error is the SQL's (exit 2).
      const refused = e instanceof ReadRefused || (e as Error).name === 'ReadRefused';
      process.stderr.write(`error: ${msg}\n`);
      return refused ? EXIT.stageFailed : EXIT.config;
    }
    const columns = rows[0] === undefined ? [] : Object.keys(rows[0]);
    if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (o.csv)
      process.stdout.write(
        `${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`,
      );
    else if (rows.length === 0) process.stdout.write('(no rows)\n');
    else
      process.stdout.write(
        `${formatTable([columns, ...rows.map((r) => columns.map((c) => cellText(r[c])))])}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`,
      );
    return EXIT.ok;
  });
}
