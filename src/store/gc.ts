import { rename, rm, stat } from 'node:fs/promises';
import type { Lockfile } from './lockfile.ts';
import { ArtifactStore } from './store.ts';
import { UserError } from '../errors.ts';

export interface GcPlan {
  keepResults: number;
  removeResults: string[];
  removeArtifacts: Array<{ hash: string; kind: string; size: number; table: string | null }>;
}

/**
 * What gc would remove: every stored result that is neither in the current lockfile nor made or
 * reused by one of the last `keepLast` invocations, and every artifact that only those results
 * pointed to. Run history (`runs`, `invocations`) is kept.
 */
export async function planGc(store: ArtifactStore, lock: Lockfile, keepLast: number): Promise<GcPlan> {
  const keep = new Set<string>(Object.values(lock.stages).map((e) => e.fingerprint));
  if (keepLast > 0) {
    const recent = await store.rows(
      `SELECT DISTINCT fingerprint FROM runs WHERE status IN ('ran', 'cached') AND invocation IN (
         SELECT invocation FROM invocations ORDER BY started DESC LIMIT ${Math.floor(keepLast)})`,
    );
    for (const r of recent) keep.add(String(r.fingerprint));
  }
  const all = await store.rows('SELECT fingerprint FROM results');
  const removeResults = all.map((r) => String(r.fingerprint)).filter((f) => !keep.has(f));
  const removing = new Set(removeResults);
  const stillUsed = new Set<string>();
  for (const o of await store.rows('SELECT fingerprint, artifact FROM outputs'))
    if (!removing.has(String(o.fingerprint))) stillUsed.add(String(o.artifact));
  const removeArtifacts = (await store.rows('SELECT hash, kind, size, table_name FROM artifacts'))
    .filter((a) => !stillUsed.has(String(a.hash)))
    .map((a) => ({
      hash: String(a.hash),
      kind: String(a.kind),
      size: Number(a.size),
      table: a.table_name === null ? null : String(a.table_name),
    }));
  return { keepResults: all.length - removeResults.length, removeResults, removeArtifacts };
}

/** Removes what the plan names, in one transaction: all of it or, on any error, none of it. */
export async function applyGc(store: ArtifactStore, plan: GcPlan): Promise<void> {
  await store.exec('BEGIN TRANSACTION');
  try {
    for (const f of plan.removeResults) {
      for (const table of ['outputs', 'lineage', 'metrics', 'params', 'results'])
        await store.exec(`DELETE FROM ${table} WHERE fingerprint = $f`, { f });
    }
    for (const a of plan.removeArtifacts) {
      if (a.table !== null) await store.exec(`DROP TABLE IF EXISTS "${a.table}"`);
      await store.exec('DELETE FROM blobs WHERE hash = $h', { h: a.hash });
      await store.exec('DELETE FROM artifacts WHERE hash = $h', { h: a.hash });
    }
    await store.exec('COMMIT');
  } catch (e) {
    await store.exec('ROLLBACK').catch(() => undefined);
    throw new UserError(`gc failed and removed nothing: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * DuckDB reuses freed blocks but does not shrink its file, so space is given back by copying
 * the database into a fresh file and renaming it over the old one (the old file stays intact
 * until the rename, which is atomic). Returns the file sizes before and after.
 */
export async function compactStore(path: string): Promise<{ before: number; after: number }> {
  const before = (await stat(path)).size;
  const tmp = `${path}.compact-${process.pid}`;
  await rm(tmp, { force: true });
  const store = await ArtifactStore.open(path, { fileAccess: true });
  try {
    const db = String((await store.rows('SELECT current_database() AS db'))[0]!.db);
    await store.exec(`ATTACH '${tmp.replace(/'/g, "''")}' AS compacted`);
    await store.exec(`COPY FROM DATABASE "${db}" TO compacted`);
    await store.exec('DETACH compacted');
  } catch (e) {
    await store.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await store.close();
  await rename(tmp, path);
  await rm(`${path}.wal`, { force: true });
  return { before, after: (await stat(path)).size };
}
