import mt19937 from '@stdlib/random-base-mt19937';
import { StatsInputError } from './errors.ts';

export interface BootstrapOptions {
  /** Resamples drawn (default 10000): the interval's ends move by well under 1 % of its width between seeds. */
  resamples?: number;
  /** Coverage of the interval, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Seed of the resampling: the same seed and values always give the same interval. */
  seed: number;
}

export interface BootstrapInterval {
  mean: number;
  low: number;
  high: number;
  resamples: number;
}

/**
 * Percentile-bootstrap interval of the mean (Efron): the values are resampled with replacement
 * `resamples` times, and the interval runs between the (1 - confidence)/2 and (1 + confidence)/2
 * quantiles of the resampled means (linear interpolation between order statistics, NumPy's
 * default). Mersenne Twister seeded from `seed` gives the same draws on every machine. With
 * five seeds the interval is narrower than the true coverage would demand (the bootstrap
 * cannot see tails the sample did not reach): read it as a description of the seeds' spread.
 */
export function bootstrapMeanInterval(values: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  const resamples = opts.resamples ?? 10000;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new StatsInputError(`bootstrapMeanInterval: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new StatsInputError(`bootstrapMeanInterval: confidence must lie strictly between 0 and 1, got ${confidence}`);
  }
  if (!Number.isInteger(opts.seed)) throw new StatsInputError(`bootstrapMeanInterval: seed must be an integer`);
  if (!Array.isArray(values) || values.length === 0) {
    throw new StatsInputError('bootstrapMeanInterval: needs at least one value');
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new StatsInputError(`bootstrapMeanInterval: value ${i} is ${String(v)} (not a finite number)`);
    }
  });
  const n = values.length;
  // A two-word key: MT's scalar seeding rejects 0, and the study's seeds start at small integers.
  const uniform = mt19937.factory({ seed: [0xb007, opts.seed >>> 0] });
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(((uniform() >>> 0) / 4294967296) * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const mean = values.reduce((a, v) => a + v, 0) / n;
  return {
    mean,
    low: quantile(means, (1 - confidence) / 2),
    high: quantile(means, (1 + confidence) / 2),
    resamples,
  };
}

/** The q quantile of sorted values, interpolating linearly between neighbours (NumPy's "linear"). */
function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!);
}
