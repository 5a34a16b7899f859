import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  bootstrapMeanInterval,
  oneWayAnova,
  probabilityOfImprovement,
  StatsInputError,
  welchAnova,
} from '../src/stats/index.ts';

interface Reference {
  scipy: string;
  improvement: Array<{ name: string; x: number[]; y: number[]; u: number; probability: number }>;
  welch: Array<{
    name: string;
    groups: number[][];
    welch: { f: number; p: number; df_between: number; df_within: number } | null;
  }>;
  bootstrap: Array<{ name: string; values: number[]; low: number; high: number }>;
}

const reference = JSON.parse(
  readFileSync(new URL('./fixtures/robust-stats-reference.json', import.meta.url), 'utf8'),
) as Reference;

const close = (actual: number, expected: number, what: string, rel = 1e-9) =>
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-14,
    `${what}: got ${actual}, SciPy ${expected}`,
  );

describe(`probability of improvement agrees with SciPy ${reference.scipy} mannwhitneyu`, () => {
  for (const c of reference.improvement) {
    test(c.name, () => {
      const r = probabilityOfImprovement(c.x, c.y);
      assert.equal(r.u, c.u, 'U exactly');
      assert.equal(r.probability, c.probability);
      // P(X > Y) + P(Y > X) = 1 with ties split evenly.
      assert.equal(r.probability + probabilityOfImprovement(c.y, c.x).probability, 1);
    });
  }
  test('bad input is a StatsInputError', () => {
    assert.throws(() => probabilityOfImprovement([], [1]), StatsInputError);
    assert.throws(() => probabilityOfImprovement([1, Number.NaN], [1]), StatsInputError);
  });
});

describe(`Welch's ANOVA agrees with SciPy ${reference.scipy} f_oneway(equal_var=False) and the textbook formula`, () => {
  for (const c of reference.welch) {
    test(c.name, () => {
      if (c.welch === null) {
        assert.throws(
          () => welchAnova(c.groups),
          (e: unknown) => e instanceof StatsInputError && /zero variance/.test(e.message),
        );
        // The classic test still returns a number here, which is why it is not enough alone.
        assert.ok(Number.isFinite(oneWayAnova(c.groups).f));
        return;
      }
      const r = welchAnova(c.groups);
      assert.equal(r.dfBetween, c.welch.df_between);
      close(r.dfWithin, c.welch.df_within, 'df within');
      close(r.f, c.welch.f, 'F');
      close(r.p, c.welch.p, 'p', 1e-8);
    });
  }
  test('a group of fewer than two values is rejected', () => {
    assert.throws(() => welchAnova([[1, 2, 3], [4]]), StatsInputError);
  });
});

describe('percentile bootstrap of the mean', () => {
  for (const c of reference.bootstrap) {
    test(`${c.name}: matches scipy.stats.bootstrap (percentile, 1e5 resamples) to a fraction of the width`, () => {
      const r = bootstrapMeanInterval(c.values, { seed: 1, resamples: 20000 });
      const width = c.high - c.low;
      // Both ends are Monte Carlo estimates from different random draws: 10 % of the width is
      // far above their noise at these resample counts and far below any real disagreement.
      assert.ok(Math.abs(r.low - c.low) <= 0.1 * width, `low ${r.low} vs ${c.low}`);
      assert.ok(Math.abs(r.high - c.high) <= 0.1 * width, `high ${r.high} vs ${c.high}`);
      assert.ok(r.low <= r.mean && r.mean <= r.high);
    });
  }
  test('seeded: the same seed gives the same interval, another seed a slightly different one', () => {
    const values = [0.81, 0.84, 0.79, 0.88, 0.86];
    const a = bootstrapMeanInterval(values, { seed: 3 });
    assert.deepEqual(bootstrapMeanInterval(values, { seed: 3 }), a);
    assert.equal(a.resamples, 10000);
    // Five values have few distinct resampled means, so the ends barely move with the seed;
    // twenty show the draws changing.
    const many = reference.bootstrap[2]!.values;
    assert.notDeepEqual(bootstrapMeanInterval(many, { seed: 4 }), bootstrapMeanInterval(many, { seed: 3 }));
    const b = bootstrapMeanInterval(values, { seed: 4 });
    assert.ok(Math.abs(b.low - a.low) < 0.01 && Math.abs(b.high - a.high) < 0.01);
  });
  test('identical values give a zero-width interval at that value', () => {
    assert.deepEqual(bootstrapMeanInterval([0.574, 0.574, 0.574], { seed: 1 }), {
      mean: 0.574,
      low: 0.574,
      high: 0.574,
      resamples: 10000,
    });
  });
  test('bad input is a StatsInputError', () => {
    assert.throws(() => bootstrapMeanInterval([], { seed: 1 }), StatsInputError);
    assert.throws(() => bootstrapMeanInterval([1, Number.POSITIVE_INFINITY], { seed: 1 }), StatsInputError);
    assert.throws(() => bootstrapMeanInterval([1, 2], { seed: 1, resamples: 0 }), StatsInputError);
    assert.throws(() => bootstrapMeanInterval([1, 2], { seed: 1, confidence: 1 }), StatsInputError);
  });
});
