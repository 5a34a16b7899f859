import { readFileSync } from 'node:fs';
import { faultPoint } from '../fault.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { Fingerprint } from '../fingerprint/fingerprint.ts';
import type { OutputRef } from './store.ts';
import { UserError } from '../errors.ts';
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
  /**
   * For each param set by `params_from:`, where its value was read. Not part of the fingerprint:
   * the value itself is (in `params`), and the source stage's outputs are not, unless it is
   * also listed in `deps`.
   */
  params_from?: Record<string, ParamOrigin>;
}

/** Where a `params_from` value was read: a json output (and a key in it) of an upstream stage. */
export interface ParamOrigin {
  stage: string;
  json: string;
  key?: string;
  /** The content hash of that json output. */
  hash: string;
}

export interface Lockfile {
  version: number;
  stages: Record<string, LockEntry>;
}

export class LockfileError extends UserError {}

export async function readLockfile(path: string): Promise<Lockfile> {
  let text: string;
  try {
    // Synchronously: a large lockfile read asynchronously is many thread-pool round trips.
    text = readFileSync(path, 'utf8');
  } catch {
    return { version: LOCKFILE_VERSION, stages: {} };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LockfileError(
      `${path}: not valid JSON (${(e as Error).message}); restore it from git or delete it to rebuild`,
    );
  }
  const lock = data as Partial<Lockfile>;
  if (typeof lock !== 'object' || lock === null || typeof lock.stages !== 'object' || lock.stages === null) {
    throw new LockfileError(
      `${path}: expected {"version": ..., "stages": {...}}; restore it from git or delete it to rebuild`,
    );
  }
  if (typeof lock.version === 'number' && lock.version > LOCKFILE_VERSION) {
    throw new LockfileError(
      `${path}: written by a newer pipeline (lockfile version ${lock.version}); upgrade pipeline`,
    );
  }
  return { version: LOCKFILE_VERSION, stages: lock.stages };
}

/**
 * Writes with sorted keys (so its git diff shows only what changed) to a temporary file, then
 * renames it over the old one: a crash mid-write leaves the previous lockfile, never half of one.
 */
export async function writeLockfile(
  path: string,
  lock: Lockfile,
  newStages: string | readonly string[] = [],
  text?: string,
): Promise<void> {
  await writeFileAtomic(path, text ?? lockfileText(lock), { beforeRename: () => faultPoint('lockfile', newStages) });
}

/** lockfile.json's bytes: canonical JSON, two-space indent, a final newline. */
export function lockfileText(lock: Lockfile): string {
  return `${canonicalJson(lock, 2)}\n`;
}

/**
 * The same bytes as `lockfileText`, made from each entry's text kept since it last changed, so
 * writing the lockfile of a long run costs the entries that changed rather than all of them.
 * `cache` maps a stage to its entry object and that entry's text.
 */
export function lockfileTextCached(lock: Lockfile, cache: Map<string, { entry: LockEntry; text: string }>): string {
  const names = Object.keys(lock.stages);
  if (names.length === 0) return lockfileText(lock);
  // The key order canonicalJson gives: sorted, except that an engine lists integer-like keys first, in numeric order.
  const order = Object.keys(Object.fromEntries(names.sort().map((n) => [n, 0])));
  const parts: string[] = [];
  for (const name of order) {
    const entry = lock.stages[name]!;
    let c = cache.get(name);
    if (c === undefined || c.entry !== entry) {
      c = { entry, text: canonicalJson(entry, 2).replace(/\n/g, '\n    ') };
      cache.set(name, c);
    }
    parts.push(`    ${JSON.stringify(name)}: ${c.text}`);
  }
  for (const name of cache.keys()) if (lock.stages[name] === undefined) cache.delete(name);
  return `{\n  "stages": {\n${parts.join(',\n')}\n  },\n  "version": ${canonicalJson(lock.version)}\n}\n`;
}
