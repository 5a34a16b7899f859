import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { defineStage } from '../src/stage-api.ts';

/** Collects every baseline run into one table, with mean and standard deviation over seeds per alpha. */
export default defineStage(async (ctx) => {
  const rows = ctx.inputs.map((input) => ({
    stage: input.name,
    seed: Number(input.item?.seed),
    alpha: Number(input.params.alpha),
    test_accuracy: input.metrics.test_accuracy ?? Number.NaN,
    test_macro_f1: input.metrics.test_macro_f1 ?? Number.NaN,
  }));
  const runs = aq.from(rows).orderby('alpha', 'seed');
  const byAlpha = runs
    .groupby('alpha')
    .rollup({
      seeds: aq.op.count(),
      accuracy_mean: aq.op.mean('test_accuracy'),
      accuracy_std: aq.op.stdev('test_accuracy'),
      macro_f1_mean: aq.op.mean('test_macro_f1'),
      macro_f1_std: aq.op.stdev('test_macro_f1'),
    })
    .orderby('alpha');
  const columns = (t: aq.ColumnTable) => Object.fromEntries(t.columnNames().map((c) => [c, t.array(c) as unknown[]]));
  const summary = byAlpha.objects() as Array<Record<string, number>>;
  const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(1));
  const lines = [
    '# Naive Bayes baseline',
    '',
    '| alpha | seeds | test accuracy % (mean ± std) | test macro F1 (mean ± std) |',
    '| --- | --- | --- | --- |',
    ...summary.map((r) => `| ${r.alpha} | ${r.seeds} | ${pct(r.accuracy_mean)} ± ${pct(r.accuracy_std)} | ${r.macro_f1_mean?.toFixed(3)} ± ${r.macro_f1_std?.toFixed(3)} |`),
    '',
  ];
  await writeFile(join(ctx.root, ctx.outs[0]!), lines.join('\n'));
  const metrics: Record<string, number> = {};
  for (const r of summary) metrics[`alpha_${r.alpha}_accuracy_mean`] = r.accuracy_mean!;
  return { tables: { runs: columns(runs) as never, by_alpha: columns(byAlpha) as never }, metrics };
});
