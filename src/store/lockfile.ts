import { readFileSync } from 'node:fs';
import { faultPoint } from '../fault.ts';
import { canonicalJson, taggedNumber } from '../fingerprint/canonical-json.ts';
import type { FingerprintRecord } from '../fingerprint/fingerprint.ts';
import type { ContentHash, FingerprintHash, OutputSetHash } from '../fingerprint/hash-types.ts';
import type { OutputRef } from './store.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const LOCKFILE_VERSION = 1;

/**
 * What lockfile.json records of one stage: enough to tell, without the store, whether it is
 * stale. The fingerprint record's fields sit beside the engine's own; those are named here as
 * everywhere in the code, and `entryJson`/`entryFromJson` below are the one place that maps them
 * to the file's keys.
 */
export interface LockEntry extends FingerprintRecord {
  /** The hash of the fingerprint record: the key under which its results are stored. */
  fingerprint: FingerprintHash;
  /** Every output by name (`table:x`, `file:path`, ...) and its content hash. */
  outputs: Record<string, OutputRef>;
  /** Hash of the whole output set: what downstream stages see as this stage's content. */
  outputsHash: OutputSetHash;
  metrics: Record<string, number>;
  /**
   * For each param set by `params_from:`, where its value was read. Not part of the fingerprint:
   * the value itself is (in `params`), and the source stage's outputs are not, unless it is
   * also listed in `deps`.
   */
  paramsFrom?: Record<string, ParamOrigin>;
}

/** Where a `params_from` value was read: a json output (and a key in it) of an upstream stage. */
export interface ParamOrigin {
  stage: string;
  json: string;
  key?: string;
  /** The content hash of that json output. */
  hash: ContentHash;
}

export interface Lockfile {
  version: number;
  stages: Record<string, LockEntry>;
}

/** A lock entry as lockfile.json spells it. Keys not named here are kept as they are. */
type LockEntryJson = Omit<LockEntry, 'outputsHash' | 'paramsFrom'> & {
  outputs_hash: OutputSetHash;
  params_from?: Record<string, ParamOrigin>;
};

/** The entry as lockfile.json holds it: the one place where the code's names meet the file's keys. */
function entryJson(entry: LockEntry): LockEntryJson {
  const { outputsHash, paramsFrom, ...rest } = entry;
  return { ...rest, outputs_hash: outputsHash, ...(paramsFrom === undefined ? {} : { params_from: paramsFrom }) };
}

function entryFromJson(json: LockEntryJson): LockEntry {
  const { outputs_hash, params_from, metrics, ...rest } = json;
  return {
    ...rest,
    metrics: metricsFromJson(metrics),
    outputsHash: outputs_hash,
    ...(params_from === undefined ? {} : { paramsFrom: params_from }),
  };
}

/**
 * A metric may be non-finite (an overflowed perplexity); canonical JSON writes such a number as a
 * tagged string, and here it becomes the number again, so a stage downstream of a lockfile-cached
 * one reads the same value as one downstream of a fresh run.
 */
function metricsFromJson(metrics: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics ?? {}))
    out[k] = typeof v === 'string' ? (taggedNumber(v) ?? Number.NaN) : v;
  return out;
}

/** The fingerprint record an entry was made from: the entry without what the run added to it. */
export function recordOf(entry: LockEntry): FingerprintRecord {
  const { fingerprint: _f, outputs: _o, outputsHash: _h, metrics: _m, paramsFrom: _p, ...record } = entry;
  return record;
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
  return lockfileFromJson(data, path);
}

/** A lockfile from its parsed JSON; `source` names where it came from, for errors. */
export function lockfileFromJson(data: unknown, source: string): Lockfile {
  const lock = data as Partial<{ version: number; stages: Record<string, LockEntryJson> }>;
  if (typeof lock !== 'object' || lock === null || typeof lock.stages !== 'object' || lock.stages === null) {
    throw new LockfileError(
      `${source}: expected {"version": ..., "stages": {...}}; restore it from git or delete it to rebuild`,
    );
  }
  if (typeof lock.version === 'number' && lock.version > LOCKFILE_VERSION) {
    throw new LockfileError(
      `${source}: written by a newer pipeline (lockfile version ${lock.version}); upgrade pipeline`,
    );
  }
  const stages: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(lock.stages)) stages[name] = entryFromJson(entry);
  return { version: LOCKFILE_VERSION, stages };
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
  const stages = Object.fromEntries(Object.entries(lock.stages).map(([name, entry]) => [name, entryJson(entry)]));
  return `${canonicalJson({ ...lock, stages }, 2)}\n`;
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
      c = { entry, text: canonicalJson(entryJson(entry), 2).replace(/\n/g, '\n    ') };
      cache.set(name, c);
    }
    parts.push(`    ${JSON.stringify(name)}: ${c.text}`);
  }
  for (const name of cache.keys()) if (lock.stages[name] === undefined) cache.delete(name);
  return `{\n  "stages": {\n${parts.join(',\n')}\n  },\n  "version": ${canonicalJson(lock.version)}\n}\n`;
}
