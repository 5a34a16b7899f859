import { parseParamSubset } from '../src/ml/models/language-model.ts';
import { instantiate, type ModelSpec } from '../src/ml/models/model-spec.ts';
import { TrainingDiverged, trainClassifier } from '../src/ml/train.ts';
import { loadWeights, saveWeights } from '../src/ml/weights.ts';
import { defineStage, type JsonObject, type StageOutputs } from '../src/stage-api.ts';
import { studyBackend } from '../src/study/backend.ts';
import { optimizerConfig, type OptimizerParams } from '../src/study/optimizer-params.ts';
import { inputOf, readTokenized } from '../src/study/study-inputs.ts';

interface Params extends JsonObject {
  /** The matrix's name for this optimizer variant (`proposed-no-lr`, ...), for tables. */
  variant: string;
  optimizer: OptimizerParams;
  epochs: number;
  batch_size: number;
  /** Which parameters train: all, head, or last-N (the final N blocks and the head). */
  trainable: string;
  seed: number;
  /** tfjs backend: `auto`, or one by name, which pins it (src/study/backend.ts). Absent: auto. */
  backend: string;
}

/** Fine-tunes the pre-trained model as a classifier with one optimizer and one seed. */
export default defineStage<Params>(async (ctx): Promise<StageOutputs> => {
  const backend = await studyBackend((k, v) => ctx.provenance(k, v), ctx.params.backend);
  const pretrain = inputOf(ctx.inputs, 'pretrain');
  const spec = (await pretrain.json('spec')) as unknown as ModelSpec;
  const tokenized = await readTokenized(inputOf(ctx.inputs, 'tokenize'), spec.family);
  const { labelNames } = tokenized;
  const train = await tokenized.split('train');
  const validation = await tokenized.split('validation');
  // Initialisation is overwritten by the pre-trained weights except for a classification head
  // (GPT, BERT), which the seed draws; T5 answers in text and has none.
  const model = instantiate(spec, tokenized, ctx.params.seed);
  loadWeights(model.variables, await pretrain.blob('weights'), { skip: (name) => name.startsWith('cls/') });
  const optimizer = optimizerConfig(ctx.params.optimizer);
  let curve;
  try {
    curve = await trainClassifier(
      model,
      { ids: train.ids, labels: train.labels },
      { ids: validation.ids, labels: validation.labels },
      {
        batchSize: ctx.params.batch_size,
        epochs: ctx.params.epochs,
        optimizer,
        seed: ctx.params.seed,
        subset: parseParamSubset(ctx.params.trainable),
        padId: tokenized.special.pad,
        labelNames,
        signal: ctx.signal,
        onProgress: (p) => {
          const tokensPerSecond =
            p.elapsedSeconds > 0
              ? Math.round((p.step * ctx.params.batch_size * tokenized.contextLength) / p.elapsedSeconds)
              : 0;
          ctx.progress({
            done: p.step,
            total: p.totalSteps,
            note: `epoch ${p.epoch} ${p.phase} loss ${p.loss.toFixed(3)} ~${tokensPerSecond} tok/s`,
            // `pipeline ui` draws these as the training and validation curves while the stage runs.
            values: p.phase === 'train' ? { loss: p.loss } : { validation_loss: p.loss },
          });
        },
      },
    );
  } catch (e) {
    // A divergence is what this optimizer did at the selected learning rate on this seed: a
    // result to report (there is no model to evaluate), not a failure that stops the study.
    if (e instanceof TrainingDiverged) {
      model.dispose();
      ctx.log(`${ctx.params.variant} (seed ${ctx.params.seed}): ${e.message}; recorded as diverged`);
      return { metrics: { diverged: 1, diverged_step: e.step } };
    }
    throw new Error(`${ctx.params.variant} (seed ${ctx.params.seed}): ${(e as Error).message}`);
  }
  const weights = await saveWeights(model.variables);
  model.dispose();
  const last = curve.epochs.at(-1)!;
  const tokens = train.ids.reduce((n, x) => n + x.length, 0) * ctx.params.epochs;
  ctx.log(`${backend.name}: validation accuracy ${last.validation.accuracy.toFixed(3)} after ${curve.steps} steps`);
  return {
    blobs: { weights },
    tables: {
      loss_curve: {
        step: curve.lossCurve.map((_, i) => i + 1),
        loss: curve.lossCurve,
        learning_rate: curve.learningRates,
      },
      epochs: {
        epoch: curve.epochs.map((e) => e.epoch),
        step: curve.epochs.map((e) => Math.round((e.epoch * curve.steps) / curve.epochs.length)),
        train_loss: curve.epochs.map((e) => e.trainLoss),
        validation_loss: curve.epochs.map((e) => e.validation.loss),
        validation_accuracy: curve.epochs.map((e) => e.validation.accuracy),
        validation_macro_f1: curve.epochs.map((e) => e.validation.macroF1),
      },
    },
    metrics: {
      diverged: 0,
      validation_accuracy: last.validation.accuracy,
      validation_macro_f1: last.validation.macroF1,
      validation_loss: last.validation.loss,
      steps: curve.steps,
      // Per epoch too, so the long-format metrics table holds the whole validation curve.
      ...Object.fromEntries(
        curve.epochs.flatMap((e) => [
          [`epoch_${e.epoch}_train_loss`, e.trainLoss],
          [`epoch_${e.epoch}_validation_loss`, e.validation.loss],
          [`epoch_${e.epoch}_validation_accuracy`, e.validation.accuracy],
        ]),
      ),
    },
    measurements: {
      train_seconds: curve.trainSeconds,
      seconds: curve.seconds,
      tokens_per_second: tokens / curve.trainSeconds,
    },
  };
});
