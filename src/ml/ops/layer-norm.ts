import * as tf from '@tensorflow/tfjs-core';

/** Layer normalisation over the last axis with a learned gain and bias (Ba et al., 2016). */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  // Named scopes (here and in the other ops) let bench/profile.ts attribute kernels to ops.
  return tf.tidy('layerNorm', () => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gain), bias);
  });
}
