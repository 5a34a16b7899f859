import { StatsInputError } from './errors.ts';
import { fSurvival } from './f-distribution.ts';
import { summarizeGroups } from './groups.ts';

export interface WelchAnovaResult {
  /** Welch's F: the variance-weighted between-group spread over its correction term. */
  f: number;
  /** P(F(dfBetween, dfWithin) >= f). */
  p: number;
  dfBetween: number;
  /** Welch-Satterthwaite degrees of freedom: a real number, not the count n - k. */
  dfWithin: number;
}

/**
 * Welch's one-way ANOVA (Welch 1951), which does not assume the groups share one variance;
 * agrees with scipy.stats.f_oneway(..., equal_var=False) (SciPy >= 1.15).
 *
 * Each group is weighted by n_i / s_i^2, so a group whose values are all identical has
 * infinite weight and the statistic is undefined: that, fewer than two groups, a group of
 * fewer than two values, NaN or +-Infinity throw StatsInputError.
 */
export function welchAnova(groups: number[][]): WelchAnovaResult {
  const summaries = summarizeGroups(groups, 2, 'welchAnova').groups;
  const constant = summaries.findIndex((s) => s.constant || s.ss === 0);
  if (constant >= 0) {
    throw new StatsInputError(
      `welchAnova: group ${constant} has zero variance (all values identical), so its weight n / s^2 is infinite`,
    );
  }
  const k = summaries.length;
  const weights = summaries.map((s) => s.n / (s.ss / (s.n - 1)));
  const totalWeight = weights.reduce((a, w) => a + w, 0);
  // Means are shifted by a common constant (summarizeGroups), which cancels in every difference.
  const weightedMean = summaries.reduce((a, s, i) => a + weights[i]! * s.mean, 0) / totalWeight;
  const between = summaries.reduce((a, s, i) => a + weights[i]! * (s.mean - weightedMean) ** 2, 0) / (k - 1);
  const lambda = summaries.reduce((a, s, i) => a + (1 - weights[i]! / totalWeight) ** 2 / (s.n - 1), 0);
  const correction = 1 + ((2 * (k - 2)) / (k * k - 1)) * lambda;
  const f = between / correction;
  const dfBetween = k - 1;
  const dfWithin = (k * k - 1) / (3 * lambda);
  return { f, p: fSurvival(f, dfBetween, dfWithin), dfBetween, dfWithin };
}
