import * as tf from '@tensorflow/tfjs-core';
import { batchTensors, chunk, lmWindows, padBatch } from './batches.ts';
import { inputTensor } from './host-inputs.ts';
import {
  type ClassifierEvaluation,
  type LabelledSequences,
  type PerplexityEvaluation,
  evaluateClassifier,
  evaluatePerplexity,
} from './evaluate.ts';
import type { LanguageModel, ParamSubset } from './models/language-model.ts';
import type { OptimizerConfig } from './optimizers/config.ts';
import { makeOptimizer } from './optimizers/make-optimizer.ts';
import { restoreOptimizerState, saveOptimizerState } from './optimizers/optimizer-state.ts';
import { Rng } from './rng.ts';

/**
 * A non-finite training loss. Its own class so that a caller for whom divergence is a result
 * (a hyperparameter search trial) can record it, while every other failure still fails the stage.
 */
export class TrainingDiverged extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`training diverged: loss ${loss} at step ${step}`);
  }
}

/**
 * A slice [fromStep, toStep) of a longer run: a successive-halving rung trains its survivors in
 * pieces, and each piece must continue the uninterrupted run exactly (same schedule position,
 * same batches in the same order, same dropout draws, same optimizer state).
 */
export interface StepRange {
  /** Updates already done (0: a fresh start). Non-zero needs `optimizerState`. */
  fromStep: number;
  /** Updates done when this call returns; may end mid-epoch. */
  toStep: number;
  /** The whole run's length in updates, over which the learning-rate schedule is laid. */
  totalSteps: number;
  /** The optimizer state saved by the call that ended at `fromStep` (`TrainingCurve.optimizerState`). */
  optimizerState?: Uint8Array;
  /** Return the optimizer state at `toStep`, so that a later call can continue from it. */
  saveOptimizerState?: boolean;
}

export interface TrainProgress {
  phase: 'train' | 'validate';
  epoch: number;
  /** Updates done so far, over all epochs. */
  step: number;
  totalSteps: number;
  /** Training loss of this step, or validation loss. */
  loss: number;
  learningRate?: number;
  elapsedSeconds: number;
}

export interface TrainOptions {
  batchSize: number;
  epochs: number;
  optimizer: OptimizerConfig;
  /** Drives shuffling and dropout (initialisation is the model's own seed). */
  seed: number;
  /** Parameters to update; the rest stay frozen. Default `all`. */
  subset?: ParamSubset;
  /** Id written into padding positions. */
  padId: number;
  /**
   * The caller padded the sequences with `padId` already; trailing `padId` tokens are then
   * padding. By default sequences are taken as they are and padded here.
   */
  prePadded?: boolean;
  /** Batch size for validation; defaults to `batchSize`. */
  evalBatchSize?: number;
  labelNames?: readonly string[];
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /**
   * Train only part of a run of `epochs` (see StepRange); `epochs` then only bounds the range.
   * Validation runs after each epoch completed inside the range and at `toStep` if it ends
   * mid-epoch.
   */
  range?: StepRange;
}

export interface TrainingCurve<V> {
  /** Training loss of every update, in order. */
  lossCurve: number[];
  /** Learning rate of every update. */
  learningRates: number[];
  /**
   * Per epoch: mean training loss, then the validation metrics after that epoch. With a `range`
   * that ends mid-epoch the last entry's `epoch` is fractional (updates / updates per epoch), and
   * an entry's training loss covers the updates of that epoch made in this call.
   */
  epochs: { epoch: number; trainLoss: number; validation: V }[];
  steps: number;
  /** Seconds spent in updates only. */
  trainSeconds: number;
  /** Seconds for the whole call, validation included. */
  seconds: number;
  /** With `range.saveOptimizerState`: the optimizer's state after the last update. */
  optimizerState?: Uint8Array;
}

