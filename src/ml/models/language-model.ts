import type * as tf from '@tensorflow/tfjs-core';

/**
 * Which parameters fine-tuning updates (the paper trains "a subset of parameters"):
 * - `all`: every parameter;
 * - `head`: the classification head only (a linear probe on frozen features);
 * - `last-N`: the final N transformer blocks, the final layer norm and the head.
 */
export type ParamSubset = 'all' | 'head' | `last-${number}`;

export interface ForwardOptions {
  /**
   * Training mode: when set, dropout (if the model has any) draws its masks from this seed, so a
   * training step is reproducible. Left out, the forward pass is deterministic (evaluation).
   */
  dropoutSeed?: number;
}

/**
 * What the training loop and the evaluation need from a model, so that BERT-style (encoder) and
 * T5-style (encoder-decoder) models can slot in beside the GPT-style decoder. Inputs are token
 * ids `[batch, time]` (int32), right-padded, with a float mask that is 1 on real tokens.
 */
export interface LanguageModel {
  /** Architecture family, recorded with results: `gpt`, later `bert`, `t5`. */
  readonly family: string;
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly numClasses: number;
  /** Every parameter, by a stable name that does not depend on how many models exist. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The model's pre-training loss: mean token cross-entropy over real target tokens. */
  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar;
  /** Unnormalised class scores `[batch, numClasses]`. */
  classLogits(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D;
  /** The variables a subset selects, in a fixed order. */
  trainableVariables(subset: ParamSubset): tf.Variable[];
  /** Frees the variables. */
  dispose(): void;
}

/** Checks a subset name from a config file. */
export function parseParamSubset(text: string): ParamSubset {
  if (text === 'all' || text === 'head') return text;
  const m = /^last-([1-9][0-9]*)$/.exec(text);
  if (m) return text as ParamSubset;
  throw new Error(`unknown parameter subset "${text}": use all, head or last-N (N >= 1)`);
}
