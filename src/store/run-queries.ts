import type { Row, StoreReads } from './store-reads.ts';

/**
 * The store's run records as `show` prints them, asked through StoreReads so that the same
 * query answers from the store opened here or from a running `repro`'s read socket.
 */

/** A stage's last runs, newest first, as JSON-safe rows. */
export function recentRuns(store: StoreReads, stage: string, limit = 10): Promise<Row[]> {
  return store.query(
    `SELECT strftime(started, '%Y-%m-%d %H:%M:%S') AS started, status, cache_hit, round(seconds, 2) AS seconds, left(fingerprint, 12) AS fingerprint, host, node, backend, error
     FROM runs WHERE stage = $s ORDER BY started DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    { s: stage },
  );
}

/**
 * The invocation whose id starts with `prefix` (or the latest for `last`), with the stage runs
 * it made; undefined when none or more than one matches.
 */
export async function invocationDetails(
  store: StoreReads,
  prefix: string,
): Promise<{ invocation: Row; runs: Row[] } | undefined> {
  const rows =
    prefix === 'last'
      ? await store.query(`SELECT * FROM invocations ORDER BY started DESC LIMIT 1`)
      : await store.query(`SELECT * FROM invocations WHERE invocation LIKE $p ORDER BY started DESC LIMIT 2`, {
          p: `${prefix}%`,
        });
  if (rows.length !== 1) return undefined;
  const invocation = rows[0]!;
  const runs = await store.query(
    `SELECT stage, status, cache_hit, round(seconds, 3) AS seconds, left(fingerprint, 12) AS fingerprint, backend, provenance, error FROM runs WHERE invocation = $i ORDER BY started`,
    { i: String(invocation.invocation) },
  );
  return { invocation, runs };
}

/** How many artifacts and results the store holds (what `verify` reports it checked). */
export async function storeCounts(store: StoreReads): Promise<{ artifacts: number; results: number }> {
  const [c] = await store.query(
    'SELECT (SELECT count(*) FROM artifacts)::INTEGER AS a, (SELECT count(*) FROM results)::INTEGER AS r',
  );
  return { artifacts: Number(c?.a ?? 0), results: Number(c?.r ?? 0) };
}
