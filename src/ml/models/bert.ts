import * as tf from '@tensorflow/tfjs-core';
import { attend, mergeHeads, paddingBias, splitHeads } from '../ops/attention.ts';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';
import { geluErf } from '../ops/gelu-erf.ts';
import { layerNorm } from '../ops/layer-norm.ts';
import { matMul } from '../ops/matmul.ts';
import { hostValues } from '../host-inputs.ts';
import { Rng } from '../rng.ts';
import { type BertConfig, validateBertConfig } from './bert-config.ts';
import { HeadClassifier } from './classifier-head.ts';
import type { ForwardOptions, HeldOutNll, LanguageModel, ParamSubset, SpecialTokens } from './language-model.ts';
import type { Dropout } from './model-base.ts';
import { stackSubset } from './parameters.ts';

/** Share of the eligible tokens a masked-LM step predicts (Devlin et al., 2019, section 3.1). */
const MLM_RATE = 0.15;

/**
 * Seed of the masking when no training seed is given, so that a validation MLM loss is the same
 * number each time it is computed. Any fixed value would do.
 */
const FIXED_MASKING_SEED = 2019;

/**
 * Token budget (copies x positions) of one forward pass when scoring the pseudo-log-likelihood:
 * enough to amortise per-op overhead, small enough that the attention scores of a chunk stay in
 * tens of megabytes.
 */
const PLL_TOKENS_PER_FORWARD = 4096;

/** A masked-LM corruption of a batch: the ids the encoder sees and what it must recover where. */
export interface MlmPlan {
  /** The corrupted ids, row-major `[batch, time]`. */
  ids: Int32Array;
  /** Flat indices `row * time + column` of the predicted positions, ascending. */
  positions: Int32Array;
  /** The original token at each predicted position. */
  targets: Int32Array;
}

export interface MlmMaskingOptions {
  maskId: number;
  vocabSize: number;
  /** Ids never selected for prediction: the special tokens. */
  excluded: ReadonlySet<number>;
  /** Share of eligible tokens to predict; BERT's 0.15 by default. */
  rate?: number;
}

/**
 * BERT's masked-LM corruption (Devlin et al., 2019; `create_pretraining_data.py` of the original
 * release): per row, round(15%) of the real, non-special tokens, at least one when the row has
 * any, chosen uniformly without replacement; of those, 80% become the mask token, 10% a token
 * drawn uniformly from the vocabulary, 10% stay as they are, and all of them are predicted.
 * Choosing an exact count per row, as the original did rather than a per-token coin as Hugging
 * Face's collator does, guarantees every row a target and keeps the loss's denominator steady.
 * Plain JavaScript over the ids: a few random draws per row, cheap next to the forward pass.
 */
