import { canonicalJson, sha256 } from '../fingerprint/canonical-json.ts';
import type { OutputRef } from './store.ts';

/** The hash downstream stages see for a stage: its named outputs and metrics together. */
export function outputsHashOf(outputs: Record<string, OutputRef>, metrics: Record<string, number>): string {
  const hashes = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.hash]));
  return sha256(canonicalJson({ outputs: hashes, metrics }));
}
