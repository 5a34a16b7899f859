import { classificationMetrics } from '../src/ml/classification-metrics.ts';
import { NaiveBayes } from '../src/ml/naive-bayes.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  alpha: number;
}

const words = (text: string): string[] => text.split(' ').filter((w) => w.length > 0);

/** Fits the naive Bayes baseline on the training split and scores it on validation and test. */
export default defineStage<Params>(async (ctx) => {
  const [data] = ctx.inputs;
  if (data === undefined || ctx.inputs.length !== 1) throw new Error('naive-bayes needs exactly one preprocess stage as its input');
  const train = await data.table('train');
  const model = new NaiveBayes(ctx.params.alpha).fit((train.text as string[]).map(words), train.label as string[]);
  const metrics: Record<string, number> = {};
  const predictions: Record<string, string[]> = {};
  for (const split of ['validation', 'test'] as const) {
    const t = await data.table(split);
    const predicted = (t.text as string[]).map((x) => model.predict(words(x)));
    const m = classificationMetrics(t.label as string[], predicted);
    metrics[`${split}_accuracy`] = m.accuracy;
    metrics[`${split}_macro_f1`] = m.macroF1;
    predictions[split] = predicted;
  }
  const test = await data.table('test');
  return {
    tables: { test_predictions: { text: test.text as string[], label: test.label as string[], group: test.group as string[], predicted: predictions.test! } },
    metrics,
  };
});
