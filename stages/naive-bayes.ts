import { classificationMetrics } from '../src/ml/classification-metrics.ts';
import { NaiveBayes } from '../src/ml/naive-bayes.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  alpha: number;
}

const words = (text: string): string[] => text.split(' ').filter((w) => w.length > 0);

/** Fits the naive Bayes baseline on the training split; scores validation and test, and test accuracy per group. */
export default defineStage<Params>(async (ctx) => {
  const [data] = ctx.inputs;
  if (data === undefined || ctx.inputs.length !== 1)
    throw new Error('naive-bayes needs exactly one preprocess stage as its input');
  const train = await data.table('train');
  const model = new NaiveBayes(ctx.params.alpha).fit((train.text as string[]).map(words), train.label as string[]);
  const metrics: Record<string, number> = {};
  let testPredicted: string[] = [];
  for (const split of ['validation', 'test'] as const) {
    const t = await data.table(split);
    const predicted = (t.text as string[]).map((x) => model.predict(words(x)));
    const m = classificationMetrics(t.label as string[], predicted);
    metrics[`${split}_accuracy`] = m.accuracy;
    metrics[`${split}_macro_f1`] = m.macroF1;
    if (split === 'test') testPredicted = predicted;
  }
  const test = await data.table('test');
  const groups = [...new Set(test.group as string[])].sort();
  for (const g of groups) {
    const idx = (test.group as string[]).flatMap((x, i) => (x === g ? [i] : []));
    metrics[`test_accuracy_${g}`] = idx.filter((i) => testPredicted[i] === test.label![i]).length / idx.length;
  }
  return {
    tables: {
      test_predictions: {
        text: test.text as string[],
        label: test.label as string[],
        group: test.group as string[],
        predicted: testPredicted,
      },
    },
    metrics,
  };
});
