import path from 'node:path';
import { checkpointSpec, loadCheckpointWeights, readHfCheckpoint } from '../src/ml/checkpoint/hf-checkpoint.ts';
import { evaluatePerplexity } from '../src/ml/evaluate.ts';
import { type ModelSpec, instantiate } from '../src/ml/models/model-spec.ts';
import { pretrainLM } from '../src/ml/train.ts';
import { saveWeights } from '../src/ml/weights.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';
import { studyBackend } from '../src/study/backend.ts';
import { familyOf, type ModelParams, specFromParams } from '../src/study/model-params.ts';
import { optimizerConfig, type OptimizerParams } from '../src/study/optimizer-params.ts';
import { inputOf, readTokenized } from '../src/study/study-inputs.ts';

interface Params extends JsonObject {
  /** Architecture and sizes; with a checkpoint only `architecture` is read (the sizes are the checkpoint's). */
  model: ModelParams;
  /**
   * A Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer.json) to start
   * from; it must be a dependency of the stage and the tokenizer's checkpoint too. Null: start
   * from a random initialisation.
   */
  checkpoint: string | null;
  /** Pre-training epochs on the training texts; 0 with a checkpoint uses its weights as they are. */
  epochs: number;
  batch_size: number;
  optimizer: OptimizerParams;
  seed: number;
  /** tfjs backend: `auto`, or one by name, which pins it (src/study/backend.ts). Absent: auto. */
  backend: string;
}

/**
 * The pre-trained model every fine-tune starts from: a Hugging Face checkpoint, and/or the
 * family's own pre-training objective on the training texts (next-token prediction for GPT,
 * masked language modelling for BERT, span corruption for T5). Offline, with no checkpoint, the
 * objective stands in for downloading pre-trained weights.
 */
export default defineStage<Params>(async (ctx) => {
  const backend = await studyBackend((k, v) => ctx.provenance(k, v), ctx.params.backend);
  const { checkpoint, epochs } = ctx.params;
  const family = familyOf(ctx.params.model.architecture);
  const tokenized = await readTokenized(inputOf(ctx.inputs, 'tokenize'), family);
  if ((checkpoint ?? null) !== tokenized.checkpoint) {
    throw new Error(
      `checkpoint ${JSON.stringify(checkpoint)} differs from the tokenizer's ${JSON.stringify(tokenized.checkpoint)}: the ids would not match the embeddings`,
    );
  }
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${epochs}`);
  const numClasses = tokenized.labelNames.length;
  const maxTarget = Math.max(tokenized.contextLength, ...tokenized.labelTargets.map((t) => t.length));
  const ckpt = checkpoint ? readHfCheckpoint(path.resolve(ctx.root, checkpoint)) : undefined;
  const spec: ModelSpec = ckpt
    ? checkpointSpec(ckpt, numClasses, maxTarget)
    : specFromParams(ctx.params.model, tokenized.vocabSize, numClasses);
  if (spec.family !== family)
    throw new Error(
      `checkpoint ${checkpoint} holds a ${spec.family} model but the stage declares architecture ${ctx.params.model.architecture}`,
    );
  if (spec.config.contextLength < tokenized.contextLength) {
    throw new Error(
      `the model reads at most ${spec.config.contextLength} tokens but tokenize's context_length is ${tokenized.contextLength}`,
    );
  }
  if (spec.config.vocabSize < tokenized.vocabSize)
    throw new Error(
      `the model's vocabulary (${spec.config.vocabSize}) is smaller than the tokenizer's (${tokenized.vocabSize})`,
    );
  const model = instantiate(spec, tokenized, ctx.params.seed);
  try {
    if (ckpt) loadCheckpointWeights(model, ckpt);
    const train = await tokenized.split('train');
    const validation = await tokenized.split('validation');
    const padId = tokenized.special.pad;
    const outputs = {
      tables: {} as Record<string, Record<string, number[]>>,
      metrics: {} as Record<string, number>,
      measurements: {} as Record<string, number>,
    };
    let perplexity: number;
    if (epochs > 0) {
      const curve = await pretrainLM(model, train.ids, validation.ids, {
        batchSize: ctx.params.batch_size,
        epochs,
        optimizer: optimizerConfig(ctx.params.optimizer),
        seed: ctx.params.seed,
        padId,
        signal: ctx.signal,
        onProgress: (p) =>
          ctx.progress({
            done: p.step,
            total: p.totalSteps,
            note: `epoch ${p.epoch} ${p.phase} loss ${p.loss.toFixed(3)}`,
            values: p.phase === 'train' ? { loss: p.loss } : { validation_loss: p.loss },
          }),
      });
      outputs.tables.loss_curve = { step: curve.lossCurve.map((_, i) => i + 1), loss: curve.lossCurve };
      outputs.tables.epochs = {
        epoch: curve.epochs.map((e) => e.epoch),
        train_loss: curve.epochs.map((e) => e.trainLoss),
        validation_perplexity: curve.epochs.map((e) => e.validation.perplexity),
      };
      outputs.metrics.steps = curve.steps;
      outputs.measurements = { train_seconds: curve.trainSeconds, seconds: curve.seconds };
      perplexity = curve.epochs.at(-1)!.validation.perplexity;
    } else {
      perplexity = (await evaluatePerplexity(model, validation.ids, { batchSize: ctx.params.batch_size, padId }))
        .perplexity;
    }
    const parameters = [...model.variables.values()].reduce((n, v) => n + v.size, 0);
    ctx.log(
      `${spec.family} on ${backend.name}: validation perplexity ${perplexity.toFixed(2)}${checkpoint ? ` (from ${checkpoint})` : ''}`,
    );
    return {
      blobs: { weights: await saveWeights(model.variables) },
      json: { spec: spec as unknown as JsonObject },
      tables: outputs.tables,
      metrics: { ...outputs.metrics, validation_perplexity: perplexity, parameters },
      measurements: outputs.measurements,
    };
  } finally {
    model.dispose();
  }
});
