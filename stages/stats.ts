import {
  bootstrapMeanInterval,
  oneWayAnova,
  probabilityOfImprovement,
  StatsInputError,
  tukeyHsd,
  welchAnova,
} from '../src/stats/index.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { distinct, mean, runsOf, std } from '../src/study/group-runs.ts';

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

/**
 * Per architecture and metric: one-way ANOVA across optimizer variants over seeds, then Tukey
 * HSD for every pair, with a verdict at `alpha`; beside them the tests that fit five seeds and
 * unequal spreads: Welch's ANOVA (no shared variance assumed), a percentile-bootstrap interval
 * of each optimizer's mean, and for every ordered pair the probability of improvement
 * P(X > Y) = U / (n m) from the Mann-Whitney U. A comparison the data cannot support (every
 * seed gave the same value, say) becomes a row saying why, not a failed stage.
 */
export default defineStage<Params>(async (ctx) => {
  const runs = runsOf(ctx.inputs, 'evaluate');
  const anova = {
    arch: [] as string[],
    metric: [] as string[],
    groups: [] as number[],
    f: [] as (number | null)[],
    p: [] as (number | null)[],
    df_between: [] as (number | null)[],
    df_within: [] as (number | null)[],
    significant: [] as (boolean | null)[],
    note: [] as string[],
  };
  const tukey = {
    arch: [] as string[],
    metric: [] as string[],
    a: [] as string[],
    b: [] as string[],
    mean_diff: [] as number[],
    p: [] as number[],
    low: [] as number[],
    high: [] as number[],
    reject: [] as boolean[],
  };
  const welch = {
    arch: [] as string[],
    metric: [] as string[],
    f: [] as (number | null)[],
    p: [] as (number | null)[],
    df_between: [] as (number | null)[],
    df_within: [] as (number | null)[],
    significant: [] as (boolean | null)[],
    note: [] as string[],
  };
  const bootstrap = {
    arch: [] as string[],
    variant: [] as string[],
    metric: [] as string[],
    mean: [] as number[],
    low: [] as number[],
    high: [] as number[],
    confidence: [] as number[],
    resamples: [] as number[],
  };
  // Both orders of every pair, so a reader finds P(X > Y) for the pair in the order asked.
  const improvement = {
    arch: [] as string[],
    metric: [] as string[],
    x: [] as string[],
    y: [] as string[],
    u: [] as number[],
    probability: [] as number[],
  };
  const summary = {
    arch: [] as string[],
    variant: [] as string[],
    metric: [] as string[],
    n: [] as number[],
    mean: [] as number[],
    std: [] as number[],
  };
  for (const arch of distinct(runs.map((r) => r.arch)).sort()) {
    const variants = distinct(runs.filter((r) => r.arch === arch).map((r) => r.variant)).sort();
    for (const metric of ctx.params.metrics) {
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
      variants.forEach((v, i) => {
        summary.arch.push(arch);
        summary.variant.push(v);
        summary.metric.push(metric);
        summary.n.push(groups[i]!.length);
        summary.mean.push(mean(groups[i]!));
        summary.std.push(std(groups[i]!));
        const interval = bootstrapMeanInterval(groups[i]!, {
          seed: ctx.params.bootstrap_seed,
          resamples: ctx.params.bootstrap_resamples,
          confidence: 1 - ctx.params.alpha,
        });
        bootstrap.arch.push(arch);
        bootstrap.variant.push(v);
        bootstrap.metric.push(metric);
        bootstrap.mean.push(interval.mean);
        bootstrap.low.push(interval.low);
        bootstrap.high.push(interval.high);
        bootstrap.confidence.push(1 - ctx.params.alpha);
        bootstrap.resamples.push(interval.resamples);
      });
      variants.forEach((x, i) =>
        variants.forEach((y, j) => {
          if (i === j) return;
          const r = probabilityOfImprovement(groups[i]!, groups[j]!);
          improvement.arch.push(arch);
          improvement.metric.push(metric);
          improvement.x.push(x);
          improvement.y.push(y);
          improvement.u.push(r.u);
          improvement.probability.push(r.probability);
        }),
      );
      welch.arch.push(arch);
      welch.metric.push(metric);
      try {
        const w = welchAnova(groups);
        welch.f.push(w.f);
        welch.p.push(w.p);
        welch.df_between.push(w.dfBetween);
        welch.df_within.push(w.dfWithin);
        welch.significant.push(w.p < ctx.params.alpha);
        welch.note.push('');
      } catch (e) {
        if (!(e instanceof StatsInputError)) throw e;
        welch.f.push(null);
        welch.p.push(null);
        welch.df_between.push(null);
        welch.df_within.push(null);
        welch.significant.push(null);
        // Name the optimizer rather than the group index the library knows.
        welch.note.push(
          `not testable: ${e.message.replace(/group (\d+)/, (_, g: string) => `${variants[Number(g)]!}`)}`,
        );
      }
      anova.arch.push(arch);
      anova.metric.push(metric);
      anova.groups.push(variants.length);
      let a: ReturnType<typeof oneWayAnova>;
      let t: ReturnType<typeof tukeyHsd>;
      // Both tests first, then the rows: a Tukey test that cannot run must not leave the ANOVA
      // row half written.
      try {
        a = oneWayAnova(groups);
        t = tukeyHsd(groups, { confidence: 1 - ctx.params.alpha });
      } catch (e) {
        if (!(e instanceof StatsInputError)) throw e;
        anova.f.push(null);
        anova.p.push(null);
        anova.df_between.push(null);
        anova.df_within.push(null);
        anova.significant.push(null);
        anova.note.push(`not testable: ${e.message}`);
        continue;
      }
      anova.f.push(a.f);
      anova.p.push(a.p);
      anova.df_between.push(a.dfBetween);
      anova.df_within.push(a.dfWithin);
      anova.significant.push(a.p < ctx.params.alpha);
      anova.note.push('');
      for (const pair of t.pairs) {
        tukey.arch.push(arch);
        tukey.metric.push(metric);
        tukey.a.push(variants[pair.i]!);
        tukey.b.push(variants[pair.j]!);
        tukey.mean_diff.push(pair.meanDiff);
        tukey.p.push(pair.p);
        tukey.low.push(pair.low);
        tukey.high.push(pair.high);
        tukey.reject.push(pair.reject);
      }
    }
  }
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
