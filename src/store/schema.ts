import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The store's tables, as first released (version 1). Later versions are reached only through
 * MIGRATIONS, so a new store and an upgraded old one always end up with the same schema.
 */
export const VERSION_1 = `
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS artifacts (
  hash VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, size BIGINT NOT NULL, created TIMESTAMP NOT NULL,
  json_value VARCHAR, table_name VARCHAR, table_columns VARCHAR
);
CREATE TABLE IF NOT EXISTS blobs (hash VARCHAR PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (
  fingerprint VARCHAR PRIMARY KEY, stage VARCHAR NOT NULL, outputs_hash VARCHAR NOT NULL,
  fingerprint_record VARCHAR NOT NULL, created TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (fingerprint VARCHAR, name VARCHAR, kind VARCHAR, artifact VARCHAR);
CREATE TABLE IF NOT EXISTS lineage (fingerprint VARCHAR, input VARCHAR, input_hash VARCHAR);
CREATE TABLE IF NOT EXISTS metrics (fingerprint VARCHAR, stage VARCHAR, name VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS runs (
  invocation VARCHAR, stage VARCHAR, fingerprint VARCHAR, status VARCHAR, cache_hit BOOLEAN,
  started TIMESTAMP, seconds DOUBLE, host VARCHAR, node VARCHAR, platform VARCHAR,
  backend VARCHAR, provenance VARCHAR, error VARCHAR
);
CREATE TABLE IF NOT EXISTS invocations (
  invocation VARCHAR PRIMARY KEY, started TIMESTAMP, command VARCHAR, cwd VARCHAR, pid INTEGER,
  host VARCHAR, node VARCHAR, platform VARCHAR
);
`;

/** Flattens nested params to dotted names, the long format a reviewer filters with SQL. */
export function flattenParams(
  value: unknown,
  prefix = '',
  into: Array<[string, unknown]> = [],
): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flattenParams(v, prefix === '' ? k : `${prefix}.${k}`, into);
  } else if (prefix !== '') into.push([prefix, value]);
  return into;
}

/** MIGRATIONS[i] takes a store from version i + 1 to version i + 2, inside one transaction. */
const MIGRATIONS: Array<(db: DuckDBConnection) => Promise<void>> = [
  // 1 -> 2: lineage says whether an input is a stage or a file; params in long format; the
  // provenance of each invocation; the documented views.
  async (db) => {
    await db.run(`ALTER TABLE lineage ADD COLUMN kind VARCHAR`);
    await db.run(
      `UPDATE lineage SET kind = CASE WHEN input_hash IN (SELECT outputs_hash FROM results) THEN 'stage' ELSE 'file' END`,
    );
    await db.run(`CREATE TABLE params (fingerprint VARCHAR, stage VARCHAR, name VARCHAR, value VARCHAR)`);
    const rows = (
      await db.runAndReadAll('SELECT fingerprint, stage, fingerprint_record FROM results')
    ).getRowObjectsJS();
    for (const r of rows) {
      const record = JSON.parse(String(r.fingerprint_record)) as { params?: unknown };
      for (const [name, value] of flattenParams(record.params ?? {})) {
        await db.run('INSERT INTO params VALUES ($f, $s, $n, $v)', {
          f: String(r.fingerprint),
          s: String(r.stage),
          n: name,
          v: JSON.stringify(value),
        });
      }
    }
    for (const column of [
      'cpu VARCHAR',
      'package_lock_hash VARCHAR',
      'pipeline_hash VARCHAR',
      'git_commit VARCHAR',
      'git_dirty BOOLEAN',
      'ended TIMESTAMP',
      'exit_status INTEGER',
    ]) {
      await db.run(`ALTER TABLE invocations ADD COLUMN ${column}`);
    }
    await db.run(`CREATE OR REPLACE VIEW stages AS
      SELECT r.stage, r.fingerprint, r.outputs_hash, r.created,
             json_extract_string(r.fingerprint_record, '$.kind') AS kind,
             json_extract_string(r.fingerprint_record, '$.uses') AS uses,
             json_extract(r.fingerprint_record, '$.cmd') AS cmd,
             json_extract(r.fingerprint_record, '$.params') AS params
      FROM results r`);
  },
  // 2 -> 3: measurements (run-to-run facts such as wall time), kept apart from hashed metrics.
  async (db) => {
    await db.run(
      `CREATE TABLE measurements (fingerprint VARCHAR, stage VARCHAR, invocation VARCHAR, name VARCHAR, value DOUBLE)`,
    );
  },
];

export const STORE_SCHEMA_VERSION = MIGRATIONS.length + 1;

export class SchemaError extends Error {}

/** Creates or upgrades the schema; refuses a store from a newer version rather than touch it. */
export async function migrate(db: DuckDBConnection, path: string): Promise<void> {
  // The first schema and its version row go in together: a process killed while creating a
  // store leaves either nothing or a complete version-1 store, which the next open upgrades.
  if ((await schemaVersion(db)) === 0) {
    await db.run('BEGIN TRANSACTION');
    try {
      await db.run(VERSION_1);
      await db.run(
        `INSERT INTO store_meta SELECT 'schema_version', '1' WHERE NOT EXISTS (SELECT 1 FROM store_meta WHERE key = 'schema_version')`,
      );
      await db.run('COMMIT');
    } catch (e) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw new SchemaError(
        `creating the store ${path} failed, nothing was written: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  }
  const rows = (await db.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'schema_version'`)).getRowObjectsJS();
  let version = Number(rows[0]?.value);
  if (!Number.isInteger(version) || version > STORE_SCHEMA_VERSION) {
    throw new SchemaError(
      `the store ${path} was written by a newer version of pipeline (store schema ${String(rows[0]?.value)}, this one reads ${STORE_SCHEMA_VERSION}); upgrade pipeline, or move the file aside to start a new store`,
    );
  }
  while (version < STORE_SCHEMA_VERSION) {
    await db.run('BEGIN TRANSACTION');
    try {
      await MIGRATIONS[version - 1]!(db);
      version++;
      await db.run(`UPDATE store_meta SET value = $v WHERE key = 'schema_version'`, { v: String(version) });
      await db.run('COMMIT');
    } catch (e) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw new SchemaError(
        `upgrading the store ${path} to schema ${version + 1} failed, it is unchanged: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  }
}

/** The schema version a store file is at (0 for a new or half-created file), without changing it. */
export async function schemaVersion(db: DuckDBConnection): Promise<number> {
  const exists =
    (await db.runAndReadAll(`SELECT 1 FROM information_schema.tables WHERE table_name = 'store_meta'`))
      .currentRowCount > 0;
  if (!exists) return 0;
  const rows = (await db.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'schema_version'`)).getRowObjectsJS();
  return rows[0] === undefined ? 0 : Number(rows[0].value);
}
