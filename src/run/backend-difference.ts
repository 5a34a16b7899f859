import type { JsonValue } from '../stage-api.ts';

/** Where a run computed: its `runs.backend` and the `adapter` it recorded in its provenance. */
export interface RunBackend {
  backend: string | null;
  provenance: Record<string, JsonValue> | undefined;
}

function describe(run: RunBackend): string {
  const adapter = run.provenance?.adapter;
  if (adapter === null || typeof adapter !== 'object' || Array.isArray(adapter))
    return run.backend ?? 'an unrecorded backend';
  const words = [adapter.vendor, adapter.device].filter((w) => typeof w === 'string' && w.length > 0).join(' ');
  return words.length > 0 ? `${run.backend} (${words})` : (run.backend ?? 'an unrecorded backend');
}

/**
 * Why a rerun's outputs may differ without anything having been tampered with: it ran on another
 * tfjs backend (or another GPU adapter) than the recorded run. Floats from different kernels
 * round differently (a GPU sums in another order than wasm), so such outputs are not expected to
 * be bit-identical. Undefined when both ran on the same backend and adapter, or either is unknown.
 */
export function backendDifference(recorded: RunBackend | undefined, rerun: RunBackend | undefined): string | undefined {
  if (recorded?.backend == null || rerun?.backend == null) return undefined;
  const was = describe(recorded);
  const now = describe(rerun);
  if (was === now) return undefined;
  return `computed on ${was}, rerun on ${now}: different kernels round floats differently, so outputs of another backend are not expected to be bit-identical`;
}
