import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { oneWayAnova, StatsInputError, tukeyHsd } from '../src/stats/index.ts';
import type { TukeyPair } from '../src/stats/index.ts';
import { regularizedBeta } from '../src/stats/beta.ts';
import { studentizedRange } from '../src/stats/studentized-range.ts';

type ReferencePair = Omit<TukeyPair, 'reject'>;
interface ReferenceCase {
  name: string;
  groups: number[][];
  confidence: number;
  anova: { f: number; p: number };
  tukey: ReferencePair[] | null;
}

const reference = JSON.parse(readFileSync(new URL('./fixtures/stats-reference.json', import.meta.url), 'utf8')) as {
  scipy: string;
  cases: ReferenceCase[];
};

/** Required agreement with SciPy. */
const REL_TOL = 1e-6;
/**
 * Absolute floor for p-values and F. SciPy computes the studentized range
 * p-value as 1 - CDF with the CDF integrated to an absolute tolerance of about
 * 1e-11, so its p-values below ~1e-7 carry absolute noise of ~1e-13 (for very
 * strong effects it even returns exactly 0 where the true value is ~1e-20).
 * This implementation integrates the upper tail directly and is accurate
 * there, so for tiny p-values only the absolute difference is meaningful.
 * The same floor absorbs F statistics that are exactly 0 in exact arithmetic
 * but rounding noise in floating point.
 */
const ABS_FLOOR = 1e-12;

function assertClose(actual: number, expected: number, what: string, scale = Math.abs(expected)): number {
  const diff = Math.abs(actual - expected);
  assert.ok(
    diff <= REL_TOL * scale + ABS_FLOOR,
    `${what}: got ${actual}, SciPy ${expected} (difference ${diff.toExponential(3)})`,
  );
  return scale > 0 ? diff / scale : diff;
}

describe(`agreement with SciPy ${reference.scipy}`, () => {
  // Largest relative errors seen, reported as a diagnostic. p-values below
  // 1e-6 are tracked by absolute difference instead (see ABS_FLOOR).
  const worst = { f: 0, anovaP: 0, meanDiff: 0, tukeyP: 0, tukeyTinyPAbs: 0, bound: 0 };

  for (const c of reference.cases) {
    test(`${c.name}: oneWayAnova`, () => {
      const res = oneWayAnova(c.groups);
      const n = c.groups.reduce((acc, g) => acc + g.length, 0);
      assert.equal(res.dfBetween, c.groups.length - 1);
      assert.equal(res.dfWithin, n - c.groups.length);
      worst.f = Math.max(worst.f, assertClose(res.f, c.anova.f, 'F'));
      worst.anovaP = Math.max(worst.anovaP, assertClose(res.p, c.anova.p, 'p'));
    });

    const pairs = c.tukey;
    if (pairs === null) continue;
    test(`${c.name}: tukeyHsd at ${c.confidence}`, () => {
      const res = tukeyHsd(c.groups, { confidence: c.confidence });
      assert.equal(res.pairs.length, pairs.length);
      for (const [index, ref] of pairs.entries()) {
        const got = res.pairs[index]!;
        const label = `pair (${ref.i}, ${ref.j})`;
        assert.equal(got.i, ref.i);
        assert.equal(got.j, ref.j);
        worst.meanDiff = Math.max(worst.meanDiff, assertClose(got.meanDiff, ref.meanDiff, `${label} meanDiff`));
        const pError = assertClose(got.p, ref.p, `${label} p`);
        if (ref.p >= 1e-6) worst.tukeyP = Math.max(worst.tukeyP, pError);
        else worst.tukeyTinyPAbs = Math.max(worst.tukeyTinyPAbs, Math.abs(got.p - ref.p));
        // An interval bound is meanDiff +- halfWidth; when the two nearly
        // cancel the bound is close to 0 and its own magnitude is no measure
        // of precision, so the error is taken relative to the larger term.
        const halfWidth = (ref.high - ref.low) / 2;
        const scale = Math.max(Math.abs(ref.meanDiff), halfWidth);
        worst.bound = Math.max(worst.bound, assertClose(got.low, ref.low, `${label} low`, scale));
        worst.bound = Math.max(worst.bound, assertClose(got.high, ref.high, `${label} high`, scale));
        assert.equal(got.reject, got.p < 1 - c.confidence);
      }
    });
  }

  test('report worst relative errors', (t) => {
    const shown = Object.entries(worst).map(([key, value]) => `${key}=${value.toExponential(2)}`);
    t.diagnostic(`largest errors vs SciPy: ${shown.join(', ')}`);
  });
});

