import * as tf from '@tensorflow/tfjs-core';
import { hostValues } from '../host-inputs.ts';
import { Rng } from '../rng.ts';
import { causalSelfAttention } from '../ops/causal-self-attention.ts';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';
import { gelu } from '../ops/gelu.ts';
import { layerNorm } from '../ops/layer-norm.ts';
import { matMul } from '../ops/matmul.ts';
import { type GptConfig, validateGptConfig } from './gpt-config.ts';
import { HeadClassifier } from './classifier-head.ts';
import type { ForwardOptions, HeldOutNll, LanguageModel, ParamSubset } from './language-model.ts';
import { stackSubset } from './parameters.ts';

/**
 * A GPT-2-style decoder (Radford et al., 2019): token and learned position embeddings,
 * pre-layer-norm blocks of causal multi-head self-attention and a GELU MLP, a final layer norm,
 * and a language-model head tied to the token embeddings. Classification reads the hidden state
 * of each sequence's last real token, which under a causal mask is the only one that has seen
 * the whole text, through a linear head.
 *
 * Initialisation follows GPT-2: weights N(0, 0.02) (truncated at two standard deviations), the
 * projections that write into the residual stream scaled by 1/sqrt(2 x layers), biases zero,
 * layer-norm gains one. Each tensor's values come from a seed derived from (seed, tensor name).
 */
export class Gpt extends HeadClassifier<GptConfig> implements LanguageModel {
  readonly family = 'gpt' as const;

  constructor(config: GptConfig, seed: number) {
    validateGptConfig(config);
    super(config, 'GPT');
    const init = new Rng(seed).fork('init');
    const { vocabSize, contextLength, layers, dModel: d, dFF, numClasses } = config;
    const residualStd = 0.02 / Math.sqrt(2 * layers);
    this.params.normal('wte', [vocabSize, d], 0.02, init);
    this.params.normal('wpe', [contextLength, d], 0.01, init);
    for (let i = 0; i < layers; i++) {
      const h = `h${i}`;
      this.params.constant(`${h}/ln1/g`, [d], 1);
      this.params.constant(`${h}/ln1/b`, [d], 0);
      this.params.normal(`${h}/attn/qkv/w`, [d, 3 * d], 0.02, init);
      this.params.constant(`${h}/attn/qkv/b`, [3 * d], 0);
      this.params.normal(`${h}/attn/proj/w`, [d, d], residualStd, init);
      this.params.constant(`${h}/attn/proj/b`, [d], 0);
      this.params.constant(`${h}/ln2/g`, [d], 1);
      this.params.constant(`${h}/ln2/b`, [d], 0);
      this.params.normal(`${h}/mlp/fc/w`, [d, dFF], 0.02, init);
      this.params.constant(`${h}/mlp/fc/b`, [dFF], 0);
      this.params.normal(`${h}/mlp/proj/w`, [dFF, d], residualStd, init);
      this.params.constant(`${h}/mlp/proj/b`, [d], 0);
    }
    this.params.constant('lnf/g', [d], 1);
    this.params.constant('lnf/b', [d], 0);
    this.params.normal('cls/w', [d, numClasses], 0.02, init);
    this.params.constant('cls/b', [numClasses], 0);
  }

  /** Final hidden states `[batch*time, d]` after the last layer norm. */
  private hidden(ids: tf.Tensor2D, options: ForwardOptions | undefined): tf.Tensor2D {
    const [batch, time] = ids.shape;
    const { dModel: d, heads, layers } = this.config;
    this.checkContext(ids);
    const drop = this.dropout(options);
    const maybeDrop = (t: tf.Tensor): tf.Tensor => (drop ? drop(t) : t);

    const tokens = tf.gather(this.params.get('wte'), tf.reshape(ids, [-1]));
    const positions = tf.slice(this.params.get('wpe'), [0, 0], [time, d]);
    let x = tf.reshape(tf.add(tf.reshape(tokens, [batch, time, d]), positions), [batch * time, d]) as tf.Tensor2D;
    x = maybeDrop(x) as tf.Tensor2D;
    for (let i = 0; i < layers; i++) {
      const h = `h${i}`;
      const attended = causalSelfAttention(
        layerNorm(x, this.params.get(`${h}/ln1/g`), this.params.get(`${h}/ln1/b`)) as tf.Tensor2D,
        batch,
        time,
        heads,
        {
          qkvW: this.params.get(`${h}/attn/qkv/w`),
          qkvB: this.params.get(`${h}/attn/qkv/b`),
          projW: this.params.get(`${h}/attn/proj/w`),
          projB: this.params.get(`${h}/attn/proj/b`),
        },
        drop,
      );
      x = tf.add(x, maybeDrop(attended)) as tf.Tensor2D;
      const normed = layerNorm(x, this.params.get(`${h}/ln2/g`), this.params.get(`${h}/ln2/b`));
      const inner = gelu(tf.add(matMul(normed, this.params.get(`${h}/mlp/fc/w`)), this.params.get(`${h}/mlp/fc/b`)));
      const out = tf.add(matMul(inner, this.params.get(`${h}/mlp/proj/w`)), this.params.get(`${h}/mlp/proj/b`));
      x = tf.add(x, maybeDrop(out)) as tf.Tensor2D;
    }
    return layerNorm(x, this.params.get('lnf/g'), this.params.get('lnf/b')) as tf.Tensor2D;
  }

  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar {
    const [batch, time] = ids.shape;
    if (time < 2) throw new Error('language-model loss needs at least two positions');
    const d = this.config.dModel;
    const h = tf.reshape(this.hidden(ids, options), [batch, time, d]);
    const inputs = tf.reshape(tf.slice(h, [0, 0, 0], [batch, time - 1, d]), [batch * (time - 1), d]);
    // The head is tied to the token embeddings; transposing explicitly keeps the matmul fast on wasm.
    const logits = matMul(inputs, tf.transpose(this.params.get('wte'))) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(ids, [0, 1], [batch, time - 1]), [-1]) as tf.Tensor1D;
    const weights = tf.reshape(tf.slice(mask, [0, 1], [batch, time - 1]), [-1]);
    const nll = sparseCrossEntropy(logits, targets);
    return tf.div(tf.sum(tf.mul(nll, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  }

  classLogits(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    const [batch, time] = ids.shape;
    const d = this.config.dModel;
    const h = tf.reshape(this.hidden(ids, options), [batch, time, d]);
    // Select each row's last real token with a one-hot weighting: differentiable, no gather.
    const last = tf.cast(tf.sub(tf.sum(mask, 1), 1), 'int32');
    const pick = tf.expandDims(tf.oneHot(last, time), 2);
    const pooled = tf.sum(tf.mul(h, pick), 1) as tf.Tensor2D;
    return tf.add(matMul(pooled, this.params.get('cls/w')), this.params.get('cls/b')) as tf.Tensor2D;
  }

  async heldOutNll(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<HeldOutNll> {
    // lmLoss averages over the targets (positions 1.. of each row); undo the average.
    const [batch, time] = ids.shape;
    const weights = hostValues(mask);
    let tokens = 0;
    for (let r = 0; r < batch; r++) for (let j = 1; j < time; j++) tokens += weights[r * time + j]!;
    const loss = tf.tidy(() => this.lmLoss(ids, mask));
    const mean = (await loss.data())[0]!;
    loss.dispose();
    return { nll: mean * tokens, tokens };
  }

  trainableVariables(subset: ParamSubset): tf.Variable[] {
    return this.params.select(
      stackSubset(subset, { layers: this.config.layers, head: 'cls/', top: 'lnf/', block: 'h' }),
    );
  }
}
