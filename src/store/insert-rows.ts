import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';

/** Rows per statement: enough that a batch of stages takes a few statements, few enough to keep each one small. */
const ROWS_PER_STATEMENT = 200;

/**
 * Inserts many rows with a few multi-row statements instead of one statement each: what a
 * batch of stages writes to one table goes in together. `row` is the VALUES tuple with named
 * parameters (`($f, $n, now())`); each object of `rows` gives those parameters' values.
 * `types` binds parameters by name with a declared type: a JS number that happens to be an
 * integer is otherwise bound as BIGINT, and a value such as 1e30 then fails to bind at all.
 */
export async function insertRows(
  db: DuckDBConnection,
  into: string,
  row: string,
  rows: ReadonlyArray<Record<string, DuckDBValue>>,
  types: Readonly<Record<string, DuckDBType>> = {},
): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    const values: Record<string, DuckDBValue> = {};
    const bound: Record<string, DuckDBType> = {};
    const tuples = chunk.map((r, i) => {
      for (const [k, v] of Object.entries(r)) {
        values[`${k}_${i}`] = v;
        if (types[k] !== undefined) bound[`${k}_${i}`] = types[k];
      }
      return row.replace(/\$([a-z]+)/g, (_, name: string) => `$${name}_${i}`);
    });
    await db.run(`INSERT INTO ${into} VALUES ${tuples.join(', ')}`, values, bound);
  }
}

/** Deletes the rows of `table` whose `fingerprint` is one of `fingerprints` (hex digests), in one statement. */
export async function deleteFingerprints(
  db: DuckDBConnection,
  table: string,
  fingerprints: readonly string[],
): Promise<void> {
  if (fingerprints.length === 0) return;
  const values = Object.fromEntries(fingerprints.map((f, i) => [`f${i}`, f]));
  await db.run(
    `DELETE FROM ${table} WHERE fingerprint IN (${fingerprints.map((_, i) => `$f${i}`).join(', ')})`,
    values,
  );
}
