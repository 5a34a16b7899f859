import { StatsInputError } from './errors.ts';
import { summarizeGroups } from './groups.ts';
import { studentizedRange } from './studentized-range.ts';

export interface TukeyPair {
  /** Indices into the input groups, i < j. */
  i: number;
  j: number;
  /** mean(groups[i]) - mean(groups[j]). */
  meanDiff: number;
  /** Adjusted p-value from the studentized range distribution. */
  p: number;
  /** Simultaneous confidence interval for the difference of means. */
  low: number;
  high: number;
  /** p < 1 - confidence. */
  reject: boolean;
}

export interface TukeyOptions {
  /** Family-wise confidence level of the intervals, in (0, 1). Default 0.95. */
  confidence?: number;
}

/**
 * Tukey's honestly significant difference test for all pairs of groups,
 * agreeing with scipy.stats.tukey_hsd (Tukey-Kramer standard errors when the
 * group sizes differ).
 *
 * Degenerate input throws StatsInputError: fewer than two groups, a group
 * with fewer than two values (SciPy raises too), NaN or +-Infinity (SciPy
 * raises for infinities and returns NaN for NaN), a confidence outside (0, 1),
 * and data in which every group is constant: the pooled variance is then zero
 * and SciPy would return p = 0 for unequal means but NaN for equal ones.
 */
export function tukeyHsd(groups: number[][], opts: TukeyOptions = {}): { pairs: TukeyPair[] } {
  const confidence = opts.confidence ?? 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new StatsInputError(`tukeyHsd: confidence must be a number strictly between 0 and 1, got ${confidence}`);
  }
  const summaries = summarizeGroups(groups, 2, 'tukeyHsd').groups;
  if (summaries.every((s) => s.constant)) {
    throw new StatsInputError(
      'tukeyHsd: every group is constant, so the pooled within-group variance is zero and the test is undefined',
    );
  }
  const k = summaries.length;
  const total = summaries.reduce((acc, s) => acc + s.n, 0);
  const df = total - k;
  const mse = summaries.reduce((acc, s) => acc + s.ss, 0) / df;

  // One critical value serves every pair; only the standard errors differ.
  const critical = studentizedRange.quantile(confidence, k, df);
  const alpha = 1 - confidence;

  const pairs: TukeyPair[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const a = summaries[i]!;
      const b = summaries[j]!;
      const meanDiff = a.mean - b.mean;
      // Tukey-Kramer: the standard error of the studentized range uses the
      // harmonic mean of the two sizes; for equal sizes this is sqrt(mse / n).
      const se = Math.sqrt((mse / 2) * (1 / a.n + 1 / b.n));
      const p = studentizedRange.sf(Math.abs(meanDiff) / se, k, df);
      const halfWidth = critical * se;
      pairs.push({ i, j, meanDiff, p, low: meanDiff - halfWidth, high: meanDiff + halfWidth, reject: p < alpha });
    }
  }
  return { pairs };
}
