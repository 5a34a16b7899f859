import type { StageSpec } from '../config/stage-spec.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { asOutputSetHash, type OutputSetHash } from '../fingerprint/hash-types.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import type { FileHasher } from '../fingerprint/file-hasher.ts';
import type { LockEntry } from '../store/lockfile.ts';

export type FrozenResult = { ok: true; outputsHash: OutputSetHash; reason: string } | { ok: false; reason: string };

/**
 * A frozen stage (dvc.yaml `frozen: true`) never runs, not even with --force: its recorded
 * result stands, or, never recorded, what its outputs hold in the work tree now (as DVC trusts
 * a frozen stage's outputs as they are). Without either, its dependents cannot run.
 */
export async function frozenResult(
  spec: StageSpec,
  entry: LockEntry | undefined,
  hasher: FileHasher,
): Promise<FrozenResult> {
  if (entry !== undefined)
    return { ok: true, outputsHash: entry.outputsHash, reason: 'frozen: its recorded result stands' };
  const hashes: Record<string, string> = {};
  const missing: string[] = [];
  for (const out of [...spec.outs, ...spec.metrics]) {
    const h = await hasher.hash(out);
    if (h === undefined) missing.push(out);
    else hashes[out] = h;
  }
  if (missing.length > 0)
    return { ok: false, reason: `frozen and never run here, and its outputs are missing: ${missing.join(', ')}` };
  return {
    ok: true,
    outputsHash: asOutputSetHash(sha256Hex(canonicalJson({ frozen: hashes }))),
    reason: 'frozen: its outputs in the work tree stand',
  };
}
