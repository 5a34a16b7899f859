import * as tf from '@tensorflow/tfjs-core';

/**
 * Scales all gradients by min(1, maxNorm / globalNorm), where globalNorm is the L2 norm of all of
 * them together: the direction of the update is kept, only its length is capped (Pascanu et al.,
 * 2013). Returns new tensors and the norm before clipping (a scalar tensor).
 */
export function clipByGlobalNorm(
  grads: tf.NamedTensorMap,
  maxNorm: number,
): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  if (!(maxNorm > 0)) throw new Error(`clip norm must be positive, got ${maxNorm}`);
  const names = Object.keys(grads);
  const squares = names.map((n) => tf.sum(tf.square(grads[n]!)));
  const norm = tf.sqrt(squares.length > 0 ? tf.addN(squares) : tf.scalar(0)) as tf.Scalar;
  const scale = tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12)));
  const clipped: tf.NamedTensorMap = {};
  for (const n of names) clipped[n] = tf.mul(grads[n]!, scale);
  return { grads: clipped, norm };
}
