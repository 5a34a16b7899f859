import { StatsInputError } from './errors.ts';

/** Per-group quantities that both ANOVA and Tukey's HSD are built from. */
export interface GroupSummary {
  n: number;
  /** Group mean *minus the common shift* (see GroupSummaries.shift). */
  mean: number;
  /** Sum of squared deviations from the group mean. */
  ss: number;
  /** Whether every value in the group is identical (compared exactly, as SciPy does). */
  constant: boolean;
}

export interface GroupSummaries {
  /**
   * A rough grand mean subtracted from every value before anything else is
   * computed. Means are only ever used through their differences, and with
   * data such as 1e6 + noise the means themselves, rounded to doubles near
   * 1e6, would carry an error of ~1e-10 that is large relative to those
   * differences. Shifted values are small, so their means are not limited by
   * that spacing (and near the shift, x - shift is exact).
   */
  shift: number;
  groups: GroupSummary[];
}

/**
 * Validates `groups` and summarises each one, or throws StatsInputError naming
 * the first problem found. `test` names the caller in messages.
 *
 * Means and sums of squares use two passes with a correction term rather than
 * running sums of x and x^2, which for data with a large offset would cancel
 * away every significant digit of the spread.
 */
export function summarizeGroups(groups: readonly (readonly number[])[], minSize: number, test: string): GroupSummaries {
  if (!Array.isArray(groups)) throw new StatsInputError(`${test}: groups must be an array of arrays of numbers`);
  if (groups.length < 2) {
    throw new StatsInputError(`${test}: needs at least two groups, got ${groups.length}`);
  }
  let total = 0;
  let count = 0;
  groups.forEach((group, g) => {
    if (!Array.isArray(group)) throw new StatsInputError(`${test}: group ${g} is not an array`);
    if (group.length === 0) throw new StatsInputError(`${test}: group ${g} is empty`);
    if (group.length < minSize) {
      throw new StatsInputError(
        `${test}: group ${g} has ${group.length} value(s); every group needs at least ${minSize}`,
      );
    }
    group.forEach((x: unknown, i) => {
      if (typeof x !== 'number') throw new StatsInputError(`${test}: group ${g}, value ${i} is not a number`);
      if (Number.isNaN(x)) throw new StatsInputError(`${test}: group ${g}, value ${i} is NaN`);
      if (!Number.isFinite(x)) throw new StatsInputError(`${test}: group ${g}, value ${i} is ${x} (not finite)`);
      total += x;
      count += 1;
    });
  });
  // Any value near the centre of the data will do; overflow of the sum (values
  // near 1e308) is caught below as a non-finite result.
  const shift = total / count;

  const summaries = groups.map((group, g): GroupSummary => {
    const n = group.length;
    const first = group[0]!;
    let sum = 0;
    let constant = true;
    for (const x of group) {
      sum += x - shift;
      if (x !== first) constant = false;
    }
    if (constant) return { n, mean: first - shift, ss: 0, constant };
    let mean = sum / n;
    // Second pass: the residual sum corrects the rounding of the first mean
    // and of the sum of squares (the "corrected two-pass" algorithm).
    let residual = 0;
    let ss = 0;
    for (const x of group) {
      const dev = x - shift - mean;
      residual += dev;
      ss += dev * dev;
    }
    mean += residual / n;
    ss = Math.max(0, ss - (residual * residual) / n);
    if (!Number.isFinite(mean) || !Number.isFinite(ss)) {
      throw new StatsInputError(`${test}: group ${g} has values too large in magnitude to square in double precision`);
    }
    return { n, mean, ss, constant };
  });
  if (!Number.isFinite(shift)) {
    throw new StatsInputError(`${test}: values too large in magnitude to sum in double precision`);
  }
  return { shift, groups: summaries };
}
