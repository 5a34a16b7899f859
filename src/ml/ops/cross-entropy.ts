import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from './fast-paths.ts';

/**
 * Negative log-likelihood of integer targets under softmax(logits), one value per row.
 * A one-hot product rather than a gather: its gradient stays dense and cheap at the
 * vocabulary sizes used here, and it needs no scatter kernel.
 *
 * Computed from `tf.softmax` (vectorised on wasm, where `exp` and `logSoftmax` are scalar
 * loops): with m the row's largest logit and p = softmax(logits), the largest probability is
 * exp(0) / sum exp(x - m), so log sum exp(x - m) = -log max p, and
 * nll = log sum exp(x - m) - (x_target - m) = -log(max p) - (x_target - m), stable for any
 * logits (max p >= 1 / vocabulary). The gradient is written out, (p - onehot) dy, with the p
 * already computed. `setFastPaths(false)` restores the logSoftmax formulation.
 */
export function sparseCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy('crossEntropy', () => {
    const oneHot = tf.oneHot(tf.cast(targets, 'int32'), logits.shape[1]);
    if (!fastPaths()) {
      const logProbs = tf.logSoftmax(logits, -1);
      return tf.neg(tf.sum(tf.mul(logProbs, oneHot), -1)) as tf.Tensor1D;
    }
    const nll = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
      const p = tf.softmax(x, -1);
      save([p, oneHot]);
      const shifted = tf.sub(tf.sum(tf.mul(x, oneHot), -1), tf.max(x, -1));
      return {
        value: tf.sub(tf.neg(tf.log(tf.max(p, -1))), shifted),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(tf.sub(saved[0]!, saved[1]!), tf.expandDims(dy, 1))],
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D) => tf.Tensor1D;
    return nll(logits);
  });
}