describe('studentized range cross-checks', () => {
  test('k = 2 matches the t distribution to 1e-10', () => {
    // For two groups Q = sqrt(2) |T|, so P(Q > q) = I_{nu/(nu + q^2/2)}(nu/2, 1/2):
    // an exact identity that is independent of the double integral, and valid
    // deep in the tail where SciPy's 1 - CDF is no longer usable.
    for (const nu of [2, 5, 30, 200, 798, 1e4]) {
      for (const q of [0.05, 0.7, 2, 3.5, 6, 12, 30]) {
        const t2 = (q * q) / 2;
        const exact = regularizedBeta(nu / (nu + t2), nu / 2, 0.5, t2 / (nu + t2));
        const got = studentizedRange.sf(q, 2, nu);
        assert.ok(Math.abs(got - exact) <= 1e-10 * exact, `nu=${nu} q=${q}: ${got} vs ${exact}`);
      }
    }
  });

  test('quantile inverts the CDF', () => {
    for (const [p, k, nu] of [
      [0.95, 3, 12],
      [0.99, 8, 792],
      [0.5, 5, 2],
      [0.9, 2, 40],
    ] as const) {
      const q = studentizedRange.quantile(p, k, nu);
      assert.ok(Math.abs(studentizedRange.cdf(q, k, nu) - p) < 1e-13, `p=${p} k=${k} nu=${nu}`);
    }
  });
});

describe('degenerate input', () => {
  const both = [
    ['oneWayAnova', (g: number[][]) => oneWayAnova(g)],
    ['tukeyHsd', (g: number[][]) => tukeyHsd(g)],
  ] as const;

  for (const [name, run] of both) {
    test(`${name}: fewer than two groups`, () => {
      assert.throws(() => run([]), { name: 'StatsInputError', message: /at least two groups, got 0/ });
      assert.throws(() => run([[1, 2, 3]]), { name: 'StatsInputError', message: /at least two groups, got 1/ });
    });

    test(`${name}: empty group`, () => {
      assert.throws(() => run([[1, 2], []]), { name: 'StatsInputError', message: /group 1 is empty/ });
    });

    // Each input has one bad value; the error names its group and position.
    const badValues: [string, number[][], RegExp][] = [
      [
        'NaN',
        [
          [1, Number.NaN],
          [2, 3],
        ],
        /group 0, value 1 is NaN/,
      ],
      [
        'Infinity',
        [
          [1, 2],
          [Number.POSITIVE_INFINITY, 3],
        ],
        /group 1, value 0 is Infinity/,
      ],
      [
        '-Infinity',
        [
          [1, 2],
          [3, Number.NEGATIVE_INFINITY],
        ],
        /-Infinity \(not finite\)/,
      ],
      [
        'a string',
        [
          [1, 2],
          ['3' as unknown as number, 4],
        ],
        /group 1, value 0 is not a number/,
      ],
    ];
    for (const [what, groups, message] of badValues) {
      test(`${name}: ${what} among the values`, () => {
        assert.throws(() => run(groups), { name: 'StatsInputError', message });
      });
    }

    test(`${name}: all values identical`, () => {
      assert.throws(
        () =>
          run([
            [4, 4, 4],
            [4, 4],
          ]),
        { name: 'StatsInputError', message: /identical|constant/ },
      );
    });
  }

  test('errors are StatsInputError instances', () => {
    assert.throws(() => oneWayAnova([[1]]), StatsInputError);
  });

  test('oneWayAnova: only single-value groups leaves no within-group df', () => {
    assert.throws(() => oneWayAnova([[1], [2], [3]]), {
      name: 'StatsInputError',
      message: /no within-group degrees of freedom/,
    });
  });

  test('oneWayAnova: a single-value group next to larger ones is allowed (as in SciPy)', () => {
    const res = oneWayAnova([[1, 2, 4], [5], [2.5, 3.5]]);
    assert.equal(res.dfWithin, 3);
    assert.ok(Number.isFinite(res.f) && res.p > 0 && res.p < 1);
  });

  test('oneWayAnova: constant groups with different values give F = Infinity, p = 0 (as SciPy)', () => {
    assert.deepEqual(oneWayAnova([[1, 1, 1], [2, 2], [7]]), { f: Infinity, p: 0, dfBetween: 2, dfWithin: 3 });
  });

  test('tukeyHsd: a group of one value is rejected (as SciPy)', () => {
    assert.throws(() => tukeyHsd([[1, 2, 3], [4]]), {
      name: 'StatsInputError',
      message: /group 1 has 1 value\(s\); every group needs at least 2/,
    });
  });

  test('tukeyHsd: constant groups (zero pooled variance) are rejected', () => {
    assert.throws(
      () =>
        tukeyHsd([
          [1, 1, 1],
          [2, 2],
        ]),
      {
        name: 'StatsInputError',
        message: /pooled within-group variance is zero/,
      },
    );
  });

  test('tukeyHsd: confidence must lie strictly between 0 and 1', () => {
    const groups = [
      [1, 2, 3],
      [2, 3, 5],
    ];
    for (const confidence of [0, 1, -0.5, 1.5, Number.NaN]) {
      assert.throws(() => tukeyHsd(groups, { confidence }), {
        name: 'StatsInputError',
        message: /confidence must be a number strictly between 0 and 1/,
      });
    }
  });

  test('huge magnitudes that overflow when squared are rejected, not returned as NaN', () => {
    assert.throws(
      () =>
        oneWayAnova([
          [1e300, -1e300],
          [0, 1],
        ]),
      {
        name: 'StatsInputError',
        message: /too large in magnitude/,
      },
    );
  });
});
