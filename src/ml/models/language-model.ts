import type * as tf from '@tensorflow/tfjs-core';

/**
 * Which parameters fine-tuning updates (the paper trains "a subset of parameters"):
 * - `all`: every parameter;
 * - `head`: the classification head only (a linear probe on frozen features);
 * - `last-N`: the final N transformer blocks (of each stack, for an encoder-decoder), the final
 *   layer norms and the head.
 */
export type ParamSubset = 'all' | 'head' | `last-${number}`;

export interface ForwardOptions {
  /**
   * Training mode: when set, every random choice of a training step draws from this seed:
   * dropout masks, and the pre-training objective's masking (BERT) or span corruption (T5).
   * Left out, the pass is deterministic: no dropout, and the objectives use a fixed seed of
   * their own, so a validation loss is the same number every time it is computed.
   */
  dropoutSeed?: number;
}

/**
 * Token ids with a role. A tokenizer trained here has all of them; a Hugging Face tokenizer has
 * the ones its model uses (GPT-2 only an end-of-text token, which also pads).
 */
export interface SpecialTokens {
  pad: number;
  unk?: number;
  bos?: number;
  eos?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  /** T5's span-corruption sentinels in order: `<extra_id_0>`, `<extra_id_1>`, ... */
  sentinels?: readonly number[];
}

/** Architecture families the study compares. */
export type ModelFamily = 'gpt' | 'bert' | 't5';

/** Sum of negative log-likelihoods (nats) and the number of tokens they score. */
export interface HeldOutNll {
  nll: number;
  tokens: number;
}

/**
 * What the training loop and the evaluation need from a model, so that a GPT-style decoder, a
 * BERT-style encoder and a T5-style encoder-decoder are trained and scored by the same code.
 * Inputs are token ids `[batch, time]` (int32), right-padded, with a float mask that is 1 on real
 * tokens, already framed for the family (see `frameText`). Where a model plans on the host from
 * its inputs (masking, span corruption, label targets) it reads them with `hostValues`, so
 * inputs made with `batchTensors` / `inputTensor` are never read back from a GPU.
 */
export interface LanguageModel {
  /** Architecture family, recorded with results. */
  readonly family: ModelFamily;
  /** Longest input, in tokens. */
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly numClasses: number;
  /** Every parameter, by a stable name that does not depend on how many models exist. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /**
   * The family's pre-training loss, a mean over the tokens it predicts: next-token prediction
   * (GPT), masked-token prediction (BERT), span-corruption targets (T5).
   */
  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar;
  /**
   * Held-out language-model score behind the reported perplexity, exp(nll / tokens): next-token
   * (GPT), pseudo-log-likelihood with each token masked in turn (BERT), span-corruption targets
   * under the fixed evaluation corruption (T5). Numbers, not tensors: nothing to dispose. Read
   * asynchronously, as every value that leaves the backend (a GPU backend cannot read synchronously).
   */
  heldOutNll(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<HeldOutNll>;
  /**
   * Fine-tuning loss for class indices `labels` `[batch]`, a mean over the batch: cross-entropy
   * of a classification head (GPT, BERT), or of the label's text as the decoder's target (T5).
   */
  classificationLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor1D, options?: ForwardOptions): tf.Scalar;
  /**
   * Predicted class index per row: the head's argmax, or for T5 the class whose label text the
   * greedy decoder generated exactly; -1 when the generated text is no label (counted wrong).
   */
  predictClasses(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<number[]>;
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
