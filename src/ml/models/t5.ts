import * as tf from '@tensorflow/tfjs-core';
import { hostValues } from '../host-inputs.ts';
import { Rng } from '../rng.ts';
import { attend, causalBias, mergeHeads, paddingBias, splitHeads } from '../ops/attention.ts';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';
import { gelu } from '../ops/gelu.ts';
import { matMul } from '../ops/matmul.ts';
import { type T5Config, validateT5Config } from './t5-config.ts';
import type { ForwardOptions, HeldOutNll, LanguageModel, ParamSubset, SpecialTokens } from './language-model.ts';
import { type Dropout, ModelBase } from './model-base.ts';

/** Fraction of a text's tokens that span corruption hides (Raffel et al., 2020, section 3.1.4). */
export const NOISE_DENSITY = 0.15;
/** Mean length of a hidden span. */
export const MEAN_NOISE_SPAN_LENGTH = 3;
/**
 * Seed of the corruption when a call gives none (validation loss, held-out perplexity), so that
 * the same texts are always scored against the same targets.
 */
export const EVAL_CORRUPTION_SEED = 5;

/** Rounds half to even, as numpy's `np.round`, which Hugging Face's span sampler uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Splits `items` into `segments` non-empty runs at a uniformly random set of cut points. */
function randomSegmentation(items: number, segments: number, rng: Rng): number[] {
  // Cut before item j+1 where the shuffled indicator vector (segments - 1 ones among items - 1
  // places) has a one: a random (segments - 1)-subset of the items - 1 gaps.
  const order = rng.permutation(items - 1);
  const lengths: number[] = [];
  let run = 1;
  for (let gap = 0; gap < items - 1; gap++) {
    if (order[gap]! < segments - 1) {
      lengths.push(run);
      run = 1;
    } else run++;
  }
  lengths.push(run);
  return lengths;
}

/**
 * Which of `length` tokens span corruption hides, following Hugging Face's
 * `random_spans_noise_mask` (run_t5_mlm_flax.py, after T5's `random_spans_noise_mask`):
 * round(length x density) noise tokens (at least 1, at most length - 1) in
 * round(min(noise, non-noise) / meanSpan) spans (at least 1), span lengths drawn by random
 * segmentation, the text starting with a non-noise span and alternating, so it always ends with
 * a noise span: a text short enough for a single span (under 30 tokens at density 0.15) always
 * has its last tokens hidden, as in Hugging Face and T5 by default (seqio's later `random_roll`
 * option is not used). `maxSpans` caps the spans at the sentinels available (fewer, longer
 * spans). Texts of fewer than 2 tokens have no noise/non-noise split and get no noise.
 */
export function randomSpansNoiseMask(
  length: number,
  rng: Rng,
  maxSpans = Number.POSITIVE_INFINITY,
  noiseDensity = NOISE_DENSITY,
  meanNoiseSpanLength = MEAN_NOISE_SPAN_LENGTH,
): boolean[] {
  if (length < 2) return new Array<boolean>(length).fill(false);
  const noise = Math.min(Math.max(roundHalfEven(length * noiseDensity), 1), length - 1);
  const clean = length - noise;
  const spans = Math.min(Math.max(roundHalfEven(Math.min(noise, clean) / meanNoiseSpanLength), 1), maxSpans);
  const noiseLengths = randomSegmentation(noise, spans, rng);
  const cleanLengths = randomSegmentation(clean, spans, rng);
  const mask: boolean[] = [];
  for (let s = 0; s < spans; s++) {
    for (let i = 0; i < cleanLengths[s]!; i++) mask.push(false);
    for (let i = 0; i < noiseLengths[s]!; i++) mask.push(true);
  }
  return mask;
}

export interface SpanCorruption {
  /** Encoder input: the text with each hidden span replaced by the next sentinel, then eos. */
  input: number[];
  /** Decoder target: sentinel_0 span_0 sentinel_1 span_1 ... eos; empty when nothing was hidden. */
  target: number[];
}

