import * as tf from '@tensorflow/tfjs-core';

/**
 * Negative log-likelihood of integer targets under softmax(logits), one value per row.
 * A one-hot product rather than a gather: its gradient stays dense and cheap at the
 * vocabulary sizes used here, and it needs no scatter kernel.
 */
export function sparseCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const logProbs = tf.logSoftmax(logits, -1);
  const oneHot = tf.oneHot(tf.cast(targets, 'int32'), logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(logProbs, oneHot), -1)) as tf.Tensor1D;
}
