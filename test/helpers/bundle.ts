import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

interface ManifestFile {
  path: string;
  sha256: string;
  record?: string;
  rows?: number;
}

/** How each record's rows are picked from the store, written here independently of the exporter. */
const PICK: Record<string, string> = {
  runs: 'SELECT * FROM s.runs WHERE fingerprint IN (SELECT f FROM fps)',
  invocations:
    'SELECT * FROM s.invocations WHERE invocation IN (SELECT invocation FROM s.runs WHERE fingerprint IN (SELECT f FROM fps))',
  results: 'SELECT * FROM s.results WHERE fingerprint IN (SELECT f FROM fps)',
  params: 'SELECT * FROM s.params WHERE fingerprint IN (SELECT f FROM fps)',
  metrics: 'SELECT * FROM s.metrics WHERE fingerprint IN (SELECT f FROM fps)',
  measurements: 'SELECT * FROM s.measurements WHERE fingerprint IN (SELECT f FROM fps)',
  lineage: 'SELECT * FROM s.lineage WHERE fingerprint IN (SELECT f FROM fps)',
};

/**
 * Checks a bundle written by `export --bundle` from `project`: every manifest hash is the file's,
 * and records/NAME.parquet holds exactly the store's rows for the lockfile's results (compared as
 * sorted JSON rows). Returns the runs read from the bundle, for further checks.
 */
export async function checkBundleRecords(
  project: string,
  bundle: string,
  lockfile = 'lockfile.json',
): Promise<Array<Record<string, unknown>>> {
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { files: ManifestFile[] };
  for (const f of manifest.files)
    assert.equal(
      createHash('sha256')
        .update(readFileSync(join(bundle, f.path)))
        .digest('hex'),
      f.sha256,
      f.path,
    );
  const lock = JSON.parse(readFileSync(join(project, lockfile), 'utf8')) as {
    stages: Record<string, { fingerprint: string }>;
  };
  const fps = Object.values(lock.stages).map((e) => e.fingerprint);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const sorted = async (sql: string) =>
    ((await db.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>)
      .map((r) => JSON.stringify(r))
      .sort();
  try {
    await db.run(`ATTACH '${join(project, 'artifacts/pipeline.duckdb')}' AS s (READ_ONLY)`);
    await db.run(`CREATE TABLE fps AS SELECT unnest([${fps.map((f) => `'${f}'`).join(', ')}]) AS f`);
    for (const [record, pick] of Object.entries(PICK)) {
      const entry = manifest.files.find((f) => f.record === record);
      assert.ok(entry !== undefined, `the manifest lists records/${record}.parquet`);
      assert.equal(entry.path, `records/${record}.parquet`);
      const fromBundle = await sorted(`SELECT * FROM read_parquet('${join(bundle, entry.path)}')`);
      const fromStore = await sorted(pick);
      assert.ok(fromStore.length > 0, `the store has ${record}`);
      assert.deepEqual(fromBundle, fromStore, `records/${record}.parquet holds the store's rows`);
      assert.equal(entry.rows, fromStore.length, `${record}: row count in the manifest`);
    }
    return (
      await db.runAndReadAll(`SELECT * FROM read_parquet('${join(bundle, 'records/runs.parquet')}')`)
    ).getRowObjectsJson() as Array<Record<string, unknown>>;
  } finally {
    db.closeSync();
  }
}
