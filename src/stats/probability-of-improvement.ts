import { StatsInputError } from './errors.ts';

export interface ImprovementResult {
  /** Mann-Whitney U of x: pairs (xi, yj) with xi > yj, ties counting one half. */
  u: number;
  /** P(X > Y) = U / (n m): the chance that a run of X scores above a run of Y. */
  probability: number;
}

/**
 * The probability of improvement of x over y (Agarwal et al. 2021, rliable), from the
 * Mann-Whitney U statistic; U agrees with scipy.stats.mannwhitneyu(x, y).statistic. It needs
 * no assumption about the shape or the spread of either sample, so it stays meaningful for
 * five seeds and for a sample whose values are all identical. Counted pair by pair: the
 * samples here are seeds, a handful each.
 */
export function probabilityOfImprovement(x: readonly number[], y: readonly number[]): ImprovementResult {
  for (const [name, sample] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (!Array.isArray(sample) || sample.length === 0) {
      throw new StatsInputError(`probabilityOfImprovement: ${name} must be a non-empty array`);
    }
    sample.forEach((v, i) => {
      if (typeof v !== 'number' || Number.isNaN(v)) {
        throw new StatsInputError(`probabilityOfImprovement: ${name}[${i}] is not a number`);
      }
    });
  }
  let twiceU = 0;
  for (const a of x) for (const b of y) twiceU += a > b ? 2 : a === b ? 1 : 0;
  // Counting halves as integers keeps U exact however many ties there are.
  const u = twiceU / 2;
  return { u, probability: u / (x.length * y.length) };
}
