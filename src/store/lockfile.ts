import { readFile } from 'node:fs/promises';
import { faultPoint } from '../fault.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { Fingerprint } from '../fingerprint/fingerprint.ts';
import type { OutputRef } from './store.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const LOCKFILE_VERSION = 1;

/** What lockfile.json records of one stage: enough to tell, without the store, whether it is stale. */
export interface LockEntry extends Fingerprint {
  /** sha256 of the fingerprint fields above: the key under which its results are stored. */
  fingerprint: string;
  /** Every output by name (`table:x`, `file:path`, ...) and its content hash. */
  outputs: Record<string, OutputRef>;
  /** Hash of the whole output set: what downstream stages see as this stage's content. */
  outputs_hash: string;
  metrics: Record<string, number>;
}

export interface Lockfile {
  version: number;
  stages: Record<string, LockEntry>;
}

export class LockfileError extends Error {}

export async function readLockfile(path: string): Promise<Lockfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { version: LOCKFILE_VERSION, stages: {} };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LockfileError(`${path}: not valid JSON (${(e as Error).message}); restore it from git or delete it to rebuild`);
  }
  const lock = data as Partial<Lockfile>;
  if (typeof lock !== 'object' || lock === null || typeof lock.stages !== 'object' || lock.stages === null) {
    throw new LockfileError(`${path}: expected {"version": ..., "stages": {...}}; restore it from git or delete it to rebuild`);
  }
  if (typeof lock.version === 'number' && lock.version > LOCKFILE_VERSION) {
    throw new LockfileError(`${path}: written by a newer pipeline (lockfile version ${lock.version}); upgrade pipeline`);
  }
  return { version: LOCKFILE_VERSION, stages: lock.stages };
}

/**
 * Writes with sorted keys (so its git diff shows only what changed) to a temporary file, then
 * renames it over the old one: a crash mid-write leaves the previous lockfile, never half of one.
 */
export async function writeLockfile(path: string, lock: Lockfile, lastStage = ''): Promise<void> {
  await writeFileAtomic(path, `${canonicalJson(lock, 2)}\n`, { beforeRename: () => faultPoint('lockfile', lastStage) });
}
