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
export async function writeTableFile(data: TableData, types: Array<{ name: string; type: ColumnType }>, format: TableFileFormat, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const table: EncodedTable = { columns: types.map((c) => ({ ...c, values: data[c.name] ?? [] })), rows: data[types[0]?.name ?? '']?.length ?? 0 };
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await appendTable(db, 'export', table);
    const options = format === 'parquet' ? 'FORMAT parquet' : format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT json, ARRAY true';
    await db.run(`COPY (SELECT * FROM export) TO '${file.replace(/'/g, "''")}' (${options})`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
