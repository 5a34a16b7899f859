import {
  bootstrapMeanInterval,
  oneWayAnova,
  type AnovaResult,
  type WelchAnovaResult,
  probabilityOfImprovement,
  StatsInputError,
  tukeyHsd,
  welchAnova,
} from '../src/stats/index.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { distinct, diverged, mean, runsOf, std } from '../src/study/group-runs.ts';
import { columnsOf } from '../src/util/columns-of.ts';

interface Params extends JsonObject {
  /** Significance level for ANOVA and for Tukey's verdicts (confidence = 1 - alpha). */
  alpha: number;
  /** Evaluate metrics to test, e.g. test_accuracy, test_macro_f1, test_perplexity. */
  metrics: string[];
  /** Resamples of each percentile-bootstrap interval of a mean (95 %, or 1 - alpha). */
  bootstrap_resamples: number;
  /** Seed of the bootstrap's resampling, so the intervals are reproduced byte for byte. */
  bootstrap_seed: number;
}

// Each table's columns in their stored order.
const ANOVA = ['arch', 'metric', 'groups', 'f', 'p', 'df_between', 'df_within', 'significant', 'note'] as const;
const TUKEY = ['arch', 'metric', 'a', 'b', 'mean_diff', 'p', 'low', 'high', 'reject'] as const;
const WELCH = ['arch', 'metric', 'f', 'p', 'df_between', 'df_within', 'significant', 'note'] as const;
const BOOTSTRAP = ['arch', 'variant', 'metric', 'mean', 'low', 'high', 'confidence', 'resamples'] as const;
const IMPROVEMENT = ['arch', 'metric', 'x', 'y', 'u', 'probability'] as const;
const SUMMARY = ['arch', 'variant', 'metric', 'n', 'mean', 'std'] as const;

/**
 * Per architecture and metric: one-way ANOVA across optimizer variants over seeds, then Tukey
 * HSD for every pair, with a verdict at `alpha`; beside them the tests that fit five seeds and
 * unequal spreads: Welch's ANOVA (no shared variance assumed), a percentile-bootstrap interval
 * of each optimizer's mean, and for every ordered pair the probability of improvement
 * P(X > Y) = U / (n m) from the Mann-Whitney U. A comparison the data cannot support (every
 * seed gave the same value, say) becomes a row saying why, not a failed stage.
 */
export default defineStage<Params>(async (ctx) => {
  // A diverged fine-tune has no test metrics: it is counted by the report, not averaged here.
  const runs = runsOf(ctx.inputs, 'evaluate').filter((r) => !diverged(r));
  const compared = distinct(runs.map((r) => r.arch))
    .sort()
    .flatMap((arch) => {
      const variants = distinct(runs.filter((r) => r.arch === arch).map((r) => r.variant)).sort();
      return ctx.params.metrics.map((metric) => {
        const groups = variants.map((v) =>
          runs
            .filter((r) => r.arch === arch && r.variant === v)
            .sort((x, y) => x.seed - y.seed)
            .map((r) => {
              const value = r.input.metrics[metric];
              if (value === undefined) throw new Error(`${r.input.name} has no metric "${metric}"`);
              return value;
            }),
        );
        return compareOptimizers(arch, metric, variants, groups, ctx.params);
      });
    });
  const rows = {
    anova: compared.map((c) => c.anova),
    tukey: compared.flatMap((c) => c.tukey),
    welch: compared.map((c) => c.welch),
    bootstrap: compared.flatMap((c) => c.bootstrap),
    improvement: compared.flatMap((c) => c.improvement),
    summary: compared.flatMap((c) => c.summary),
  };
  const anova = columnsOf(ANOVA, rows.anova);
  const tukey = columnsOf(TUKEY, rows.tukey);
  const welch = columnsOf(WELCH, rows.welch);
  const bootstrap = columnsOf(BOOTSTRAP, rows.bootstrap);
  const improvement = columnsOf(IMPROVEMENT, rows.improvement);
  const summary = columnsOf(SUMMARY, rows.summary);
  // Training time is a measurement (it varies run to run), so its test goes into measurements too:
  // reported, never part of a hash.
  const timing: Record<string, number> = {};
  for (const arch of distinct(runs.map((r) => r.arch)).sort()) {
    const variants = distinct(runs.filter((r) => r.arch === arch).map((r) => r.variant)).sort();
    const groups = variants.map((v) =>
      runs
        .filter((r) => r.arch === arch && r.variant === v)
        .map((r) => r.input.measurements.train_seconds ?? Number.NaN),
    );
    try {
      const a = oneWayAnova(groups);
      timing[`train_seconds_anova_f_${arch}`] = a.f;
      timing[`train_seconds_anova_p_${arch}`] = a.p;
    } catch (e) {
      if (!(e instanceof StatsInputError)) throw e;
    }
  }
  const significant = anova.significant.filter((x) => x === true).length;
  ctx.log(
    `${anova.arch.length} ANOVAs, ${significant} significant at alpha ${ctx.params.alpha}; ${tukey.a.length} Tukey pairs`,
  );
  return {
    tables: { anova, tukey, summary, welch, bootstrap, improvement },
    metrics: {
      anovas: anova.arch.length,
      significant_anovas: significant,
      tukey_pairs_rejected: tukey.reject.filter(Boolean).length,
      welch_anovas_significant: welch.significant.filter((x) => x === true).length,
    },
    measurements: timing,
  };
});