/**
 * T5's pre-training example from one text (without its eos): "Thank you <X> me to your party
 * <Y> week." -> "<X> for inviting <Y> last <Z>" (Raffel et al., 2020, figure 2), with the spans of
 * `randomSpansNoiseMask`.
 */
export function corruptSpans(
  text: readonly number[],
  sentinels: readonly number[],
  eos: number,
  rng: Rng,
): SpanCorruption {
  if (sentinels.length === 0) throw new Error('span corruption needs at least one sentinel token');
  const noise = randomSpansNoiseMask(text.length, rng, sentinels.length);
  const input: number[] = [];
  const target: number[] = [];
  let span = -1;
  for (let i = 0; i < text.length; i++) {
    if (!noise[i]) {
      input.push(text[i]!);
      continue;
    }
    if (i === 0 || !noise[i - 1]) {
      span++;
      input.push(sentinels[span]!);
      target.push(sentinels[span]!);
    }
    target.push(text[i]!);
  }
  input.push(eos);
  if (span >= 0) target.push(eos);
  return { input, target };
}

/**
 * Hugging Face's `T5Attention._relative_position_bucket` (after Mesh TensorFlow): the bucket of
 * `relative` = key position - query position. Bidirectional (encoder): half the buckets for
 * keys after the query. Half of the rest are exact distances, the others logarithmically wider up
 * to `maxDistance`, beyond which all share the last bucket. Unidirectional (decoder): only keys at
 * or before the query are told apart. The logarithm is evaluated in float32, as PyTorch does, so
 * a distance on a bucket boundary lands where it does there.
 */
export function relativePositionBucket(
  relative: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let buckets = numBuckets;
  let offset = 0;
  let n: number;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (relative > 0) offset = buckets;
    n = Math.abs(relative);
  } else {
    n = Math.max(-relative, 0);
  }
  const exact = Math.floor(buckets / 2);
  if (n < exact) return offset + n;
  const f = Math.fround;
  const scaled = f(f(f(Math.log(f(n / exact))) / f(Math.log(maxDistance / exact))) * (buckets - exact));
  return offset + Math.min(exact + Math.trunc(scaled), buckets - 1);
}

const bucketCache = new Map<string, Int32Array>();

function bucketMatrix(
  queries: number,
  keys: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Int32Array {
  const key = `${queries}:${keys}:${bidirectional}:${numBuckets}:${maxDistance}`;
  let out = bucketCache.get(key);
  if (out === undefined) {
    out = new Int32Array(queries * keys);
    for (let i = 0; i < queries; i++)
      for (let j = 0; j < keys; j++)
        out[i * keys + j] = relativePositionBucket(j - i, bidirectional, numBuckets, maxDistance);
    bucketCache.set(key, out);
  }
  return out;
}

/** T5LayerNorm: RMS normalisation without mean subtraction or bias (Zhang & Sennrich, 2019). */
function rmsNorm(x: tf.Tensor, gain: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy('rmsNorm', () => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), gain);
  });
}

/** A right-padded batch of sequences as flat arrays. */
interface Padded {
  rows: number;
  time: number;
  ids: Int32Array;
  mask: Float32Array;
}

function pad(sequences: readonly (readonly number[])[], padId: number): Padded {
  const rows = sequences.length;
  const time = Math.max(1, ...sequences.map((s) => s.length));
  const ids = new Int32Array(rows * time).fill(padId);
  const mask = new Float32Array(rows * time);
  sequences.forEach((s, r) => {
    for (let j = 0; j < s.length; j++) {
      ids[r * time + j] = s[j]!;
      mask[r * time + j] = 1;
    }
  });
  return { rows, time, ids, mask };
}

/** Keys and values of the encoder output for one decoder block's cross-attention. */
type CrossMemory = { k: tf.Tensor4D; v: tf.Tensor4D };

