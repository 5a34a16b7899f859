import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from './fast-paths.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The forward formula; the fast path keeps it, so values are the same either way. */
function geluTanh(x: tf.Tensor): { value: tf.Tensor; t: tf.Tensor } {
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
  const t = tf.tanh(inner);
  return { value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)), t };
}

/**
 * The gradient written out, reusing the forward pass's tanh: with u = sqrt(2/pi) (x + 0.044715 x^3)
 * and t = tanh u, d/dx [x (1 + t) / 2] = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2;
 * about half the kernels of differentiating the forward ops one by one.
 */
const geluWithGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const { value, t } = geluTanh(x);
  save([x, t]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, st] = saved as [tf.Tensor, tf.Tensor];
      const slope = tf.mul(tf.add(tf.mul(tf.square(sx), 3 * 0.044715 * SQRT_2_OVER_PI), SQRT_2_OVER_PI), sx);
      const local = tf.mul(tf.add(tf.add(st, 1), tf.mul(tf.sub(1, tf.square(st)), slope)), 0.5);
      return [tf.mul(dy, local)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** GELU with the tanh approximation that GPT-2 was trained with (Hendrycks & Gimpel, 2016). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy('gelu', () => (fastPaths() ? geluWithGrad(x) : geluTanh(x).value));
}
