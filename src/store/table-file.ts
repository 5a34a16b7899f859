import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { appendTable } from './append-table.ts';
import type { ColumnType, EncodedTable } from './table-codec.ts';
import type { TableData } from '../stage-api.ts';

export type TableFileFormat = 'parquet' | 'csv' | 'json';

/**
 * Writes a table to a Parquet, CSV or JSON file through a private in-memory DuckDB. The store
 * itself is always opened with file access off, so no statement on it can write a file; this
 * instance sees only the one table it is handed and runs only the COPY written here.
 */
export async function writeTableFile(
  data: TableData,
  types: Array<{ name: string; type: ColumnType }>,
  format: TableFileFormat,
  file: string,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const table: EncodedTable = {
    columns: types.map((c) => ({ ...c, values: data[c.name] ?? [] })),
    rows: data[types[0]?.name ?? '']?.length ?? 0,
  };
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await appendTable(db, 'export', table);
    const options =
      format === 'parquet'
        ? 'FORMAT parquet'
        : format === 'csv'
          ? 'FORMAT csv, HEADER true'
          : 'FORMAT json, ARRAY true';
    await db.run(`COPY (SELECT * FROM export) TO '${file.replace(/'/g, "''")}' (${options})`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes rows of one of the store's own tables (`runs`, `invocations`, ...) to a Parquet file with
 * the column types the store gave them (TIMESTAMP, BOOLEAN, ...), through a private in-memory
 * DuckDB as `writeTableFile` does. Rows arrive JSON-safe (from StoreReads.query, which may have
 * crossed the read socket), so each value is bound as text and cast back to its column's type:
 * numbers print as their shortest round-trip form and timestamps as DuckDB printed them, so the
 * values are the store's exactly.
 */
export async function writeRecordFile(
  columns: Array<{ name: string; type: string }>,
  rows: Array<Record<string, unknown>>,
  file: string,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(`CREATE TABLE record (${columns.map((c) => `${quote(c.name)} ${c.type}`).join(', ')})`);
    const insert = `INSERT INTO record VALUES (${columns.map((c, i) => `CAST($${i + 1} AS ${c.type})`).join(', ')})`;
    for (const row of rows) {
      const values = columns.map((c) => {
        const v = row[c.name];
        return v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
      });
      await db.run(insert, values);
    }
    await db.run(`COPY record TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
