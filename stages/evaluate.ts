import { NO_LABEL, evaluateClassifier, evaluatePerplexity } from '../src/ml/evaluate.ts';
import { instantiate, type ModelSpec } from '../src/ml/models/model-spec.ts';
import { loadWeights } from '../src/ml/weights.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { studyBackend } from '../src/study/backend.ts';
import { inputOf, readTokenized } from '../src/study/study-inputs.ts';

interface Params extends JsonObject {
  /** The class whose F1 is the binary F1 (spam, for the spam filter). */
  positive_label: string;
  /** Convergence speed: the first step whose epoch-end validation loss is at or below this. */
  validation_loss_threshold: number;
  batch_size: number;
  /** tfjs backend: `auto`, or one by name, which pins it (src/study/backend.ts). Absent: auto. */
  backend: string;
}

/** Scores one fine-tuned model on the test split: accuracy, F1, perplexity, per-group accuracy, convergence. */
export default defineStage<Params>(async (ctx) => {
  await studyBackend((k, v) => ctx.provenance(k, v), ctx.params.backend);
  const finetune = inputOf(ctx.inputs, 'finetune');
  const pretrain = inputOf(ctx.inputs, 'pretrain');
  const spec = (await pretrain.json('spec')) as unknown as ModelSpec;
  const tokenized = await readTokenized(inputOf(ctx.inputs, 'tokenize'), spec.family);
  const { labelNames } = tokenized;
  if (!labelNames.includes(ctx.params.positive_label))
    throw new Error(`positive_label "${ctx.params.positive_label}" is not a label (${labelNames.join(', ')})`);
  if (finetune.metrics.diverged === 1) {
    // Nothing was trained to the end, so there is no model to score: the run stays in the study
    // as diverged (counted and listed by the report, left out of means and tests).
    ctx.log(`${finetune.name} diverged at step ${String(finetune.metrics.diverged_step)}: nothing to evaluate`);
    return { metrics: { diverged: 1, diverged_step: finetune.metrics.diverged_step ?? -1 } };
  }
  const test = await tokenized.split('test');
  const model = instantiate(spec, tokenized, 0);
  let scored;
  let perplexity;
  try {
    loadWeights(model.variables, await finetune.blob('weights'));
    const options = { batchSize: ctx.params.batch_size, padId: tokenized.special.pad, labelNames };
    scored = await evaluateClassifier(model, { ids: test.ids, labels: test.labels }, options);
    perplexity = await evaluatePerplexity(model, test.ids, options);
  } finally {
    model.dispose();
  }
  const truth = test.labels.map((l) => labelNames[l]!);
  const predicted = scored.predictions.map((l) => (l < 0 ? NO_LABEL : labelNames[l]!));
  const metrics: Record<string, number> = {
    diverged: 0,
    test_accuracy: scored.accuracy,
    test_macro_f1: scored.macroF1,
    test_binary_f1: scored.classF1[ctx.params.positive_label]!,
    test_perplexity: perplexity.perplexity,
    test_loss: scored.loss,
    // T5 generates its answer: how often the text was no label at all (always 0 for a head).
    test_no_label_rate: scored.predictions.filter((l) => l < 0).length / scored.predictions.length,
  };
  for (const group of [...new Set(test.groups)].sort()) {
    const rows = test.groups.flatMap((g, i) => (g === group ? [i] : []));
    metrics[`test_accuracy_${group}`] = rows.filter((i) => truth[i] === predicted[i]).length / rows.length;
  }
  const epochs = await finetune.table('epochs');
  const reached = (epochs.validation_loss as number[]).findIndex((l) => l <= ctx.params.validation_loss_threshold);
  // -1 when the threshold was never reached: a number, so the column stays numeric for SQL.
  metrics.steps_to_threshold = reached < 0 ? -1 : (epochs.step as number[])[reached]!;
  return {
    tables: { predictions: { label: truth, predicted, group: test.groups } },
    metrics,
    measurements: { train_seconds: finetune.measurements.train_seconds ?? Number.NaN },
  };
});
