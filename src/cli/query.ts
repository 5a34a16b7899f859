import { existsSync } from 'node:fs';
import type { ProjectPaths } from '../project.ts';
import { ArtifactStore } from '../store/store.ts';
import { EXIT } from './common.ts';
import { cellText, formatTable } from './table-text.ts';

function csvCell(v: unknown): string {
  const s = cellText(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `pipeline query SQL`: the store opened read-only, so a statement that would write is refused
 * by DuckDB itself rather than by any checking of ours.
 */
export async function queryCommand(paths: ProjectPaths, sql: string, o: { json?: boolean; csv?: boolean }): Promise<number> {
  if (!existsSync(paths.store)) {
    process.stderr.write(`error: there is no store at ${paths.store}\n`);
    return EXIT.stageFailed;
  }
  const store = await ArtifactStore.open(paths.store, { readOnly: true });
  try {
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await store.query(sql);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0] ?? '';
      const readOnly = /read-only/i.test(msg);
      process.stderr.write(`error: ${readOnly ? 'the store is opened read-only for queries; this statement would change it: ' : ''}${msg}\n`);
      return readOnly ? EXIT.stageFailed : EXIT.config;
    }
    const columns = rows[0] === undefined ? [] : Object.keys(rows[0]);
    if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (o.csv) process.stdout.write(`${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`);
    else if (rows.length === 0) process.stdout.write('(no rows)\n');
    else process.stdout.write(`${formatTable([columns, ...rows.map((r) => columns.map((c) => cellText(r[c])))])}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
