import { regularizedBeta } from './beta.ts';

/**
 * P(F(d1, d2) > f) = I_x(d2/2, d1/2) with x = d2 / (d2 + d1 f), for real (not only integer)
 * degrees of freedom, as Welch's ANOVA needs. Both x and 1 - x are formed from their own
 * numerators so that neither is the result of a cancelling subtraction.
 */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (f <= 0) return 1;
  if (f === Number.POSITIVE_INFINITY) return 0;
  const denom = d2 + d1 * f;
  return regularizedBeta(d2 / denom, d2 / 2, d1 / 2, (d1 * f) / denom);
}