/** The rows each table gets from one architecture and metric; `groups` holds each variant's values in seed order. */
function compareOptimizers(arch: string, metric: string, variants: string[], groups: number[][], params: Params) {
  const confidence = 1 - params.alpha;
  const summary = groups.map((g, i) => ({
    arch,
    variant: variants[i]!,
    metric,
    n: g.length,
    mean: mean(g),
    std: std(g),
  }));
  const bootstrap = groups.map((g, i) => {
    const interval = testable(() =>
      bootstrapMeanInterval(g, { seed: params.bootstrap_seed, resamples: params.bootstrap_resamples, confidence }),
    );
    // A value the resampling cannot average (an infinite perplexity) leaves the interval empty; the
    // summary still shows the mean, and the F tests say why they could not run.
    if (interval instanceof StatsInputError)
      return { arch, variant: variants[i]!, metric, mean: mean(g), low: null, high: null, confidence, resamples: 0 };
    const { low, high, resamples } = interval;
    return { arch, variant: variants[i]!, metric, mean: interval.mean, low, high, confidence, resamples };
  });
  // Both orders of every pair, so a reader finds P(X > Y) for the pair in the order asked.
  const improvement = variants.flatMap((x, i) =>
    variants.flatMap((y, j) => {
      if (i === j) return [];
      const { u, probability } = probabilityOfImprovement(groups[i]!, groups[j]!);
      return [{ arch, metric, x, y, u, probability }];
    }),
  );
  // Name the optimizer rather than the group index the library knows.
  const welchTest = testable(() => welchAnova(groups));
  const welch = {
    arch,
    metric,
    ...testColumns(welchTest, params.alpha, (m) =>
      m.replace(/group (\d+)/, (_, g: string) => `${variants[Number(g)]!}`),
    ),
  };
  // One verdict for both: a Tukey test that cannot run leaves the ANOVA row not testable too.
  const tests = testable(() => ({ a: oneWayAnova(groups), t: tukeyHsd(groups, { confidence }) }));
  const anova = {
    arch,
    metric,
    groups: variants.length,
    ...testColumns(tests instanceof StatsInputError ? tests : tests.a, params.alpha),
  };
  const tukey =
    tests instanceof StatsInputError
      ? []
      : tests.t.pairs.map((pair) => ({
          arch,
          metric,
          a: variants[pair.i]!,
          b: variants[pair.j]!,
          mean_diff: pair.meanDiff,
          p: pair.p,
          low: pair.low,
          high: pair.high,
          reject: pair.reject,
        }));
  return { summary, bootstrap, improvement, welch, anova, tukey };
}

/** The test's result, or the reason the data cannot support it; any other error is a bug and thrown. */
function testable<T>(test: () => T): T | StatsInputError {
  try {
    return test();
  } catch (e) {
    if (!(e instanceof StatsInputError)) throw e;
    return e;
  }
}

/** The columns an F test fills, as ANOVA and Welch's ANOVA share them: the statistic, or nulls and why. */
function testColumns(
  result: AnovaResult | WelchAnovaResult | StatsInputError,
  alpha: number,
  explain: (message: string) => string = (m) => m,
) {
  return result instanceof StatsInputError
    ? {
        f: null,
        p: null,
        df_between: null,
        df_within: null,
        significant: null,
        note: `not testable: ${explain(result.message)}`,
      }
    : {
        f: result.f,
        p: result.p,
        df_between: result.dfBetween,
        df_within: result.dfWithin,
        significant: result.p < alpha,
        note: '',
      };
}
