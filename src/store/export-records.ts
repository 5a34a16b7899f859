import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreReads } from './store-reads.ts';
import { writeRecordFile } from './table-file.ts';

/** One of the store's own tables as written into a bundle. */
export interface ExportedRecord {
  /** The table's name in the store (`runs`, `invocations`, ...). */
  record: string;
  /** Bundle-relative path of the Parquet file. */
  path: string;
  rows: number;
}

/**
 * What each record file holds, as SQL over the store, restricted to the results in `$results`
 * (a table of fingerprints) so the bundle describes exactly the numbers it carries: every run
 * that computed or reused them (backend, host, node, time, status), the invocations those runs
 * belong to (command line, git commit, dirty tree), and their params, metrics, measurements,
 * lineage and fingerprint records. Ordered so the same store gives the same files.
 */
const RECORDS: ReadonlyArray<[string, string]> = [
  [
    'runs',
    'SELECT * FROM runs WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY started, stage, invocation',
  ],
  [
    'invocations',
    'SELECT * FROM invocations WHERE invocation IN (SELECT invocation FROM runs WHERE fingerprint IN (SELECT fingerprint FROM $results)) ORDER BY started, invocation',
  ],
  [
    'results',
    'SELECT * FROM results WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY stage, fingerprint',
  ],
  ['params', 'SELECT * FROM params WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY stage, name'],
  ['metrics', 'SELECT * FROM metrics WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY stage, name'],
  [
    'measurements',
    'SELECT * FROM measurements WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY stage, name, invocation',
  ],
  [
    'lineage',
    'SELECT * FROM lineage WHERE fingerprint IN (SELECT fingerprint FROM $results) ORDER BY fingerprint, input, input_hash',
  ],
];

/** The store's records of the results `fingerprints` (the lockfile's), as records/NAME.parquet under `dir`. */
export async function exportRecords(
  store: StoreReads,
  fingerprints: readonly string[],
  dir: string,
): Promise<ExportedRecord[]> {
  for (const f of fingerprints) if (!/^[0-9a-f]{16,64}$/.test(f)) throw new Error(`"${f}" is not a fingerprint`);
  // A literal list rather than a temporary table: the store is open read-only here.
  const results = `(SELECT unnest([${fingerprints.map((f) => `'${f}'`).join(', ')}]::VARCHAR[]) AS fingerprint)`;
  await mkdir(join(dir, 'records'), { recursive: true });
  const written: ExportedRecord[] = [];
  for (const [record, template] of RECORDS) {
    const sql = template.replaceAll('$results', results);
    const path = join('records', `${record}.parquet`);
    // The store allows no file access (nothing a query says may write a file): the rows are read
    // and written to Parquet apart, with the column types DuckDB reports for the query.
    const columns = (await store.query(`DESCRIBE ${sql}`)).map((c) => ({
      name: String(c.column_name),
      type: String(c.column_type),
    }));
    const rows = await store.query(sql);
    await writeRecordFile(columns, rows, join(dir, path));
    written.push({ record, path, rows: rows.length });
  }
  return written;
}
