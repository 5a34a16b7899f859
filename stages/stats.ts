import { oneWayAnova, StatsInputError, tukeyHsd } from '../src/stats/index.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { distinct, mean, runsOf, std } from '../src/study/group-runs.ts';

interface Params extends JsonObject {
  /** Significance level for ANOVA and for Tukey's verdicts (confidence = 1 - alpha). */
  alpha: number;
  /** Evaluate metrics to test, e.g. test_accuracy, test_macro_f1, test_perplexity. */
  metrics: string[];
}

/**
 * Per architecture and metric: one-way ANOVA across optimizer variants over seeds, then Tukey
 * HSD for every pair, with a verdict at `alpha`. A comparison the data cannot support (every
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
      });
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
    tables: { anova, tukey, summary },
    metrics: {
      anovas: anova.arch.length,
      significant_anovas: significant,
      tukey_pairs_rejected: tukey.reject.filter(Boolean).length,
    },
    measurements: timing,
  };
});