/**
 * A T5-style encoder-decoder (Raffel et al., 2020), numerically as Hugging Face's
 * T5ForConditionalGeneration so that its checkpoints give the same logits:
 *
 * - a shared token embedding feeds both stacks (no absolute positions, no embedding scaling);
 * - pre-norm blocks with T5LayerNorm (RMS, no mean, no bias); attention without the
 *   1/sqrt(dKv) factor (Mesh TensorFlow folds it into the query initialisation) and without
 *   biases, its inner width heads x dKv;
 * - a learned relative position bias per stack, [buckets, heads], owned by the stack's first
 *   block and added in every block (bidirectional buckets in the encoder, causal ones in the
 *   decoder's self-attention, none in cross-attention);
 * - feed-forward ReLU (v1.0) or gated GELU (v1.1, tanh approximation as HF's gelu_new);
 * - decoder blocks: causal self-attention, cross-attention over the encoder output, feed-forward;
 * - lm head: the shared embedding with the decoder output scaled by dModel^-0.5 when tied
 *   (v1.0), a separate `lm_head` otherwise (v1.1).
 *
 * Every task is text to text: classification trains the decoder to write the label's text
 * (teacher forcing, decoder input = [pad, target[:-1]], pad being T5's decoder start token) and
 * predicts by greedy decoding; pre-training is span corruption.
 *
 * Initialisation is Hugging Face's `T5PreTrainedModel._init_weights` with factor 1 (itself Mesh
 * TensorFlow's): shared and lm_head N(0, 1); q N(0, (dModel dKv)^-1/2); k, v N(0, dModel^-1/2);
 * o N(0, (heads dKv)^-1/2); wi (wi_0, wi_1) N(0, dModel^-1/2); wo N(0, dFF^-1/2); relative bias
 * N(0, dModel^-1/2); norm gains 1. Normals are truncated at two standard deviations, like the GPT
 * here, each tensor from a seed derived from (seed, name).
 */
export class T5 extends ModelBase<T5Config> implements LanguageModel {
  readonly family = 't5' as const;
  readonly special: Readonly<SpecialTokens>;
  readonly labelTargets: readonly (readonly number[])[];
  private readonly eos: number;
  private readonly labelIndex = new Map<string, number>();

