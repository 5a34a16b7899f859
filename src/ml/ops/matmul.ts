import * as tf from '@tensorflow/tfjs-core';

/** Swaps the last two axes with an explicit transpose. */
function swapLastAxes(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/**
 * `a @ b` (2-D, or batched with equal leading axes) whose gradient transposes explicitly.
 *
 * The built-in MatMul gradient calls matMul with transposeA/transposeB set, and the wasm backend
 * runs those forms up to 9x slower than a transpose followed by a plain matmul (notes.md). The
 * forward pass is the built-in one; only the backward pass changes, so results are the same.
 */
export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [tf.matMul(dy, swapLastAxes(sb)), tf.matMul(swapLastAxes(sa), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export { swapLastAxes };
