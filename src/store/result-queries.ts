import type { FingerprintRecord } from '../fingerprint/fingerprint.ts';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import type { StoreReads } from './store-reads.ts';

/**
 * What the store says about stored results, asked through StoreReads (the store opened here or
 * a running `repro`'s read socket) for the dashboard.
 */

/** The fingerprint records of a stage's newest stored results, newest first. */
export async function storedRecords(store: StoreReads, stage: string, limit: number): Promise<FingerprintRecord[]> {
  const rows = await store.query(
    `SELECT fingerprint_record FROM results WHERE stage = $s ORDER BY created DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    { s: stage },
  );
  return rows.map((r) => JSON.parse(String(r.fingerprint_record)) as FingerprintRecord);
}

/** Whether the store holds a result under this fingerprint. */
export async function hasResult(store: StoreReads, fingerprint: FingerprintHash): Promise<boolean> {
  return (await store.query('SELECT 1 FROM results WHERE fingerprint = $f', { f: fingerprint })).length > 0;
}
