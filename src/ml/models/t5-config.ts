/**
 * Sizes of a T5-style encoder-decoder (Raffel et al., 2020, "Exploring the Limits of Transfer
 * Learning with a Unified Text-to-Text Transformer"), in the terms of Hugging Face's T5Config.
 */
export interface T5Config {
  vocabSize: number;
  /**
   * Longest encoder input, in tokens. T5 has no absolute positions (relative position buckets
   * only), so this is a limit the pipeline frames inputs to, not a table size.
   */
  contextLength: number;
  encoderLayers: number;
  decoderLayers: number;
  dModel: number;
  /** Width of one attention head; the attention's inner width is heads x dKv (need not be dModel). */
  dKv: number;
  heads: number;
  /** Width of the feed-forward hidden layer. */
  dFF: number;
  /**
   * `relu`: T5 v1.0's wi -> ReLU -> wo. `gated-gelu`: T5 v1.1's gelu_new(wi_0 x) * (wi_1 x) -> wo
   * (Shazeer, 2020, "GLU Variants Improve Transformer").
   */
  feedForward: 'relu' | 'gated-gelu';
  /** Relative-position buckets per attention (T5: 32). */
  relativeBuckets: number;
  /** Distance from which all relative positions share the last bucket (T5: 128). */
  relativeMaxDistance: number;
  /**
   * T5 v1.0 (true): the language-model head is the shared embedding, and the decoder output is
   * scaled by dModel^-0.5 before it. T5 v1.1 (false): a separate `lm_head`, no rescaling.
   */
  tieEmbeddings: boolean;
  /** Classes of the fine-tuning task; each is generated as its label's text. */
  numClasses: number;
  /** Dropout on embeddings, attention weights, feed-forward hidden units and residual branches. */
  dropout: number;
  /** Epsilon of the RMS layer norms (T5: 1e-6). */
  layerNormEps: number;
  /** Longest decoder target a label text may have, its end-of-sequence token included. */
  maxTargetLength: number;
}

/**
 * The benchmark's T5 at a size that trains on a CPU: two encoder and two decoder blocks of width
 * 64, four heads of 16, T5's 32 buckets up to distance 128, and v1.1's choices: the gated-GELU
 * feed-forward (Shazeer, 2020, "GLU Variants Improve Transformer": better per parameter than ReLU
 * at equal width) and an untied lm_head.
 *
 * Untied was measured against tied (v1.0) on a keyword task (vocabulary 2000, 400 texts of 20-50
 * tokens, batch 32, wasm, from scratch): with AdamW 3e-3 both reached accuracy 1.0 in one epoch,
 * but the training loss after six epochs was 0.00 untied against 0.21 tied; with AdamW 1e-4
 * (closer to the paper's rates) validation accuracy per epoch was 0, 0, .47, .88, .97, 1.0 untied
 * against 0, 0, 0, .35, .53, .75 tied; with SGD 0.01 and momentum 0.9 untied reached 1.0 at
 * epoch 2, tied at epoch 4. Tied ties every output logit to the input embedding under a
 * dModel^-0.5 scale, so the head learns slowly at this width; the untied head starts with large
 * logits (Hugging Face's N(0, 1) lm_head) but moves freely. The cost, vocabSize x dModel more
 * parameters (128k), did not change the step time measurably (about 0.25 s per batch of 32).
 */
export const SMALL_T5: T5Config = {
  vocabSize: 2000,
  contextLength: 64,
  encoderLayers: 2,
  decoderLayers: 2,
  dModel: 64,
  dKv: 16,
  heads: 4,
  dFF: 128,
  feedForward: 'gated-gelu',
  relativeBuckets: 32,
  relativeMaxDistance: 128,
  tieEmbeddings: false,
  numClasses: 2,
  dropout: 0,
  layerNormEps: 1e-6,
  maxTargetLength: 32,
};

export function validateT5Config(c: T5Config): void {
  const positive = [
    'vocabSize',
    'contextLength',
    'encoderLayers',
    'decoderLayers',
    'dModel',
    'dKv',
    'heads',
    'dFF',
    'relativeBuckets',
    'relativeMaxDistance',
    'numClasses',
    'maxTargetLength',
  ] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] < 1)
      throw new Error(`T5 config: ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.feedForward !== 'relu' && c.feedForward !== 'gated-gelu') {
    throw new Error(`T5 config: feedForward must be "relu" or "gated-gelu", got ${JSON.stringify(c.feedForward)}`);
  }
  // The bidirectional bucketing halves the buckets and keeps half of those exact: with fewer than
  // 4 there is no exact bucket left and the logarithmic formula divides by log(maxDistance / 0).
  if (c.relativeBuckets < 4) throw new Error(`T5 config: relativeBuckets must be at least 4, got ${c.relativeBuckets}`);
  // The logarithmic buckets span exact..maxDistance; the decoder's exact range is buckets / 2.
  if (c.relativeMaxDistance <= Math.floor(c.relativeBuckets / 2)) {
    throw new Error(
      `T5 config: relativeMaxDistance (${c.relativeMaxDistance}) must exceed relativeBuckets / 2 (${Math.floor(c.relativeBuckets / 2)})`,
    );
  }
  if (typeof c.tieEmbeddings !== 'boolean')
    throw new Error(`T5 config: tieEmbeddings must be true or false, got ${JSON.stringify(c.tieEmbeddings)}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`T5 config: dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.layerNormEps > 0 && Number.isFinite(c.layerNormEps)))
    throw new Error(`T5 config: layerNormEps must be a positive number, got ${c.layerNormEps}`);
}
