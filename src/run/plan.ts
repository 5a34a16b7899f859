import type { FileHasher } from '../fingerprint/file-hasher.ts';
import { explainChange, type FingerprintRecord } from '../fingerprint/fingerprint.ts';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import type { StageNode } from '../graph/build.ts';
import type { LockEntry } from '../store/lockfile.ts';
import type { StoredResult } from '../store/store.ts';
import type { StoreAccess } from './cache-lookup.ts';
import { directoryDamage } from './directory-outputs.ts';

/** What to do with a stage whose fingerprint is known. */
export type StagePlan =
  /** The lockfile records this fingerprint and its out files are intact: nothing to do. */
  | { kind: 'up-to-date' }
  /** The store holds a result for this fingerprint (from any earlier run): restore it. */
  | { kind: 'in-store'; found: StoredResult; reasons: string[] }
  /** It must run, for these reasons. */
  | { kind: 'run'; reasons: string[] };

export interface PlanInputs {
  /** The project root, against which directory outputs are checked. */
  root: string;
  entry: LockEntry | undefined;
  hasher: FileHasher;
  store: StoreAccess;
  /** `--force` for the selected stages. */
  force: boolean;
}

/** The reason given for a stage that the lockfile records but whose result the store lacks. */
export const NOT_IN_STORE = 'not in the store';

/**
 * The one decision of what a stage needs, made identically by `repro`, `repro --dry` and
 * `status` (which is `repro --dry` printed differently): up to date when the lockfile records
 * its fingerprint, its out files are intact and there is a store; else restored when the store
 * has its fingerprint; else run. So a fresh clone with a committed lockfile and no store is
 * told that every stage would run, "not in the store", as `repro` would then do.
 */
export async function planStage(
  name: string,
  node: StageNode,
  fp: FingerprintRecord,
  hash: FingerprintHash,
  p: PlanInputs,
): Promise<StagePlan> {
  const { entry } = p;
  const forced = p.force || node.spec.alwaysChanged;
  let reasons = entry?.fingerprint === hash ? [] : explainChange(entry, fp);
  if (!forced && entry?.fingerprint === hash) {
    const damaged = await damagedFiles(p.root, entry, p.hasher);
    if (damaged.length === 0 && p.store.existed) return { kind: 'up-to-date' };
    reasons = damaged.length > 0 ? damaged : [NOT_IN_STORE];
  }
  if (!forced) {
    const found = await p.store.lookup(name, hash);
    if (found !== undefined) return { kind: 'in-store', found, reasons };
  }
  if (forced) reasons = [node.spec.alwaysChanged ? 'always_changed' : 'forced', ...reasons];
  return { kind: 'run', reasons };
}

/** Out files that are missing or differ from what the lockfile recorded. */
export async function damagedFiles(root: string, entry: LockEntry, hasher: FileHasher): Promise<string[]> {
  const damaged: string[] = await directoryDamage(root, entry.outputs, hasher);
  for (const [name, ref] of Object.entries(entry.outputs)) {
    if (ref.kind !== 'file') continue;
    const path = name.slice('file:'.length);
    const h = await hasher.hash(path);
    if (h !== ref.hash) damaged.push(h === undefined ? `${path} is missing` : `${path} was modified`);
  }
  return damaged;
}
