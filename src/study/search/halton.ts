import { Rng } from '../../ml/rng.ts';

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];

/** Van der Corput's radical inverse of `index` in `base`: its digits mirrored after the point. */
export function radicalInverse(index: number, base: number): number {
  if (!(Number.isInteger(index) && index >= 0)) throw new Error(`index must be an integer >= 0, got ${index}`);
  let inverse = 0;
  let scale = 1 / base;
  for (let i = index; i > 0; i = Math.floor(i / base)) {
    inverse += (i % base) * scale;
    scale /= base;
  }
  return inverse;
}

/**
 * Points `1..count` of the Halton sequence in `dims` dimensions (prime bases 2, 3, 5, ...),
 * each coordinate shifted by one seeded uniform offset modulo 1 (a Cranley-Patterson rotation):
 * the shift keeps the sequence's even coverage while the seed picks which covering is used.
 * Index 0, the origin in every dimension, is skipped. `seed` null: the plain, unshifted sequence.
 */
export function haltonPoints(count: number, dims: number, seed: number | null): number[][] {
  if (dims > PRIMES.length) throw new Error(`at most ${PRIMES.length} searched dimensions, got ${dims}`);
  const rng = seed === null ? undefined : new Rng(seed).fork('halton-shift');
  const shifts = Array.from({ length: dims }, () => (rng === undefined ? 0 : rng.uniform()));
  return Array.from({ length: count }, (_, i) =>
    shifts.map((shift, d) => {
      const u = radicalInverse(i + 1, PRIMES[d]!) + shift;
      return u >= 1 ? u - 1 : u;
    }),
  );
}