  constructor(config: T5Config, special: SpecialTokens, labelTargets: readonly (readonly number[])[], seed: number) {
    validateT5Config(config);
    super(config, 'T5');
    const { vocabSize: V, numClasses, maxTargetLength } = config;
    const inVocab = (id: unknown): boolean => Number.isInteger(id) && (id as number) >= 0 && (id as number) < V;
    if (!inVocab(special.pad))
      throw new Error(`T5: the pad token (also the decoder start) must be an id in [0, ${V}), got ${special.pad}`);
    if (special.eos === undefined || !inVocab(special.eos))
      throw new Error(`T5: needs an eos token id in [0, ${V}), got ${special.eos}`);
    if (special.eos === special.pad) throw new Error('T5: eos and pad must be different tokens');
    this.eos = special.eos;
    const sentinels = special.sentinels ? [...special.sentinels] : undefined;
    if (sentinels) {
      if (!sentinels.every(inVocab)) throw new Error(`T5: sentinel ids must be in [0, ${V})`);
      if (new Set(sentinels).size !== sentinels.length) throw new Error('T5: sentinel ids must be distinct');
      if (sentinels.includes(special.pad) || sentinels.includes(special.eos))
        throw new Error('T5: a sentinel id is also pad or eos');
    }
    this.special = Object.freeze({ ...special, ...(sentinels ? { sentinels: Object.freeze(sentinels) } : {}) });

    if (labelTargets.length !== numClasses)
      throw new Error(`T5: ${labelTargets.length} label targets for ${numClasses} classes`);
    labelTargets.forEach((target, c) => {
      if (target.length === 0 || target.length > maxTargetLength)
        throw new Error(
          `T5: label target ${c} has ${target.length} tokens; it must have 1 to maxTargetLength (${maxTargetLength})`,
        );
      if (!target.every(inVocab)) throw new Error(`T5: label target ${c} has an id outside [0, ${V})`);
      // Greedy decoding stops at the first eos, so a target must have exactly one, at its end.
      if (target[target.length - 1] !== this.eos || target.indexOf(this.eos) !== target.length - 1) {
        throw new Error(`T5: label target ${c} must end with the eos token (${this.eos}) and contain it nowhere else`);
      }
      const key = target.join(',');
      if (this.labelIndex.has(key))
        throw new Error(`T5: label targets ${this.labelIndex.get(key)} and ${c} are the same tokens`);
      this.labelIndex.set(key, c);
    });
    this.labelTargets = Object.freeze(labelTargets.map((t) => Object.freeze([...t])));

    const init = new Rng(seed).fork('init');
    const { dModel: d, dKv, heads, dFF, relativeBuckets } = config;
    const inner = heads * dKv;
    const attention = (p: string): void => {
      this.params.normal(`${p}/q`, [d, inner], (d * dKv) ** -0.5, init);
      this.params.normal(`${p}/k`, [d, inner], d ** -0.5, init);
      this.params.normal(`${p}/v`, [d, inner], d ** -0.5, init);
      this.params.normal(`${p}/o`, [inner, d], inner ** -0.5, init);
    };
    const feedForward = (p: string): void => {
      if (config.feedForward === 'relu') this.params.normal(`${p}/wi`, [d, dFF], d ** -0.5, init);
      else {
        this.params.normal(`${p}/wi0`, [d, dFF], d ** -0.5, init);
        this.params.normal(`${p}/wi1`, [d, dFF], d ** -0.5, init);
      }
      this.params.normal(`${p}/wo`, [dFF, d], dFF ** -0.5, init);
    };
    this.params.normal('shared', [V, d], 1, init);
    this.params.normal('enc/rel_bias', [relativeBuckets, heads], d ** -0.5, init);
    for (let i = 0; i < config.encoderLayers; i++) {
      const b = `enc/b${i}`;
      this.params.constant(`${b}/ln1`, [d], 1);
      attention(`${b}/attn`);
      this.params.constant(`${b}/ln2`, [d], 1);
      feedForward(`${b}/ff`);
    }
    this.params.constant('enc/ln_f', [d], 1);
    this.params.normal('dec/rel_bias', [relativeBuckets, heads], d ** -0.5, init);
    for (let i = 0; i < config.decoderLayers; i++) {
      const b = `dec/b${i}`;
      this.params.constant(`${b}/ln1`, [d], 1);
      attention(`${b}/self`);
      this.params.constant(`${b}/ln2`, [d], 1);
      attention(`${b}/cross`);
      this.params.constant(`${b}/ln3`, [d], 1);
      feedForward(`${b}/ff`);
    }
    this.params.constant('dec/ln_f', [d], 1);
    if (!config.tieEmbeddings) this.params.normal('lm_head', [d, V], 1, init);
  }

