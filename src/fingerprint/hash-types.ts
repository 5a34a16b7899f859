/**
 * The engine handles three kinds of sha256 hex digest, all plain strings at run time. Each is
 * branded here with its own unique symbol so the type checker refuses one where another is meant:
 * a fingerprint hash passed as a content hash, or an output-set hash looked up as a fingerprint,
 * is a compile error rather than a cache miss found at run time.
 *
 * - FingerprintHash: sha256 of a stage's fingerprint record; the key its results are stored under.
 * - OutputSetHash: sha256 of a stage's named outputs and metrics together; what downstream stages see.
 * - ContentHash: sha256 of one artifact's or one file's bytes (or a directory's manifest).
 *
 * A value gets its brand where it is computed or read from a trusted place (the lockfile, the
 * store): the `as...` functions below are those boundaries, and cast only.
 */

import { sha256Hex } from '../util/sha256-hex.ts';

declare const fingerprintHashBrand: unique symbol;
declare const outputSetHashBrand: unique symbol;
declare const contentHashBrand: unique symbol;

export type FingerprintHash = string & { readonly [fingerprintHashBrand]: true };
export type OutputSetHash = string & { readonly [outputSetHashBrand]: true };
export type ContentHash = string & { readonly [contentHashBrand]: true };

export function asFingerprintHash(hex: string): FingerprintHash {
  return hex as FingerprintHash;
}

export function asOutputSetHash(hex: string): OutputSetHash {
  return hex as OutputSetHash;
}

export function asContentHash(hex: string): ContentHash {
  return hex as ContentHash;
}

/** The content hash of bytes, or of a string's UTF-8 bytes (a canonical JSON value, a manifest). */
export function contentHashOf(data: string | Uint8Array): ContentHash {
  return asContentHash(sha256Hex(data));
}
