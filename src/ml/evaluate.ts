import * as tf from '@tensorflow/tfjs-core';
import { batchTensors, chunk, lmWindows, padBatch } from './batches.ts';
import { classificationMetrics } from './classification-metrics.ts';
import type { LanguageModel } from './models/language-model.ts';
import { sparseCrossEntropy } from './ops/cross-entropy.ts';

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
export function evaluateClassifier(model: LanguageModel, data: LabelledSequences, options: EvaluateOptions): ClassifierEvaluation {
  if (data.ids.length !== data.labels.length) throw new Error(`${data.ids.length} sequences but ${data.labels.length} labels`);
  const order = data.ids.map((_, i) => i);
  const predictions: number[] = [];
  let lossSum = 0;
  for (const rows of chunk(order, options.batchSize)) {
    const [preds, loss] = tf.tidy(() => {
      const { ids, mask } = batchTensors(padBatch(data.ids, rows, model.contextLength, options.padId, options.prePadded));
      const logits = model.classLogits(ids, mask);
      const labels = tf.tensor1d(rows.map((r) => data.labels[r]!), 'int32');
      return [tf.argMax(logits, 1), tf.sum(sparseCrossEntropy(logits, labels))];
    });
    predictions.push(...(preds.dataSync() as Int32Array));
    lossSum += loss.dataSync()[0]!;
    preds.dispose();
    loss.dispose();
  }
  const name = (i: number): string => options.labelNames?.[i] ?? String(i);
  const metrics = classificationMetrics(data.labels.map(name), predictions.map(name));
  return { loss: lossSum / data.ids.length, ...metrics, predictions };
}

export interface PerplexityEvaluation {
  /** Mean token cross-entropy (nats) over every predicted token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Number of tokens predicted. */
  tokens: number;
}

/**
 * Perplexity on held-out text: exp of the mean next-token cross-entropy, averaged over tokens
 * (not over batches, which would overweight short batches). Long texts are cut into context-sized
 * windows the same way as for training.
 */
export function evaluatePerplexity(model: LanguageModel, sequences: readonly (readonly number[])[], options: Omit<EvaluateOptions, 'labelNames'>): PerplexityEvaluation {
  const windows = lmWindows(sequences, model.contextLength, options.padId, options.prePadded);
  let nll = 0;
  let tokens = 0;
  for (const rows of chunk(windows.map((_, i) => i), options.batchSize)) {
    const batch = padBatch(windows, rows, model.contextLength, options.padId);
    // Targets are positions 1.. of each row; lmLoss averages over them, so undo the average.
    let count = 0;
    for (let r = 0; r < batch.rows; r++) for (let j = 1; j < batch.time; j++) count += batch.mask[r * batch.time + j]!;
    const loss = tf.tidy(() => {
      const { ids, mask } = batchTensors(batch);
      return model.lmLoss(ids, mask);
    });
    nll += loss.dataSync()[0]! * count;
    tokens += count;
    loss.dispose();
  }
  if (tokens === 0) throw new Error('no tokens to score: every held-out text is shorter than two tokens');
  const loss = nll / tokens;
  return { loss, perplexity: Math.exp(loss), tokens };
}