  /** The stack's relative position bias `[1, heads, queries, keys]` from its `[buckets, heads]` table. */
  private positionBias(table: string, queries: number, keys: number, bidirectional: boolean): tf.Tensor4D {
    const { relativeBuckets, relativeMaxDistance, heads } = this.config;
    const buckets = bucketMatrix(queries, keys, bidirectional, relativeBuckets, relativeMaxDistance);
    // A one-hot product rather than a gather: the table is tiny, and its gradient is a plain
    // matmul. Cast rather than asking oneHot for float32: wasm's OneHot kernel writes the int32
    // bit patterns into a float32 output (1 reads as 1.4e-45).
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(buckets, 'int32'), relativeBuckets), 'float32');
    const values = matMul(oneHot, this.params.get(table)); // [queries*keys, heads]
    return tf.reshape(tf.transpose(tf.reshape(values, [queries, keys, heads]), [2, 0, 1]), [1, heads, queries, keys]);
  }

  private norm(x: tf.Tensor, name: string): tf.Tensor2D {
    return rmsNorm(x, this.params.get(name), this.config.layerNormEps) as tf.Tensor2D;
  }

  /** Multi-head attention of rows `xq` `[batch*tq, d]` over precomputed keys and values. */
  private attention(
    xq: tf.Tensor2D,
    memory: CrossMemory,
    p: string,
    batch: number,
    tq: number,
    bias: tf.Tensor,
    drop: Dropout,
  ): tf.Tensor2D {
    const q = splitHeads(matMul(xq, this.params.get(`${p}/q`)), batch, tq, this.config.heads);
    const mixed = attend(q, memory.k, memory.v, { scale: 1, bias, ...(drop ? { dropout: drop } : {}) });
    return matMul(mergeHeads(mixed), this.params.get(`${p}/o`)) as tf.Tensor2D;
  }

  private keysValues(x: tf.Tensor2D, p: string, batch: number, time: number): CrossMemory {
    const { heads } = this.config;
    return {
      k: splitHeads(matMul(x, this.params.get(`${p}/k`)), batch, time, heads),
      v: splitHeads(matMul(x, this.params.get(`${p}/v`)), batch, time, heads),
    };
  }

  private feedForward(x: tf.Tensor2D, p: string, drop: Dropout): tf.Tensor2D {
    let hidden: tf.Tensor;
    if (this.config.feedForward === 'relu') hidden = tf.relu(matMul(x, this.params.get(`${p}/wi`)));
    else hidden = tf.mul(gelu(matMul(x, this.params.get(`${p}/wi0`))), matMul(x, this.params.get(`${p}/wi1`)));
    if (drop) hidden = drop(hidden);
    return matMul(hidden, this.params.get(`${p}/wo`)) as tf.Tensor2D;
  }

  private residual(x: tf.Tensor2D, branch: tf.Tensor2D, drop: Dropout): tf.Tensor2D {
    return tf.add(x, drop ? drop(branch) : branch) as tf.Tensor2D;
  }

  /** Encoder output `[batch*time, d]`, after the final norm. */
  private encode(ids: tf.Tensor2D, mask: tf.Tensor2D, drop: Dropout): tf.Tensor2D {
    const [batch, time] = ids.shape;
    let x = tf.gather(this.params.get('shared'), tf.reshape(ids, [-1])) as tf.Tensor2D;
    if (drop) x = drop(x) as tf.Tensor2D;
    // Computed once, in the first block's terms, and shared by all blocks, as in Hugging Face.
    const bias = tf.add(this.positionBias('enc/rel_bias', time, time, true), paddingBias(mask));
    for (let i = 0; i < this.config.encoderLayers; i++) {
      const b = `enc/b${i}`;
      const h = this.norm(x, `${b}/ln1`);
      x = this.residual(
        x,
        this.attention(h, this.keysValues(h, `${b}/attn`, batch, time), `${b}/attn`, batch, time, bias, drop),
        drop,
      );
      x = this.residual(x, this.feedForward(this.norm(x, `${b}/ln2`), `${b}/ff`, drop), drop);
    }
    const out = this.norm(x, 'enc/ln_f');
    return drop ? (drop(out) as tf.Tensor2D) : out;
  }

  /** Cross-attention keys and values of every decoder block, from the encoder output. */
  private crossMemory(encoded: tf.Tensor2D, batch: number, time: number): CrossMemory[] {
    return Array.from({ length: this.config.decoderLayers }, (_, i) =>
      this.keysValues(encoded, `dec/b${i}/cross`, batch, time),
    );
  }

  /** Decoder output `[batch*time, d]`, after the final norm. */
  private decode(
    ids: tf.Tensor2D,
    mask: tf.Tensor2D,
    memory: readonly CrossMemory[],
    encMask: tf.Tensor2D,
    drop: Dropout,
  ): tf.Tensor2D {
    const [batch, time] = ids.shape;
    let y = tf.gather(this.params.get('shared'), tf.reshape(ids, [-1])) as tf.Tensor2D;
    if (drop) y = drop(y) as tf.Tensor2D;
    // Right padding never reaches a real position through the causal mask; the padding mask
    // keeps padded positions themselves off later padding too, as Hugging Face's combined mask.
    const selfBias = tf.add(
      tf.add(this.positionBias('dec/rel_bias', time, time, false), causalBias(time)),
      paddingBias(mask),
    );
    const crossBias = paddingBias(encMask);
    for (let i = 0; i < this.config.decoderLayers; i++) {
      const b = `dec/b${i}`;
      const h = this.norm(y, `${b}/ln1`);
      y = this.residual(
        y,
        this.attention(h, this.keysValues(h, `${b}/self`, batch, time), `${b}/self`, batch, time, selfBias, drop),
        drop,
      );
      y = this.residual(
        y,
        this.attention(this.norm(y, `${b}/ln2`), memory[i]!, `${b}/cross`, batch, time, crossBias, drop),
        drop,
      );
      y = this.residual(y, this.feedForward(this.norm(y, `${b}/ln3`), `${b}/ff`, drop), drop);
    }
    const out = this.norm(y, 'dec/ln_f');
    return drop ? (drop(out) as tf.Tensor2D) : out;
  }

  /** Vocabulary logits of decoder rows `[n, d]`. */
  private project(h: tf.Tensor2D): tf.Tensor2D {
    if (!this.config.tieEmbeddings) return matMul(h, this.params.get('lm_head')) as tf.Tensor2D;
    // Tied (v1.0): rescale so that unit-variance embeddings give unit-scale logits. The explicit
    // transpose keeps the matmul fast on wasm.
    return matMul(tf.mul(h, this.config.dModel ** -0.5), tf.transpose(this.params.get('shared'))) as tf.Tensor2D;
  }

  /**
   * Decoder logits `[batch, decTime, vocab]` for encoder ids and mask and decoder input ids and
   * mask (right-padded, decoder input starting with pad), without dropout: T5ForConditionalGeneration's
   * `logits` for `input_ids`, `attention_mask`, `decoder_input_ids`, `decoder_attention_mask`.
   */
  logits(encIds: tf.Tensor2D, encMask: tf.Tensor2D, decIds: tf.Tensor2D, decMask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, encTime] = encIds.shape;
      const decTime = decIds.shape[1];
      const encoded = this.encode(encIds, encMask, undefined);
      const h = this.decode(decIds, decMask, this.crossMemory(encoded, batch, encTime), encMask, undefined);
      return tf.reshape(this.project(h), [batch, decTime, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * Per-position cross-entropy `[batch*targetTime]` of the targets under teacher forcing, and the
   * weights (1 on real target tokens). Each target is fed shifted right behind the start token.
   */
  private teacherForced(
    encIds: tf.Tensor2D,
    encMask: tf.Tensor2D,
    targets: readonly (readonly number[])[],
    options: ForwardOptions | undefined,
  ): { nll: tf.Tensor1D; weights: tf.Tensor1D } {
    const padId = this.special.pad;
    const [batch, encTime] = encIds.shape;
    const t = pad(targets, padId);
    const inputs = new Int32Array(t.ids.length).fill(padId);
    targets.forEach((target, r) => {
      for (let j = 1; j < target.length; j++) inputs[r * t.time + j] = target[j - 1]!;
    });
    const drop = this.dropout(options);
    const encoded = this.encode(encIds, encMask, drop);
    const decMask = tf.tensor2d(t.mask, [t.rows, t.time]);
    const h = this.decode(
      tf.tensor2d(inputs, [t.rows, t.time], 'int32'),
      decMask,
      this.crossMemory(encoded, batch, encTime),
      encMask,
      drop,
    );
    const nll = sparseCrossEntropy(this.project(h), tf.tensor1d(t.ids, 'int32'));
    return { nll, weights: tf.reshape(decMask, [-1]) as tf.Tensor1D };
  }

  /** Mean over real target tokens, as Hugging Face's loss with -100 on padding. */
  private static meanOver(nll: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
    return tf.div(tf.sum(tf.mul(nll, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  }

  classificationLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor1D, options?: ForwardOptions): tf.Scalar {
    this.checkContext(ids);
    const classes = Array.from(hostValues(labels));
    if (classes.length !== ids.shape[0]) throw new Error(`${classes.length} labels for ${ids.shape[0]} rows`);
    const targets = classes.map((c) => {
      const target = this.labelTargets[c];
      if (target === undefined) throw new Error(`label ${c} is outside [0, ${this.numClasses})`);
      return target;
    });
    const { nll, weights } = this.teacherForced(ids, mask, targets, options);
    return T5.meanOver(nll, weights);
  }

  /**
   * Greedy decoding, batched over rows: the encoder runs once, the decoder on the growing prefix
   * (cheap at label lengths), for at most the longest label's length. A row stops at eos; its
   * generated tokens, eos included, must equal one class's label target exactly, else -1.
   */
  async predictClasses(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<number[]> {
    this.checkContext(ids);
    const [batch, encTime] = ids.shape;
    const { dModel: d } = this.config;
    const steps = Math.max(...this.labelTargets.map((t) => t.length));
    const memory = tf.tidy(() => this.crossMemory(this.encode(ids, mask, undefined), batch, encTime));
    const prefixes = Array.from({ length: batch }, () => [this.special.pad]);
    const generated = Array.from({ length: batch }, (): number[] => []);
    const done = new Array<boolean>(batch).fill(false);
    try {
      for (let s = 1; s <= steps && !done.every(Boolean); s++) {
        const next = tf.tidy(() => {
          const decIds = tf.tensor2d(prefixes.flat(), [batch, s], 'int32');
          const h = this.decode(decIds, tf.ones([batch, s]) as tf.Tensor2D, memory, mask, undefined);
          const last = tf.reshape(tf.slice(tf.reshape(h, [batch, s, d]), [0, s - 1, 0], [batch, 1, d]), [
            batch,
            d,
          ]) as tf.Tensor2D;
          return tf.argMax(this.project(last), 1);
        });
        const tokens = await next.data();
        next.dispose();
        for (let r = 0; r < batch; r++) {
          const token = tokens[r]!;
          prefixes[r]!.push(token);
          if (done[r]) continue;
          generated[r]!.push(token);
          if (token === this.eos) done[r] = true;
        }
      }
    } finally {
      tf.dispose(memory.flatMap((m) => [m.k, m.v]));
    }
    return generated.map((g) => this.labelIndex.get(g.join(',')) ?? -1);
  }

  /** The corrupted batch of each row's real tokens (its trailing eos kept out of the noise). */
  private corrupt(ids: tf.Tensor2D, mask: tf.Tensor2D, seed: number): { inputs: number[][]; targets: number[][] } {
    const sentinels = this.special.sentinels;
    if (sentinels === undefined || sentinels.length === 0) {
      throw new Error(
        'T5 span corruption needs sentinel tokens (special.sentinels, <extra_id_0>, <extra_id_1>, ...); none were given',
      );
    }
    const [batch, time] = ids.shape;
    const idv = hostValues(ids);
    const mv = hostValues(mask);
    const rows = Array.from({ length: batch }, (_, r) => Array.from(idv.subarray(r * time, (r + 1) * time)));
    const weights = Array.from({ length: batch }, (_, r) => mv.subarray(r * time, (r + 1) * time));
    const rng = new Rng(seed).fork('span-corruption');
    const inputs: number[][] = [];
    const targets: number[][] = [];
    rows.forEach((row, r) => {
      let n = 0;
      while (n < row.length && weights[r]![n]! > 0.5) n++;
      // A window cut from a longer text may lack the eos; corruption adds one either way.
      const text = row.slice(0, n > 0 && row[n - 1] === this.eos ? n - 1 : n);
      const { input, target } = corruptSpans(text, sentinels, this.eos, rng);
      inputs.push(input);
      targets.push(target);
    });
    return { inputs, targets };
  }

  private spanCorruptionNll(
    ids: tf.Tensor2D,
    mask: tf.Tensor2D,
    options: ForwardOptions | undefined,
  ): { nll: tf.Tensor1D; weights: tf.Tensor1D } {
    this.checkContext(ids);
    const { inputs, targets } = this.corrupt(ids, mask, options?.dropoutSeed ?? EVAL_CORRUPTION_SEED);
    const enc = pad(inputs, this.special.pad);
    const encIds = tf.tensor2d(enc.ids, [enc.rows, enc.time], 'int32');
    const encMask = tf.tensor2d(enc.mask, [enc.rows, enc.time]);
    return this.teacherForced(encIds, encMask, targets, options);
  }

  /**
   * Span corruption (Raffel et al., 2020): the mean cross-entropy over the batch's real target
   * tokens. Corruption is drawn from `options.dropoutSeed`, or the fixed evaluation seed.
   */
  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar {
    const { nll, weights } = this.spanCorruptionNll(ids, mask, options);
    return T5.meanOver(nll, weights);
  }

  async heldOutNll(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<HeldOutNll> {
    const [sum, count] = tf.tidy(() => {
      const { nll, weights } = this.spanCorruptionNll(ids, mask, undefined);
      return [tf.sum(tf.mul(nll, weights)), tf.sum(weights)];
    });
    const out = { nll: (await sum!.data())[0]!, tokens: Math.round((await count!.data())[0]!) };
    tf.dispose([sum!, count!]);
    return out;
  }

  /**
   * - `all`: every parameter;
   * - `head`: the decoder's final norm and the output projection: `lm_head`, or when tied the
   *   shared embedding (which then also moves the inputs of both stacks). Text-to-text has no
   *   separate classification head; this is the part that maps decoder states to label tokens.
   * - `last-N`: the last N blocks of the encoder and of the decoder (all of a stack with fewer),
   *   both final norms and the head above; a stack's relative-bias table only when its first
   *   block is included, since it lives there.
   */
  trainableVariables(subset: ParamSubset): tf.Variable[] {
    const { encoderLayers, decoderLayers, tieEmbeddings } = this.config;
    const head = new Set(['dec/ln_f', tieEmbeddings ? 'shared' : 'lm_head']);
    let keep: (name: string) => boolean;
    if (subset === 'all') keep = () => true;
    else if (subset === 'head') keep = (name) => head.has(name);
    else {
      const n = Number(subset.slice('last-'.length));
      if (!Number.isInteger(n) || n < 1) throw new Error(`bad parameter subset "${subset}"`);
      const most = Math.max(encoderLayers, decoderLayers);
      if (n > most)
        throw new Error(
          `parameter subset "${subset}" asks for ${n} blocks but the model's stacks have ${encoderLayers} (encoder) and ${decoderLayers} (decoder)`,
        );
      const first = { enc: Math.max(0, encoderLayers - n), dec: Math.max(0, decoderLayers - n) };
      keep = (name) => {
        if (head.has(name) || name === 'enc/ln_f') return true;
        const table = /^(enc|dec)\/rel_bias$/.exec(name);
        if (table) return first[table[1] as 'enc' | 'dec'] === 0;
        const block = /^(enc|dec)\/b(\d+)\//.exec(name);
        return block !== null && Number(block[2]) >= first[block[1] as 'enc' | 'dec'];
      };
    }
    return this.params.select(keep);
  }
}
