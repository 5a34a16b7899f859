import { stirlingCorrection } from './gamma.ts';

/**
 * Regularized incomplete beta function I_x(a, b) = P(X <= x), X ~ Beta(a, b).
 *
 * Used for the F distribution's survival function, where p-values of 1e-50 and
 * below are ordinary (large F, many observations), so the result must keep its
 * *relative* precision in the tail; a series summed towards 1 would not.
 *
 * `y` is 1 - x. Callers that know it more precisely than `1 - x` (e.g. the F
 * survival function, where x is close to 1 for small F) should pass it, because
 * b * log(y) amplifies any rounding in y.
 */
export function regularizedBeta(x: number, a: number, b: number, y: number = 1 - x): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  // The continued fraction converges quickly only left of the distribution's
  // bulk; on the right, evaluate the mirrored tail instead. The result there
  // is not small (it stays above ~0.05 even for b = 1/2), so forming
  // 1 - (other tail) costs at most a digit.
  if (x > (a + 1) / (a + b + 2)) return 1 - lowerTail(y, b, a, x);
  return lowerTail(x, a, b, y);
}

/** I_x(a, b) for x left of the mean, via the continued fraction. */
function lowerTail(x: number, a: number, b: number, y: number): number {
  return (Math.exp(logPrefactor(x, a, b, y)) * continuedFraction(x, a, b)) / a;
}

const HALF_LOG_TWO_PI = 0.91893853320467274178;

/**
 * log[x^a y^b / B(a, b)].
 *
 * Written naively, a log x + b log y - log B(a, b) subtracts terms of size
 * a log a from each other, and with a in the hundreds or thousands (F tests on
 * large samples) that leaves only ~12 significant digits. Expanding log B with
 * Stirling's formula and writing x = (a + d) / (a + b), y = (b - d) / (a + b)
 * turns the large terms into -a m(d/a) - b m(-d/b), m(t) = t - log(1 + t),
 * which are small near the bulk and computed there without cancellation.
 */
function logPrefactor(x: number, a: number, b: number, y: number): number {
  const d = b * x - a * y;
  const s = a + b;
  return (
    scaledLog1pMinus(a, d / a, (x * s) / a) +
    scaledLog1pMinus(b, -d / b, (y * s) / b) +
    0.5 * Math.log((a * b) / s) -
    HALF_LOG_TWO_PI +
    stirlingCorrection(s) -
    stirlingCorrection(a) -
    stirlingCorrection(b)
  );
}

/**
 * -n m(t) = n (log(1 + t) - t), given t and u = 1 + t formed independently.
 * Far from the bulk, t carries an absolute error of ~1e-16 that would be
 * amplified in log1p(t) when u is tiny, so log(u) is used there instead.
 */
function scaledLog1pMinus(n: number, t: number, u: number): number {
  return Math.abs(t) <= 0.25 ? -n * log1pMinus(t) : n * (Math.log(u) - t);
}

/** t - log(1 + t) for |t| <= 1/4, accurate although it is ~t^2/2. */
function log1pMinus(t: number): number {
  // With r = t / (2 + t): log(1 + t) = 2 atanh(r) and t = 2r / (1 - r), so
  // t - log(1 + t) = 2r^2/(1 - r) - 2(r^3/3 + r^5/5 + ...), with no cancellation.
  const r = t / (2 + t);
  const r2 = r * r;
  let term = r * r2;
  let series = 0;
  for (let n = 3; n < 60; n += 2) {
    const next = term / n;
    series += next;
    if (Math.abs(next) <= 1e-17 * Math.abs(series)) break;
    term *= r2;
  }
  return (2 * r2) / (1 - r) - 2 * series;
}

const TINY = 1e-300;
/** Relative change of the last Lentz factor at which the fraction has converged. */
const EPS = Number.EPSILON;
const MAX_TERMS = 100000;

/**
 * The classical continued fraction for the incomplete beta (DLMF 8.17.22),
 * evaluated by the modified Lentz method, which needs no a-priori depth and
 * avoids the overflow of forming numerators and denominators separately.
 */
function continuedFraction(x: number, a: number, b: number): number {
  const guard = (v: number): number => (Math.abs(v) < TINY ? TINY : v);
  let c = 1;
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= MAX_TERMS; m++) {
    const m2 = 2 * m;
    // Even step.
    let coef = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / guard(1 + coef * d);
    c = guard(1 + coef / c);
    h *= d * c;
    // Odd step.
    coef = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / guard(1 + coef * d);
    c = guard(1 + coef / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= EPS) return h;
  }
  // Not reached for finite positive a, b (convergence takes O(sqrt(max(a, b))) terms).
  throw new Error(`incomplete beta continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}
