import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineStage } from '../src/stage-api.ts';

const variance = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
};

/** One row per baseline run: data variant, alpha, test accuracy and macro F1, and the spread of accuracy across groups. */
export default defineStage(async (ctx) => {
  const rows = ctx.inputs.map((input) => {
    const perGroup = Object.entries(input.metrics).filter(([k]) => k.startsWith('test_accuracy_'));
    const accs = perGroup.map(([, v]) => v);
    return {
      stage: input.name,
      data: String(input.item?.data ?? ''),
      alpha: Number(input.params.alpha),
      test_accuracy: input.metrics.test_accuracy ?? Number.NaN,
      test_macro_f1: input.metrics.test_macro_f1 ?? Number.NaN,
      group_accuracy_variance: accs.length > 0 ? variance(accs) : Number.NaN,
      group_accuracy_gap: accs.length > 0 ? Math.max(...accs) - Math.min(...accs) : Number.NaN,
    };
  });
  rows.sort((a, b) => a.data.localeCompare(b.data) || a.alpha - b.alpha);
  const pct = (x: number) => (100 * x).toFixed(1);
  const lines = [
    '# Naive Bayes baseline (SpamAssassin, test split)',
    '',
    '| training data | alpha | accuracy % | macro F1 | variance of per-group accuracy | max-min gap |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.data} | ${r.alpha} | ${pct(r.test_accuracy)} | ${r.test_macro_f1.toFixed(3)} | ${r.group_accuracy_variance.toExponential(2)} | ${pct(r.group_accuracy_gap)} |`,
    ),
    '',
  ];
  await writeFile(join(ctx.root, ctx.outs[0]!), lines.join('\n'));
  const columns = Object.fromEntries(
    Object.keys(rows[0] ?? {}).map((k) => [k, rows.map((r) => r[k as keyof typeof r])]),
  );
  return { tables: { runs: columns as never } };
});
