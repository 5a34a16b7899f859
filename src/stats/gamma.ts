/**
 * Log-gamma for the normalising constants of the beta and chi densities.
 *
 * These only ever appear inside exponents, so what matters is a small
 * *absolute* error in the log. For large arguments the constants are
 * differences of nearly equal terms of size x log x; `stirlingCorrection`
 * exposes the small remainder directly so callers can cancel the big terms
 * analytically instead of numerically.
 */

const HALF_LOG_TWO_PI = 0.91893853320467274178;

// Lanczos (g = 7, n = 9) coefficients; good to ~1e-15 relative in Gamma(x).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** Below this, the Stirling series is not accurate enough and Lanczos is used. */
const STIRLING_MIN = 15;

/**
 * log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2], for x > 0: the
 * (small, positive) remainder of Stirling's formula.
 */
export function stirlingCorrection(x: number): number {
  if (x >= STIRLING_MIN) {
    // Asymptotic series; at x = 15 the first omitted term is below 1e-17.
    const r = 1 / x;
    const r2 = r * r;
    return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * (691 / 360360))))));
  }
  // Small x: the bracket is O(1), so subtracting it costs nothing.
  return logGamma(x) - ((x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI);
}

/** Natural log of the gamma function, for x > 0 (NaN otherwise). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x >= STIRLING_MIN) return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + stirlingCorrection(x);
  const xm1 = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (xm1 + i);
  const t = xm1 + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (xm1 + 0.5) * Math.log(t) - t + Math.log(sum);
}
