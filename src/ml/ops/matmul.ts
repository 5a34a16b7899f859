import * as tf from '@tensorflow/tfjs-core';
import { wasmBatchMatMulActive } from '../kernels/batch-matmul-wasm.ts';
import { fastPaths } from './fast-paths.ts';

const readsTransposedLeft = (): boolean => fastPaths() && tf.getBackend() === 'wasm' && wasmBatchMatMulActive();

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
 * On wasm (with the fast paths) the weight side keeps the flag instead: see batch-matmul-wasm.ts.
 */
export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      // The wasm SIMD loops read a transposed left operand where it lies, summing in the same
      // order as after the transpose (bit for bit): one copy fewer per product.
      const db = readsTransposedLeft() ? tf.matMul(sa, dy, true, false) : tf.matMul(swapLastAxes(sa), dy);
      return [tf.matMul(dy, swapLastAxes(sb)), db];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export { swapLastAxes };
