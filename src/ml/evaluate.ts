import * as tf from '@tensorflow/tfjs-core';
import { batchTensors, chunk, lmWindows, padBatch } from './batches.ts';
import { classificationMetrics } from './classification-metrics.ts';
import { inputTensor } from './host-inputs.ts';
import type { LanguageModel } from './models/language-model.ts';

export interface LabelledSequences {
  /** Token ids per example. */
  ids: readonly (readonly number[])[];
  /** Class index per example, in [0, numClasses). */
  labels: readonly number[];
}

export interface ClassifierEvaluation {
  /** Mean cross-entropy per example. */
  loss: number;
  accuracy: number;
  /** Unweighted mean of per-class F1 (sklearn's `average="macro"`). */
  macroF1: number;
  /** F1 of each class against the rest, by class name (`labelNames`). */
  classF1: Record<string, number>;
  predictions: number[];
}

export interface EvaluateOptions {
  batchSize: number;
  /** Id written into padding positions. */
  padId: number;
  /** The sequences already end in `padId` padding, which is then not read as text. */
  prePadded?: boolean;
  /** Names for class indices in the metrics; indices themselves by default. */
  labelNames?: readonly string[];
}

/** Accuracy, macro F1 and loss of a classifier, without dropout. */
export async function evaluateClassifier(
  model: LanguageModel,
  data: LabelledSequences,
  options: EvaluateOptions,
): Promise<ClassifierEvaluation> {
  if (data.ids.length !== data.labels.length)
    throw new Error(`${data.ids.length} sequences but ${data.labels.length} labels`);
  const order = data.ids.map((_, i) => i);
  const predictions: number[] = [];
  let lossSum = 0;
  for (const rows of chunk(order, options.batchSize)) {
    const { ids, mask } = batchTensors(padBatch(data.ids, rows, model.contextLength, options.padId, options.prePadded));
    const labels = inputTensor<tf.Rank.R1>(
      Int32Array.from(rows, (r) => data.labels[r]!),
      [rows.length],
      'int32',
    );
    const loss = tf.tidy(() => model.classificationLoss(ids, mask, labels));
    lossSum += (await loss.data())[0]! * rows.length;
    predictions.push(...(await model.predictClasses(ids, mask)));
    tf.dispose([ids, mask, labels, loss]);
  }
  const name = (i: number): string => (i < 0 ? NO_LABEL : (options.labelNames?.[i] ?? String(i)));
  const classes = Array.from({ length: model.numClasses }, (_, i) => name(i));
  const metrics = classificationMetrics(data.labels.map(name), predictions.map(name), classes);
  return { loss: lossSum / data.ids.length, ...metrics, predictions };
}

/** What a prediction that names no class (a T5 generation that is no label) is called in metrics. */
export const NO_LABEL = '<no label>';

export interface PerplexityEvaluation {
  /** Mean token cross-entropy (nats) over every predicted token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Number of tokens predicted. */
  tokens: number;
}

/**
 * Perplexity on held-out text: exp of the mean token cross-entropy of the family's held-out
 * score (`LanguageModel.heldOutNll`), averaged over tokens
 * (not over batches, which would overweight short batches). Long texts are cut into context-sized
 * windows the same way as for training.
 */
export async function evaluatePerplexity(
  model: LanguageModel,
  sequences: readonly (readonly number[])[],
  options: Omit<EvaluateOptions, 'labelNames'>,
): Promise<PerplexityEvaluation> {
  const windows = lmWindows(sequences, model.contextLength, options.padId, options.prePadded);
  let nll = 0;
  let tokens = 0;
  for (const rows of chunk(
    windows.map((_, i) => i),
    options.batchSize,
  )) {
    const { ids, mask } = batchTensors(padBatch(windows, rows, model.contextLength, options.padId));
    const scored = await model.heldOutNll(ids, mask);
    tf.dispose([ids, mask]);
    nll += scored.nll;
    tokens += scored.tokens;
  }
  if (tokens === 0)
    throw new Error(
      'no tokens to score: no held-out text has a token the model predicts (too short, or special tokens only)',
    );
  const loss = nll / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}
