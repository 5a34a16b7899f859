import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { asOutputSetHash, type OutputSetHash } from '../fingerprint/hash-types.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import type { OutputRef } from './store.ts';

/** The hash downstream stages see for a stage: its named outputs and metrics together. */
export function outputsHashOf(outputs: Record<string, OutputRef>, metrics: Record<string, number>): OutputSetHash {
  const hashes = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.hash]));
  return asOutputSetHash(sha256Hex(canonicalJson({ outputs: hashes, metrics })));
}
