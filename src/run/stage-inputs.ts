import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import type { LockEntry } from '../store/lockfile.ts';
import type { UpstreamManifest } from './worker-protocol.ts';

/** An upstream stage as a `uses:` stage's context will see it. */
export interface UpstreamSource {
  name: string;
  group: string;
  params: JsonObject;
  item: Record<string, JsonValue> | undefined;
  /** Its recorded result: fingerprint, outputs, metrics. */
  entry: LockEntry;
}

/**
 * The `ctx.inputs` of a `uses:` stage: every upstream stage with its outputs, metrics and
 * measurements, sorted by name rather than in declaration order, so that the order can be
 * recovered from the recorded fingerprint alone and `verify --rerun` hands a stage the same inputs.
 */
export async function assembleInputs(
  sources: readonly UpstreamSource[],
  measurementsOf: (fingerprint: FingerprintHash) => Promise<Record<string, number>>,
): Promise<UpstreamManifest[]> {
  const inputs: UpstreamManifest[] = [];
  for (const s of sources) {
    inputs.push({
      name: s.name,
      fingerprint: s.entry.fingerprint,
      group: s.group,
      params: s.params,
      item: s.item,
      metrics: s.entry.metrics,
      measurements: await measurementsOf(s.entry.fingerprint),
      outputs: s.entry.outputs,
    });
  }
  return inputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
