import * as tf from '@tensorflow/tfjs-core';
import { causalBias } from './attention.ts';
import { matMul, swapLastAxes } from './matmul.ts';

export interface AttentionWeights {
  qkvW: tf.Tensor; // [d, 3d]
  qkvB: tf.Tensor; // [3d]
  projW: tf.Tensor; // [d, d]
  projB: tf.Tensor; // [d]
}

/**
 * Multi-head causal self-attention over `x` `[batch*time, d]` (Vaswani et al., 2017, with GPT's
 * causal mask). Inputs are right-padded, so a real token never attends to padding: the causal
 * mask alone suffices, and outputs at padded positions are ignored by the losses.
 * `dropout` (rate, seed) applies to the attention weights in training.
 */
export function causalSelfAttention(
  x: tf.Tensor2D,
  batch: number,
  time: number,
  heads: number,
  w: AttentionWeights,
  dropout?: (t: tf.Tensor) => tf.Tensor,
): tf.Tensor2D {
  const d = x.shape[1];
  const dh = d / heads;
  const qkv = tf.add(matMul(x, w.qkvW), w.qkvB);
  const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const toHeads = (t: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(t, [batch, time, heads, dh]), [0, 2, 1, 3]);
  const scores = tf.add(tf.mul(matMul(toHeads(q), swapLastAxes(toHeads(k))), 1 / Math.sqrt(dh)), causalBias(time));
  let weights = tf.softmax(scores, -1);
  if (dropout) weights = dropout(weights);
  const mixed = matMul(weights, toHeads(v)); // [batch, heads, time, dh]
  const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [batch * time, d]);
  return tf.add(matMul(merged, w.projW), w.projB) as tf.Tensor2D;
}
