import type * as tf from '@tensorflow/tfjs-core';
import { inputTensor } from './host-inputs.ts';

/** One batch as plain arrays, ready to become tensors. */
export interface PaddedBatch {
  rows: number;
  time: number;
  /** Token ids, right-padded, row-major `[rows, time]`. */
  ids: Int32Array;
  /** 1 on real tokens, 0 on padding. */
  mask: Float32Array;
}

/**
 * Length of a sequence without its padding. Only a caller who padded sequences themselves says
 * so (`prePadded`): a tokenizer may use the pad id for real tokens too (GPT-2 pads with its
 * end-of-text token), so trailing pad ids are not dropped unasked.
 */
function contentLength(seq: readonly number[], padId: number, prePadded: boolean): number {
  let n = seq.length;
  if (prePadded) while (n > 0 && seq[n - 1] === padId) n--;
  return n;
}

/**
 * Right-pads (and truncates) the chosen sequences to the longest of them, capped at
 * `contextLength`. Padding only to the batch's longest keeps short-text batches cheap; with a
 * causal model and right padding, real tokens never see the padding, so results do not depend
 * on how much there is.
 */
export function padBatch(
  sequences: readonly (readonly number[])[],
  rows: readonly number[],
  contextLength: number,
  padId: number,
  prePadded = false,
): PaddedBatch {
  const lengths = rows.map((r) => Math.min(contextLength, contentLength(sequences[r]!, padId, prePadded)));
  const time = Math.max(1, ...lengths);
  const ids = new Int32Array(rows.length * time).fill(padId);
  const mask = new Float32Array(rows.length * time);
  rows.forEach((r, i) => {
    const seq = sequences[r]!;
    const n = lengths[i]!;
    for (let j = 0; j < n; j++) {
      ids[i * time + j] = seq[j]!;
      mask[i * time + j] = 1;
    }
  });
  return { rows: rows.length, time, ids, mask };
}

/**
 * Cuts token sequences into windows of at most `contextLength` for language modelling. Windows
 * overlap by one token so that every token after a sequence's first is predicted exactly once.
 * Sequences of fewer than two tokens predict nothing and are dropped.
 */
export function lmWindows(
  sequences: readonly (readonly number[])[],
  contextLength: number,
  padId = 0,
  prePadded = false,
): number[][] {
  if (contextLength < 2) throw new Error('language modelling needs a context of at least 2 tokens');
  const out: number[][] = [];
  for (const full of sequences) {
    const seq = full.slice(0, contentLength(full, padId, prePadded));
    if (seq.length < 2) continue;
    for (let start = 0; start < seq.length - 1; start += contextLength - 1)
      out.push(seq.slice(start, start + contextLength));
  }
  return out;
}

/** Consecutive slices of `order` of at most `size` (the last may be shorter). */
export function chunk<T>(order: readonly T[], size: number): T[][] {
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size));
  return out;
}

/** The batch as tensors that keep their host arrays (`hostValues`); call inside tf.tidy. */
export function batchTensors(batch: PaddedBatch): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  return {
    ids: inputTensor<tf.Rank.R2>(batch.ids, [batch.rows, batch.time], 'int32'),
    mask: inputTensor<tf.Rank.R2>(batch.mask, [batch.rows, batch.time], 'float32'),
  };
}
