import { saveWeights } from '../src/ml/weights.ts';
import { pretrainLM } from '../src/ml/train.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { studyBackend } from '../src/study/backend.ts';
import { buildModel, type ModelParams } from '../src/study/model-params.ts';
import { optimizerConfig, type OptimizerParams } from '../src/study/optimizer-params.ts';
import { inputOf, readTokenizedSplit } from '../src/study/tokenized.ts';

interface Params extends JsonObject {
  model: ModelParams;
  epochs: number;
  batch_size: number;
  optimizer: OptimizerParams;
  seed: number;
}

/**
 * Stands in for downloading pre-trained weights (impossible offline): the model learns the
 * language of the training texts with the causal LM objective, once, and every fine-tune starts
 * from these weights.
 */
export default defineStage<Params>(async (ctx) => {
  const backend = await studyBackend((k, v) => ctx.provenance(k, v));
  const tokenize = inputOf(ctx.inputs, 'tokenize');
  const labelNames = (await tokenize.json('labels')) as string[];
  const special = (await tokenize.json('special')) as { pad: number };
  const train = await readTokenizedSplit(tokenize, 'train', labelNames);
  const validation = await readTokenizedSplit(tokenize, 'validation', labelNames);
  const vocabSize = tokenize.metrics.vocab_size!;
  const model = buildModel(ctx.params.model, vocabSize, labelNames.length, ctx.params.seed);
  const curve = await pretrainLM(model, train.ids, validation.ids, {
    batchSize: ctx.params.batch_size,
    epochs: ctx.params.epochs,
    optimizer: optimizerConfig(ctx.params.optimizer),
    seed: ctx.params.seed,
    padId: special.pad,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress({ done: p.step, total: p.totalSteps, note: `epoch ${p.epoch} ${p.phase} loss ${p.loss.toFixed(3)}` }),
  });
  const weights = saveWeights(model.variables);
  const parameters = [...model.variables.values()].reduce((n, v) => n + v.size, 0);
  model.dispose();
  const last = curve.epochs.at(-1)!;
  ctx.log(`backend ${backend.name}; validation perplexity ${last.validation.perplexity.toFixed(2)} after ${curve.steps} steps`);
  return {
    blobs: { weights },
    json: { config: { ...ctx.params.model, vocab_size: vocabSize, num_classes: labelNames.length } },
    tables: {
      loss_curve: { step: curve.lossCurve.map((_, i) => i + 1), loss: curve.lossCurve },
      epochs: { epoch: curve.epochs.map((e) => e.epoch), train_loss: curve.epochs.map((e) => e.trainLoss), validation_perplexity: curve.epochs.map((e) => e.validation.perplexity) },
    },
    metrics: { validation_perplexity: last.validation.perplexity, steps: curve.steps, parameters },
    measurements: { train_seconds: curve.trainSeconds, seconds: curve.seconds },
  };
});
