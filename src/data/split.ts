import mt19937 from '@stdlib/random-base-mt19937';

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

export type SplitName = keyof SplitFractions;

/**
 * Assigns each row to train/validation/test, stratified by `strata` (each label gets the
 * fractions on its own, so a rare class is not missing from a split) and seeded: the same seed
 * and rows give the same assignment on every machine (Mersenne Twister, as numpy's legacy RNG).
 * Within a stratum, rows are shuffled with Fisher-Yates, then cut by rounding the cumulative
 * fractions, so counts differ from the exact fractions by less than one row per stratum.
 */
export function stratifiedSplit(strata: readonly string[], fractions: SplitFractions, seed: number): SplitName[] {
  const total = fractions.train + fractions.validation + fractions.test;
  if (!(total > 0) || [fractions.train, fractions.validation, fractions.test].some((f) => f < 0)) {
    throw new Error(`split fractions must be non-negative and not all zero, got ${JSON.stringify(fractions)}`);
  }
  const rng = mt19937.factory({ seed: seed >>> 0 });
  // 32 random bits scaled to [0, 1): ample resolution for shuffling corpora of any size here.
  const uniform = (): number => rng() / 4294967296;
  const byStratum = new Map<string, number[]>();
  strata.forEach((s, i) => byStratum.set(s, [...(byStratum.get(s) ?? []), i]));
  const out: SplitName[] = new Array<SplitName>(strata.length);
  for (const key of [...byStratum.keys()].sort()) {
    const rows = byStratum.get(key)!;
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const cutTrain = Math.round((rows.length * fractions.train) / total);
    const cutValidation = Math.round((rows.length * (fractions.train + fractions.validation)) / total);
    rows.forEach((row, k) => {
      out[row] = k < cutTrain ? 'train' : k < cutValidation ? 'validation' : 'test';
    });
  }
  return out;
}
