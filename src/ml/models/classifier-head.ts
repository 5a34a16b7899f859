import * as tf from '@tensorflow/tfjs-core';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';

/** Fine-tuning loss of a classification head: mean cross-entropy over the batch. */
export function headLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(sparseCrossEntropy(logits, labels)) as tf.Scalar);
}

/** Each row's highest-scoring class; disposes nothing it did not make. */
export async function headPredictions(logits: () => tf.Tensor2D): Promise<number[]> {
  const predicted = tf.tidy(() => tf.argMax(logits(), 1));
  const out = Array.from(await predicted.data());
  predicted.dispose();
  return out;
}
