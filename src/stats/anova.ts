import { StatsInputError } from './errors.ts';
import { fSurvival } from './f-distribution.ts';
import { summarizeGroups } from './groups.ts';

export interface AnovaResult {
  /** F statistic: between-group mean square over within-group mean square. */
  f: number;
  /** P(F(dfBetween, dfWithin) >= f). */
  p: number;
  dfBetween: number;
  dfWithin: number;
}

/**
 * One-way ANOVA F test, agreeing with scipy.stats.f_oneway.
 *
 * Groups of a single value are accepted (they add to the between-group sum of
 * squares but not to the within-group one), as in SciPy, as long as some
 * group has two or more values.
 *
 * Degenerate input:
 * - fewer than two groups, an empty group, NaN or +-Infinity, or no group
 *   with two or more values: throws StatsInputError (SciPy returns NaN or
 *   raises, depending on the case);
 * - every value identical: throws StatsInputError, because F is 0/0 (SciPy
 *   warns and returns NaN);
 * - every group constant but not all equal: returns f = Infinity, p = 0, as
 *   SciPy does (with a warning): zero within-group variance and nonzero
 *   between-group variance is perfect separation, so this is a limit rather
 *   than an undefined value.
 */
export function oneWayAnova(groups: number[][]): AnovaResult {
  const summaries = summarizeGroups(groups, 1, 'oneWayAnova').groups;
  const k = summaries.length;
  const total = summaries.reduce((acc, s) => acc + s.n, 0);
  const dfBetween = k - 1;
  const dfWithin = total - k;
  if (dfWithin < 1) {
    throw new StatsInputError(
      'oneWayAnova: every group has a single value, so there are no within-group degrees of freedom',
    );
  }

  // Sums of squares from deviations (group means about the grand mean, values
  // about their group mean), never from raw sums of squares, so that a large
  // common offset does not cancel the signal.
  const grandMean = summaries.reduce((acc, s) => acc + s.n * s.mean, 0) / total;
  let ssBetween = 0;
  let ssWithin = 0;
  for (const s of summaries) {
    ssBetween += s.n * (s.mean - grandMean) ** 2;
    ssWithin += s.ss;
  }

  if (summaries.every((s) => s.constant)) {
    const value = summaries[0]!.mean;
    if (summaries.every((s) => s.mean === value)) {
      throw new StatsInputError('oneWayAnova: all values are identical, so F is 0/0 (undefined)');
    }
    return { f: Number.POSITIVE_INFINITY, p: 0, dfBetween, dfWithin };
  }

  const f = ssBetween / dfBetween / (ssWithin / dfWithin);
  return { f, p: fSurvival(f, dfBetween, dfWithin), dfBetween, dfWithin };
}
