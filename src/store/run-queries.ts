import type { Row, StoreReads } from './store-reads.ts';

/**
 * The store's run records as `show` and the dashboard list them, asked through StoreReads so
 * that the same query answers from the store opened here or from a running `repro`'s read socket.
 */

/** A stage's last runs, newest first, as JSON-safe rows; `host: false` leaves out where each ran. */
export function recentRuns(store: StoreReads, stage: string, limit = 10, o: { host?: boolean } = {}): Promise<Row[]> {
  const where = (o.host ?? true) ? ' host, node,' : '';
  return store.query(
    `SELECT strftime(started, '%Y-%m-%d %H:%M:%S') AS started, status, cache_hit, round(seconds, 2) AS seconds, left(fingerprint, 12) AS fingerprint,${where} backend, error
     FROM runs WHERE stage = $s ORDER BY started DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    { s: stage },
  );
}

/** Every stage's latest run: its status, duration and error. */
export async function latestRuns(
  store: StoreReads,
): Promise<Map<string, { status: string; seconds: number; error: string | null }>> {
  const rows = await store.query(
    `SELECT stage, status, seconds, error FROM (SELECT *, row_number() OVER (PARTITION BY stage ORDER BY started DESC) AS n FROM runs) WHERE n = 1`,
  );
  return new Map(
    rows.map((r) => [
      String(r.stage),
      { status: String(r.status), seconds: Number(r.seconds), error: r.error === null ? null : String(r.error) },
    ]),
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
