import mt19937 from '@stdlib/random-base-mt19937';

/**
 * A seeded source of randomness from which every random choice of a run is derived: weight
 * initialisation, data shuffling, dropout masks. Children are derived by label rather than by
 * drawing in sequence, so adding a random draw in one place (say, a new layer) does not shift the
 * numbers used elsewhere (say, the shuffle order), and runs stay comparable across code changes.
 * Mersenne Twister, as in src/data/split.ts, gives the same stream on every machine.
 */
export class Rng {
  private readonly next: () => number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    // Seeded with a two-word key (MT's init_by_array): the scalar form rejects 0, a seed people
    // use, and a one-word key is treated as the scalar form.
    this.next = mt19937.factory({ seed: [0x5eed, seed >>> 0] });
  }

  /** A child stream for one purpose: the same (seed, label) always gives the same child. */
  fork(label: string): Rng {
    // FNV-1a over "seed:label": a cheap, well-spread 32-bit hash, enough to separate streams.
    let h = 0x811c9dc5;
    for (const ch of `${this.seed >>> 0}:${label}`) {
      h ^= ch.codePointAt(0)!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return new Rng(h);
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.next() >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /** A seed for a tfjs random op (they take a number and seed their own generator with it). */
  tfSeed(): number {
    return this.uint32();
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
