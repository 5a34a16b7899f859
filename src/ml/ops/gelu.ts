import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from './fast-paths.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The formula as GPT-2 writes it: `setFastPaths(false)`'s form. */
function geluTanh(x: tf.Tensor): tf.Tensor {
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

// (1 + tanh u) / 2 = sigmoid(2u), so GELU = x sigmoid(x (A + B x^2)) with these constants.
const A = 2 * SQRT_2_OVER_PI;
const B = 2 * SQRT_2_OVER_PI * 0.044715;

/**
 * The same function through sigmoid, with its gradient written out: wasm's `Tanh` is a scalar
 * loop (10 ms for [1024, 256] here) while `Sigmoid` is vectorised (1.3 ms), and the identity
 * above is exact, so values differ from the tanh form by float rounding only. With
 * s = sigmoid(x (A + B x^2)): d/dx [x s] = s + x s (1 - s) (A + 3 B x^2).
 */
const geluWithGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), B), A)));
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, ss] = saved as [tf.Tensor, tf.Tensor];
      const slope = tf.mul(sx, tf.add(tf.mul(tf.square(sx), 3 * B), A));
      const local = tf.mul(ss, tf.add(tf.mul(tf.sub(1, ss), slope), 1));
      return [tf.mul(dy, local)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** GELU with the tanh approximation that GPT-2 was trained with (Hendrycks & Gimpel, 2016). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy('gelu', () => (fastPaths() ? geluWithGrad(x) : geluTanh(x)));
}
