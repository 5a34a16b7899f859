/**
 * Thrown for inputs on which a statistic is undefined or would be meaningless
 * (too few groups, empty groups, NaN, infinities, zero variance, ...).
 *
 * A dedicated class lets callers tell "your data cannot be analysed" apart
 * from programming errors, and keeps the library from quietly returning a NaN
 * that would propagate into reports.
 */
export class StatsInputError extends Error {
  override readonly name = 'StatsInputError';
}