type StepLoss = (ids: tf.Tensor2D, mask: tf.Tensor2D, rows: readonly number[], dropoutSeed: number) => tf.Scalar;

/**
 * The loop both tasks share: per epoch a seeded shuffle, one update per batch (each inside
 * tf.tidy so the tensor count stays flat), then validation. Yields to the event loop between
 * steps so an abort (a signal, Ctrl-C) is seen promptly.
 */
async function runEpochs<V extends { loss: number }>(
  model: LanguageModel,
  sequences: readonly (readonly number[])[],
  stepLoss: StepLoss,
  validate: () => Promise<V>,
  options: TrainOptions,
): Promise<TrainingCurve<V>> {
  const started = performance.now();
  if (!(Number.isInteger(options.epochs) && options.epochs >= 1))
    throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (sequences.length === 0) throw new Error('no training examples');
  const variables = model.trainableVariables(options.subset ?? 'all');
  const stepsPerEpoch = Math.ceil(sequences.length / options.batchSize);
  const range = options.range ?? { fromStep: 0, toStep: stepsPerEpoch * options.epochs, totalSteps: 0 };
  const totalSteps = options.range?.totalSteps ?? stepsPerEpoch * options.epochs;
  const { fromStep, toStep } = range;
  if (!(Number.isInteger(fromStep) && Number.isInteger(toStep) && 0 <= fromStep && fromStep < toStep))
    throw new Error(`a step range needs integers 0 <= from < to, got [${fromStep}, ${toStep})`);
  if (toStep > stepsPerEpoch * options.epochs)
    throw new Error(
      `step ${toStep} is past the end of ${options.epochs} epochs (${stepsPerEpoch * options.epochs} steps)`,
    );
  if (toStep > totalSteps) throw new Error(`step ${toStep} is past the schedule's ${totalSteps} steps`);
  if (fromStep > 0 && range.optimizerState === undefined)
    throw new Error(`continuing from step ${fromStep} needs the optimizer state saved there`);
  const optimizer = makeOptimizer(options.optimizer, totalSteps);
  const rng = new Rng(options.seed);
  const dropout = rng.fork('dropout');
  // One dropout seed is drawn per update; drawing those of the updates already done puts the
  // stream where the uninterrupted run has it.
  for (let i = 0; i < fromStep; i++) dropout.tfSeed();
  const curve: TrainingCurve<V> = {
    lossCurve: [],
    learningRates: [],
    epochs: [],
    steps: 0,
    trainSeconds: 0,
    seconds: 0,
  };
  const elapsed = (): number => (performance.now() - started) / 1000;
  try {
    if (range.optimizerState !== undefined) restoreOptimizerState(optimizer, range.optimizerState, fromStep);
    let step = fromStep;
    for (let epoch = Math.floor(fromStep / stepsPerEpoch) + 1; step < toStep; epoch++) {
      // The permutation is a pure function of (seed, epoch), so a continuation sees the same one.
      const order = rng.fork(`shuffle:${epoch}`).permutation(sequences.length);
      const batches = chunk(order, options.batchSize);
      let epochLoss = 0;
      let epochRows = 0;
      for (let b = step - (epoch - 1) * stepsPerEpoch; b < batches.length && step < toStep; b++) {
        const rows = batches[b]!;
        options.signal?.throwIfAborted();
        const stepStart = performance.now();
        const batch = padBatch(sequences, rows, model.contextLength, options.padId, options.prePadded);
        const dropoutSeed = dropout.tfSeed();
        let learningRate = 0;
        const lossTensor = tf.tidy(() => {
          const { ids, mask } = batchTensors(batch);
          const { value, grads } = tf.variableGrads(() => stepLoss(ids, mask, rows, dropoutSeed), variables);
          const update = optimizer.apply(grads);
          learningRate = update.learningRate;
          update.gradNorm?.dispose();
          return value;
        });
        // An asynchronous read: a GPU backend cannot read synchronously, and it lets the
        // event loop (progress, abort) run while the device finishes the step.
        const loss = (await lossTensor.data())[0]!;
        lossTensor.dispose();
        if (!Number.isFinite(loss)) throw new TrainingDiverged(step + 1, loss);
        curve.trainSeconds += (performance.now() - stepStart) / 1000;
        curve.steps += 1;
        step += 1;
        curve.lossCurve.push(loss);
        curve.learningRates.push(learningRate);
        epochLoss += loss * rows.length;
        epochRows += rows.length;
        options.onProgress?.({
          phase: 'train',
          epoch,
          step,
          totalSteps,
          loss,
          learningRate,
          elapsedSeconds: elapsed(),
        });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      options.signal?.throwIfAborted();
      const validation = await validate();
      const reached = step === epoch * stepsPerEpoch ? epoch : step / stepsPerEpoch;
      curve.epochs.push({ epoch: reached, trainLoss: epochLoss / epochRows, validation });
      options.onProgress?.({
        phase: 'validate',
        epoch,
        step,
        totalSteps,
        loss: validation.loss,
        elapsedSeconds: elapsed(),
      });
    }
    if (range.saveOptimizerState === true) curve.optimizerState = await saveOptimizerState(optimizer);
  } finally {
    optimizer.dispose();
  }
  curve.seconds = elapsed();
  return curve;
}

function checkLabels(data: LabelledSequences, numClasses: number, name: string): void {
  if (data.ids.length !== data.labels.length)
    throw new Error(`${name}: ${data.ids.length} sequences but ${data.labels.length} labels`);
  for (const label of data.labels) {
    if (!Number.isInteger(label) || label < 0 || label >= numClasses)
      throw new Error(`${name}: label ${label} is outside [0, ${numClasses})`);
  }
}

/**
 * Fine-tunes `model` as a classifier (mean cross-entropy over the batch), validating after each
 * epoch with accuracy, macro F1 and loss.
 */
export async function trainClassifier(
  model: LanguageModel,
  train: LabelledSequences,
  validation: LabelledSequences,
  options: TrainOptions,
): Promise<TrainingCurve<ClassifierEvaluation>> {
  checkLabels(train, model.numClasses, 'training data');
  checkLabels(validation, model.numClasses, 'validation data');
  const evalOptions = {
    batchSize: options.evalBatchSize ?? options.batchSize,
    padId: options.padId,
    prePadded: options.prePadded,
    labelNames: options.labelNames,
  };
  return runEpochs(
    model,
    train.ids,
    (ids, mask, rows, dropoutSeed) => {
      const labels = inputTensor<tf.Rank.R1>(
        Int32Array.from(rows, (r) => train.labels[r]!),
        [rows.length],
        'int32',
      );
      return model.classificationLoss(ids, mask, labels, { dropoutSeed });
    },
    () => evaluateClassifier(model, validation, evalOptions),
    options,
  );
}

/**
 * Pre-trains `model` as a causal language model on token sequences (cut into context-sized
 * windows), validating after each epoch with held-out perplexity.
 */
export async function pretrainLM(
  model: LanguageModel,
  train: readonly (readonly number[])[],
  validation: readonly (readonly number[])[],
  options: Omit<TrainOptions, 'labelNames'>,
): Promise<TrainingCurve<PerplexityEvaluation>> {
  // Windows are cut from the unpadded text and padded again per batch.
  const windows = lmWindows(train, model.contextLength, options.padId, options.prePadded);
  const evalOptions = {
    batchSize: options.evalBatchSize ?? options.batchSize,
    padId: options.padId,
    prePadded: options.prePadded,
  };
  return runEpochs(
    model,
    windows,
    (ids, mask, _rows, dropoutSeed) => model.lmLoss(ids, mask, { dropoutSeed }),
    () => evaluatePerplexity(model, validation, evalOptions),
    { ...options, prePadded: false },
  );
}
