/**
 * Upper tail of the standard normal distribution, Q(z) = P(Z > z).
 *
 * The studentized range integrals need Q with full *relative* precision far
 * into the tail (down to ~1e-300): small p-values are built from products of
 * such tails, and `1 - Phi(z)` would lose every digit there. JavaScript has no
 * erfc, so this evaluates W. J. Cody's rational Chebyshev approximations
 * (Math. Comp. 23, 1969; the coefficients of his public-domain CALERF), which
 * are accurate to about 1e-16 relative on each of their three ranges.
 */

const SMALL_NUM = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947];
const SMALL_LEAD = 0.185777706184603153;
const SMALL_DEN = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];

const MID_NUM = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725,
];
const MID_LEAD = 2.15311535474403846e-8;
const MID_DEN = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];

const LARGE_NUM = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4,
];
const LARGE_LEAD = 0.0163153871373020978;
const LARGE_DEN = [
  2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185,
];

const INV_SQRT_PI = 0.56418958354775628695;

/** exp(-y*y), with y*y split so the rounding of the square does not leak into the exponent. */
function expMinusSquare(y: number): number {
  const head = Math.trunc(y * 16) / 16;
  const tail = (y - head) * (y + head);
  return Math.exp(-head * head) * Math.exp(-tail);
}

/** erfc(x) for x >= 0. */
function erfcNonNegative(x: number): number {
  if (x <= 0.46875) {
    const t = x * x;
    let num = SMALL_LEAD * t;
    let den = t;
    for (let i = 0; i < 3; i++) {
      num = (num + SMALL_NUM[i]!) * t;
      den = (den + SMALL_DEN[i]!) * t;
    }
    return 1 - (x * (num + SMALL_NUM[3]!)) / (den + SMALL_DEN[3]!);
  }
  if (x <= 4) {
    let num = MID_LEAD * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + MID_NUM[i]!) * x;
      den = (den + MID_DEN[i]!) * x;
    }
    return (expMinusSquare(x) * (num + MID_NUM[7]!)) / (den + MID_DEN[7]!);
  }
  // exp(-x^2) underflows to zero beyond this point.
  if (x >= 26.7) return 0;
  const t = 1 / (x * x);
  let num = LARGE_LEAD * t;
  let den = t;
  for (let i = 0; i < 4; i++) {
    num = (num + LARGE_NUM[i]!) * t;
    den = (den + LARGE_DEN[i]!) * t;
  }
  const r = (t * (num + LARGE_NUM[4]!)) / (den + LARGE_DEN[4]!);
  return (expMinusSquare(x) * (INV_SQRT_PI - r)) / x;
}

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  const x = z * Math.SQRT1_2;
  return x >= 0 ? 0.5 * erfcNonNegative(x) : 1 - 0.5 * erfcNonNegative(-x);
}