export function planMaskedLm(
  ids: ArrayLike<number>,
  mask: ArrayLike<number>,
  batch: number,
  time: number,
  options: MlmMaskingOptions,
  rng: Rng,
): MlmPlan {
  if (ids.length !== batch * time || mask.length !== batch * time)
    throw new Error(`masked-LM plan: ids and mask must have ${batch} x ${time} values`);
  const rate = options.rate ?? MLM_RATE;
  const out = Int32Array.from(ids);
  const positions: number[] = [];
  const targets: number[] = [];
  const eligible: number[] = [];
  for (let r = 0; r < batch; r++) {
    eligible.length = 0;
    for (let j = 0; j < time; j++) {
      const at = r * time + j;
      if (mask[at]! > 0 && !options.excluded.has(ids[at]!)) eligible.push(at);
    }
    const n = eligible.length;
    if (n === 0) continue;
    const k = Math.min(n, Math.max(1, Math.round(rate * n)));
    // Partial Fisher-Yates: the first k entries become a uniform sample without replacement.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng.uniform() * (n - i));
      [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
    }
    const chosen = eligible.slice(0, k).sort((a, b) => a - b);
    for (const at of chosen) {
      positions.push(at);
      targets.push(ids[at]!);
      const u = rng.uniform();
      if (u < 0.8) out[at] = options.maskId;
      else if (u < 0.9) out[at] = Math.floor(rng.uniform() * options.vocabSize);
    }
  }
  return { ids: out, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
}

/**
 * A BERT encoder (Devlin et al., 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
 * Language Understanding") laid out as Hugging Face's BertModel, so a converted checkpoint gives
 * the same numbers as in PyTorch: word + learned position + token-type embeddings (every input is
 * segment 0), a layer norm and dropout; post-layer-norm blocks (Vaswani et al., 2017) of
 * bidirectional multi-head self-attention, whose keys exclude padding, and an exact-GELU
 * feed-forward layer; layer norms with epsilon 1e-12. The pooler (dense + tanh over the first
 * token, `cls`) feeds a linear classifier through dropout, as BertForSequenceClassification. The
 * masked-LM head is BertForMaskedLM's: dense + GELU + layer norm, then a decoder tied to the word
 * embeddings plus a bias of its own.
 *
 * Pre-training is masked-LM only: next-sentence prediction needs sentence pairs, which the study's
 * texts do not come in, and RoBERTa (Liu et al., 2019) found dropping it harmless.
 *
 * Initialisation follows BERT: weights N(0, 0.02) truncated at two standard deviations (the
 * original TensorFlow release), biases zero, layer-norm gains one, the padding token's embedding
 * zero (as Hugging Face's `padding_idx`). Each tensor's values come from a seed derived from
 * (seed, tensor name).
 */
export class Bert extends HeadClassifier<BertConfig> implements LanguageModel {
  readonly family = 'bert' as const;
  readonly special: Readonly<SpecialTokens>;
  private readonly maskId: number;
  /** Special ids: never masked in pre-training, never scored in the pseudo-log-likelihood. */
  private readonly excluded: ReadonlySet<number>;

  constructor(config: BertConfig, special: SpecialTokens, seed: number) {
    validateBertConfig(config);
    const missing = (['pad', 'mask', 'cls'] as const).filter((k) => special[k] === undefined);
    if (missing.length > 0)
      throw new Error(`BERT needs the special tokens pad, mask and cls; missing: ${missing.join(', ')}`);
    const ids: [string, number][] = [];
    for (const key of ['pad', 'unk', 'bos', 'eos', 'cls', 'sep', 'mask'] as const) {
      const id = special[key];
      if (id !== undefined) ids.push([key, id]);
    }
    (special.sentinels ?? []).forEach((id, i) => ids.push([`sentinels[${i}]`, id]));
    for (const [key, id] of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize)
        throw new Error(`BERT special token ${key} = ${id} is outside the vocabulary [0, ${config.vocabSize})`);
    }
    super(config, 'BERT');
    this.special = Object.freeze(
      special.sentinels ? { ...special, sentinels: [...special.sentinels] } : { ...special },
    );
    this.maskId = special.mask!;
    this.excluded = new Set(ids.map(([, id]) => id));

    const init = new Rng(seed).fork('init');
    const { vocabSize, contextLength, typeVocabSize, layers, dModel: d, dFF, numClasses } = config;
    const pad = special.pad;
    this.params.add(
      'emb/word',
      tf.tidy(() => {
        const values = tf.truncatedNormal([vocabSize, d], 0, 0.02, 'float32', init.fork('emb/word').tfSeed());
        const keep = tf.sub(1, tf.reshape(tf.oneHot(tf.tensor1d([pad], 'int32'), vocabSize), [vocabSize, 1]));
        return tf.mul(values, keep);
      }),
    );
    this.params.normal('emb/pos', [contextLength, d], 0.02, init);
    this.params.normal('emb/type', [typeVocabSize, d], 0.02, init);
    this.params.constant('emb/ln/g', [d], 1);
    this.params.constant('emb/ln/b', [d], 0);
    for (let i = 0; i < layers; i++) {
      const l = `l${i}`;
      for (const p of ['q', 'k', 'v', 'out']) this.dense(`${l}/attn/${p}`, d, d, init);
      this.params.constant(`${l}/attn/ln/g`, [d], 1);
      this.params.constant(`${l}/attn/ln/b`, [d], 0);
      this.dense(`${l}/ffn/in`, d, dFF, init);
      this.dense(`${l}/ffn/out`, dFF, d, init);
      this.params.constant(`${l}/ffn/ln/g`, [d], 1);
      this.params.constant(`${l}/ffn/ln/b`, [d], 0);
    }
    this.dense('pool', d, d, init);
    this.dense('mlm/dense', d, d, init);
    this.params.constant('mlm/ln/g', [d], 1);
    this.params.constant('mlm/ln/b', [d], 0);
    this.params.constant('mlm/bias', [vocabSize], 0);
    this.dense('cls', d, numClasses, init);
  }

  /** A Linear layer: `name/w` `[in, out]` and `name/b` `[out]`. */
  private dense(name: string, inputs: number, outputs: number, init: Rng): void {
    this.params.normal(`${name}/w`, [inputs, outputs], 0.02, init);
    this.params.constant(`${name}/b`, [outputs], 0);
  }

  private linear(x: tf.Tensor, name: string): tf.Tensor {
    return tf.add(matMul(x, this.params.get(`${name}/w`)), this.params.get(`${name}/b`));
  }

  private norm(x: tf.Tensor, name: string): tf.Tensor {
    return layerNorm(x, this.params.get(`${name}/g`), this.params.get(`${name}/b`), this.config.layerNormEps);
  }

  /**
   * Hidden states of the encoder's last layer: `[batch*time, d]` for every position, or `[n, d]`
   * for the flat positions `row * time + column` in `only`, ascending. Every objective reads few
   * positions (the first token, the masked ones), and in the last layer a position's output
   * depends on the other positions only through their keys and values: the queries, the
   * attention output, the feed-forward layer and both layer norms can skip the rest. With two
   * layers that is a large share of a step's work; results agree to rounding.
   */
  private hidden(ids: tf.Tensor2D, mask: tf.Tensor2D, drop: Dropout, only?: Int32Array): tf.Tensor2D {
    const [batch, time] = ids.shape;
    const { dModel: d, layers } = this.config;
    this.checkContext(ids);
    if (mask.shape[0] !== batch || mask.shape[1] !== time)
      throw new Error(`mask has shape [${mask.shape.join(', ')}] but the ids have [${batch}, ${time}]`);

    // Hugging Face's order of additions: (word + type) + position.
    const words = tf.reshape(tf.gather(this.params.get('emb/word'), tf.reshape(ids, [-1])), [batch, time, d]);
    const type0 = tf.slice(this.params.get('emb/type'), [0, 0], [1, d]);
    const positions = tf.slice(this.params.get('emb/pos'), [0, 0], [time, d]);
    let x = tf.reshape(tf.add(tf.add(words, type0), positions), [batch * time, d]) as tf.Tensor2D;
    x = this.norm(x, 'emb/ln') as tf.Tensor2D;
    if (drop) x = drop(x) as tf.Tensor2D;

    const keyBias = paddingBias(mask);
    for (let i = 0; i < layers - 1; i++) x = this.block(i, x, batch, time, keyBias, drop);
    if (only === undefined) return this.block(layers - 1, x, batch, time, keyBias, drop);
    // The last layer's queries, grouped by row and padded to the most any row has, so that they
    // attend over their own row's keys and values as they are: [batch, perRow] query slots,
    // spare slots filled with the row's first position and dropped at the end.
    const counts = new Int32Array(batch);
    for (let i = 0; i < only.length; i++) {
      const at = only[i]!;
      if (!(at >= 0 && at < batch * time) || (i > 0 && !(at > only[i - 1]!)))
        throw new Error('BERT: positions to read must be ascending, distinct and inside the batch');
      counts[Math.floor(at / time)]! += 1;
    }
    const perRow = Math.max(1, ...counts);
    const slots = new Int32Array(batch * perRow);
    const keep = new Int32Array(only.length);
    let next = 0;
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < perRow; j++) {
        if (j < counts[r]!) {
          keep[next] = r * perRow + j;
          slots[r * perRow + j] = only[next++]!;
        } else slots[r * perRow + j] = r * time;
      }
    }
    const out = this.block(layers - 1, x, batch, time, keyBias, drop, { slots: tf.tensor1d(slots, 'int32'), perRow });
    return keep.length === slots.length ? out : tf.gather(out, tf.tensor1d(keep, 'int32'));
  }

  /**
   * One post-layer-norm block (Devlin et al., 2019; as transformers' BertLayer): x = LN(x +
   * drop(attention(x))), then x = LN(x + drop(FFN(x))), attention scaled by 1/sqrt(dh) with
   * padding keys masked out. With `queries`, only `perRow` positions of each row are computed,
   * the flat positions `slots` `[batch * perRow]`; the output is then `[batch * perRow, d]`.
   */
  private block(
    i: number,
    x: tf.Tensor2D,
    batch: number,
    time: number,
    keyBias: tf.Tensor4D,
    drop: Dropout,
    queries?: { slots: tf.Tensor1D; perRow: number },
  ): tf.Tensor2D {
    const l = `l${i}`;
    const heads = this.config.heads;
    const maybeDrop = (t: tf.Tensor): tf.Tensor => (drop ? drop(t) : t);
    const xq = queries ? tf.gather(x, queries.slots) : x;
    const q = splitHeads(this.linear(xq, `${l}/attn/q`), batch, queries ? queries.perRow : time, heads);
    const k = splitHeads(this.linear(x, `${l}/attn/k`), batch, time, heads);
    const v = splitHeads(this.linear(x, `${l}/attn/v`), batch, time, heads);
    const context = mergeHeads(
      attend(q, k, v, { scale: 1 / Math.sqrt(this.config.dModel / heads), bias: keyBias, dropout: drop }),
    );
    const h = this.norm(tf.add(maybeDrop(this.linear(context, `${l}/attn/out`)), xq), `${l}/attn/ln`);
    const inner = geluErf(this.linear(h, `${l}/ffn/in`));
    return this.norm(tf.add(maybeDrop(this.linear(inner, `${l}/ffn/out`)), h), `${l}/ffn/ln`) as tf.Tensor2D;
  }

  /** Masked-LM logits `[rows, vocab]` of hidden states `[rows, d]`. */
  private mlmHead(h: tf.Tensor): tf.Tensor2D {
    const t = this.norm(geluErf(this.linear(h, 'mlm/dense')), 'mlm/ln');
    // The decoder is the word embedding matrix; transposing explicitly keeps the matmul fast on wasm.
    return tf.add(matMul(t, tf.transpose(this.params.get('emb/word'))), this.params.get('mlm/bias')) as tf.Tensor2D;
  }

  /** Flat indices of each row's first token (`cls`): what the pooler reads. */
  private static firstTokens(batch: number, time: number): Int32Array {
    return Int32Array.from({ length: batch }, (_, r) => r * time);
  }

  /** Unnormalised class scores `[batch, numClasses]` from the pooled first token. */
  classLogits(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, time] = ids.shape;
      const drop = this.dropout(options);
      const first = this.hidden(ids, mask, drop, Bert.firstTokens(batch, time));
      const pooled = tf.tanh(this.linear(first, 'pool'));
      return this.linear(drop ? drop(pooled) : pooled, 'cls') as tf.Tensor2D;
    });
  }

  /** Masked-LM logits `[batch, time, vocab]` at every position, without dropout. */
  mlmLogits(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, time] = ids.shape;
      return tf.reshape(this.mlmHead(this.hidden(ids, mask, undefined)), [
        batch,
        time,
        this.config.vocabSize,
      ]) as tf.Tensor3D;
    });
  }

  /** The masking `lmLoss` applies to a batch with these options (the same seed gives the same plan). */
  maskingPlan(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): MlmPlan {
    const [batch, time] = ids.shape;
    const rng = new Rng(options?.dropoutSeed ?? FIXED_MASKING_SEED).fork('mlm');
    return planMaskedLm(
      hostValues(ids),
      hostValues(mask),
      batch,
      time,
      { maskId: this.maskId, vocabSize: this.config.vocabSize, excluded: this.excluded },
      rng,
    );
  }

  /**
   * Masked-LM loss: mean cross-entropy over the positions `planMaskedLm` selects. The ids are not
   * differentiated, so reading them back to plan the masking costs one small copy per step.
   */
  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar {
    const plan = this.maskingPlan(ids, mask, options);
    return tf.tidy(() => {
      const [batch, time] = ids.shape;
      const corrupted = tf.tensor2d(plan.ids, [batch, time], 'int32');
      // Without a single eligible token there is nothing to predict: a zero that still depends
      // on the parameters, so that a gradient step sees a zero gradient rather than failing.
      const empty = plan.positions.length === 0;
      const positions = empty ? Int32Array.of(0) : plan.positions;
      const targets = empty ? Int32Array.of(0) : plan.targets;
      const logits = this.mlmHead(this.hidden(corrupted, mask, this.dropout(options), positions));
      const nll = sparseCrossEntropy(logits, tf.tensor1d(targets, 'int32'));
      return (empty ? tf.mul(tf.sum(nll), 0) : tf.mean(nll)) as tf.Scalar;
    });
  }

  /**
   * Pseudo-log-likelihood (Salazar et al., 2020, "Masked Language Model Scoring"): each real,
   * non-special token is masked in turn in its own copy of the row and scored by the MLM head;
   * nll sums -log p(original token) and tokens counts the scored positions. All copies are batched
   * into a few forward passes, each cut to the longest row it holds; `tokensPerForward` bounds a
   * pass's copies x positions (memory), without changing the result.
   */
  async heldOutNll(
    ids: tf.Tensor2D,
    mask: tf.Tensor2D,
    options: { tokensPerForward?: number } = {},
  ): Promise<HeldOutNll> {
    const [batch, time] = ids.shape;
    const idv = hostValues(ids);
    const mv = hostValues(mask);
    const copies: { row: number; column: number; length: number }[] = [];
    for (let r = 0; r < batch; r++) {
      let length = 0;
      for (let j = 0; j < time; j++) if (mv[r * time + j]! > 0) length = j + 1;
      for (let j = 0; j < length; j++) {
        const at = r * time + j;
        if (mv[at]! > 0 && !this.excluded.has(idv[at]!)) copies.push({ row: r, column: j, length });
      }
    }
    const perForward = Math.max(
      1,
      Math.floor((options.tokensPerForward ?? PLL_TOKENS_PER_FORWARD) / Math.max(1, time)),
    );
    let nll = 0;
    for (let start = 0; start < copies.length; start += perForward) {
      const part = copies.slice(start, start + perForward);
      const width = Math.max(...part.map((c) => c.length));
      const n = part.length;
      const chunkIds = new Int32Array(n * width);
      const chunkMask = new Float32Array(n * width);
      const picks = new Int32Array(n);
      const targets = new Int32Array(n);
      part.forEach((c, i) => {
        for (let j = 0; j < width; j++) {
          chunkIds[i * width + j] = idv[c.row * time + j]!;
          chunkMask[i * width + j] = mv[c.row * time + j]!;
        }
        chunkIds[i * width + c.column] = this.maskId;
        picks[i] = i * width + c.column;
        targets[i] = idv[c.row * time + c.column]!;
      });
      const sum = tf.tidy(() => {
        const h = this.hidden(
          tf.tensor2d(chunkIds, [n, width], 'int32'),
          tf.tensor2d(chunkMask, [n, width], 'float32'),
          undefined,
          picks,
        );
        const logits = this.mlmHead(h);
        return tf.sum(sparseCrossEntropy(logits, tf.tensor1d(targets, 'int32')));
      });
      nll += (await sum.data())[0]!;
      sum.dispose();
    }
    return { nll, tokens: copies.length };
  }

  /**
   * `all`: every parameter; `head`: the classifier (`cls/*`) alone; `last-N`: the last N blocks,
   * the pooler and the classifier. The masked-LM head never serves classification, so only `all`
   * includes it (where it receives no gradient during fine-tuning).
   */
  trainableVariables(subset: ParamSubset): tf.Variable[] {
    return this.params.select(
      stackSubset(subset, { layers: this.config.layers, head: 'cls/', top: 'pool/', block: 'l' }),
    );
  }
}
