/**
 * Time to target (AlgoPerf): per seed, the steps (or seconds) until the validation loss first
 * reached the threshold, or Infinity when it never did. The cell shows the median over seeds,
 * which is "not reached" when half the seeds or more never got there: a run that did not reach
 * the target has no time to average, so the text never turns it into a number.
 */
export function timeToTarget(perSeed: readonly number[], unit: (x: number) => string): string {
  const reached = perSeed.filter((x) => Number.isFinite(x)).length;
  const seeds = `${reached}/${perSeed.length} seeds`;
  if (perSeed.length === 0) return 'not reached (no runs)';
  const sorted = [...perSeed].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Number.isFinite(median) ? `${unit(median)} (${seeds})` : `not reached (${seeds})`;
}
