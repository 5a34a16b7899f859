import * as tf from '@tensorflow/tfjs-core';
import { matMul, swapLastAxes } from './matmul.ts';

/** `[batch*time, heads*dh]` rows to `[batch, heads, time, dh]`. */
export function splitHeads(x: tf.Tensor, batch: number, time: number, heads: number): tf.Tensor4D {
  const dh = x.shape[x.shape.length - 1]! / heads;
  return tf.transpose(tf.reshape(x, [batch, time, heads, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** `[batch, heads, time, dh]` back to rows `[batch*time, heads*dh]`. */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [batch, heads, time, dh] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch * time, heads * dh]) as tf.Tensor2D;
}

/**
 * Additive key mask `[batch, 1, 1, time]` from a padding mask `[batch, time]` (1 on real tokens):
 * 0 where a query may look, a large negative on padding, so right padding never reaches a real
 * position in a bidirectional (encoder) or cross attention.
 */
export function paddingBias(mask: tf.Tensor2D): tf.Tensor4D {
  const [batch, time] = mask.shape;
  return tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [batch, 1, 1, time]) as tf.Tensor4D;
}

const causalCache = new Map<number, Float32Array>();

/** Additive `[t, t]` mask: 0 on keys at or before the query, a large negative after it (a decoder's causal mask). */
export function causalBias(t: number): tf.Tensor2D {
  let values = causalCache.get(t);
  if (values === undefined) {
    values = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = -1e9;
    causalCache.set(t, values);
  }
  return tf.tensor2d(values, [t, t]);
}

export interface AttendOptions {
  /** Multiplies the scores; 1/sqrt(dh) for Vaswani et al.'s attention, 1 for T5 (folded into init). */
  scale: number;
  /** Added to the scores before the softmax; broadcast to `[batch, heads, tq, tk]`. */
  bias?: tf.Tensor;
  /** Dropout on the attention weights, in training. */
  dropout?: (t: tf.Tensor) => tf.Tensor;
}

/**
 * Scaled dot-product attention of queries `[batch, heads, tq, dh]` over keys and values
 * `[batch, heads, tk, dh]`: softmax(scale * q k^T + bias) v, through `matMul` so the backward
 * pass stays fast on wasm.
 */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, options: AttendOptions): tf.Tensor4D {
  let scores = matMul(q, swapLastAxes(k));
  if (options.scale !== 1) scores = tf.mul(scores, options.scale);
  if (options.bias) scores = tf.add(scores, options.bias);
  let weights = tf.softmax(scores, -1);
  if (options.dropout) weights = options.dropout(weights);
  return matMul(weights, v) as tf.Tensor4D;
}
