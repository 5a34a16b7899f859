import * as tf from '@tensorflow/tfjs-core';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * The exact GELU, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (Hendrycks & Gimpel, 2016), which BERT
 * was trained with and Hugging Face calls "gelu"; the tanh form in gelu.ts differs by up to about
 * 1e-3, enough to move a real checkpoint's logits visibly.
 *
 * The gradient is written out, Phi(x) + x phi(x), reusing the forward pass's Phi: half the ops of
 * differentiating through erf, mul and add one by one.
 */
const geluErfGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, scdf] = saved as [tf.Tensor, tf.Tensor];
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(scdf, tf.mul(sx, pdf)))];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

export const geluErf = (x: tf.Tensor): tf.Tensor => tf.tidy('geluErf', () => geluErfGrad(x));
