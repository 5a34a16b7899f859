import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng.ts';
import { causalSelfAttention } from '../ops/causal-self-attention.ts';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';
import { gelu } from '../ops/gelu.ts';
import { layerNorm } from '../ops/layer-norm.ts';
import { matMul } from '../ops/matmul.ts';
import { type GptConfig, validateGptConfig } from './gpt-config.ts';
import type { ForwardOptions, LanguageModel, ParamSubset } from './language-model.ts';

// tfjs variable names are global to the engine; a per-instance prefix lets several models
// coexist (two seeds in one test), while the map below keeps names stable for weight files.
let instances = 0;

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
export class Gpt implements LanguageModel {
  readonly family = 'gpt';
  readonly config: Readonly<GptConfig>;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly prefix: string;

  constructor(config: GptConfig, seed: number) {
    validateGptConfig(config);
    this.config = Object.freeze({ ...config });
    this.variables = this.vars;
    this.prefix = `gpt${++instances}/`;
    const init = new Rng(seed).fork('init');
    const { vocabSize, contextLength, layers, dModel: d, dFF, numClasses } = config;
    const residualStd = 0.02 / Math.sqrt(2 * layers);
    this.normal('wte', [vocabSize, d], 0.02, init);
    this.normal('wpe', [contextLength, d], 0.01, init);
    for (let i = 0; i < layers; i++) {
      const h = `h${i}`;
      this.constant(`${h}/ln1/g`, [d], 1);
      this.constant(`${h}/ln1/b`, [d], 0);
      this.normal(`${h}/attn/qkv/w`, [d, 3 * d], 0.02, init);
      this.constant(`${h}/attn/qkv/b`, [3 * d], 0);
      this.normal(`${h}/attn/proj/w`, [d, d], residualStd, init);
      this.constant(`${h}/attn/proj/b`, [d], 0);
      this.constant(`${h}/ln2/g`, [d], 1);
      this.constant(`${h}/ln2/b`, [d], 0);
      this.normal(`${h}/mlp/fc/w`, [d, dFF], 0.02, init);
      this.constant(`${h}/mlp/fc/b`, [dFF], 0);
      this.normal(`${h}/mlp/proj/w`, [dFF, d], residualStd, init);
      this.constant(`${h}/mlp/proj/b`, [d], 0);
    }
    this.constant('lnf/g', [d], 1);
    this.constant('lnf/b', [d], 0);
    this.normal('cls/w', [d, numClasses], 0.02, init);
    this.constant('cls/b', [numClasses], 0);
  }

  get contextLength(): number {
    return this.config.contextLength;
  }
  get vocabSize(): number {
    return this.config.vocabSize;
  }
  get numClasses(): number {
    return this.config.numClasses;
  }

  private add(name: string, value: tf.Tensor): void {
    this.vars.set(name, tf.variable(value, true, this.prefix + name));
    value.dispose();
  }

  private normal(name: string, shape: number[], std: number, init: Rng): void {
    this.add(name, tf.truncatedNormal(shape, 0, std, 'float32', init.fork(name).tfSeed()));
  }

  private constant(name: string, shape: number[], value: number): void {
    this.add(name, tf.fill(shape, value, 'float32'));
  }

  private v(name: string): tf.Variable {
    const found = this.vars.get(name);
    if (found === undefined) throw new Error(`GPT has no parameter "${name}"`);
    return found;
  }

  /** Final hidden states `[batch*time, d]` after the last layer norm. */
  private hidden(ids: tf.Tensor2D, options: ForwardOptions | undefined): tf.Tensor2D {
    const [batch, time] = ids.shape;
    const { dModel: d, contextLength, heads, layers, dropout } = this.config;
    if (time > contextLength) throw new Error(`input has ${time} positions but the context length is ${contextLength}`);
    let calls = 0;
    const drop =
      dropout > 0 && options?.dropoutSeed !== undefined
        ? (t: tf.Tensor): tf.Tensor => tf.dropout(t, dropout, undefined, `${options.dropoutSeed}:${calls++}`)
        : undefined;
    const maybeDrop = (t: tf.Tensor): tf.Tensor => (drop ? drop(t) : t);

    const tokens = tf.gather(this.v('wte'), tf.reshape(ids, [-1]));
    const positions = tf.slice(this.v('wpe'), [0, 0], [time, d]);
    let x = tf.reshape(tf.add(tf.reshape(tokens, [batch, time, d]), positions), [batch * time, d]) as tf.Tensor2D;
    x = maybeDrop(x) as tf.Tensor2D;
    for (let i = 0; i < layers; i++) {
      const h = `h${i}`;
      const attended = causalSelfAttention(
        layerNorm(x, this.v(`${h}/ln1/g`), this.v(`${h}/ln1/b`)) as tf.Tensor2D,
        batch,
        time,
        heads,
        {
          qkvW: this.v(`${h}/attn/qkv/w`),
          qkvB: this.v(`${h}/attn/qkv/b`),
          projW: this.v(`${h}/attn/proj/w`),
          projB: this.v(`${h}/attn/proj/b`),
        },
        drop,
      );
      x = tf.add(x, maybeDrop(attended)) as tf.Tensor2D;
      const normed = layerNorm(x, this.v(`${h}/ln2/g`), this.v(`${h}/ln2/b`));
      const inner = gelu(tf.add(matMul(normed, this.v(`${h}/mlp/fc/w`)), this.v(`${h}/mlp/fc/b`)));
      const out = tf.add(matMul(inner, this.v(`${h}/mlp/proj/w`)), this.v(`${h}/mlp/proj/b`));
      x = tf.add(x, maybeDrop(out)) as tf.Tensor2D;
    }
    return layerNorm(x, this.v('lnf/g'), this.v('lnf/b')) as tf.Tensor2D;
  }

  lmLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Scalar {
    const [batch, time] = ids.shape;
    if (time < 2) throw new Error('language-model loss needs at least two positions');
    const d = this.config.dModel;
    const h = tf.reshape(this.hidden(ids, options), [batch, time, d]);
    const inputs = tf.reshape(tf.slice(h, [0, 0, 0], [batch, time - 1, d]), [batch * (time - 1), d]);
    // The head is tied to the token embeddings; transposing explicitly keeps the matmul fast on wasm.
    const logits = matMul(inputs, tf.transpose(this.v('wte'))) as tf.Tensor2D;
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
    return tf.add(matMul(pooled, this.v('cls/w')), this.v('cls/b')) as tf.Tensor2D;
  }

  trainableVariables(subset: ParamSubset): tf.Variable[] {
    const names = [...this.vars.keys()].sort();
    const { layers } = this.config;
    let keep: (name: string) => boolean;
    if (subset === 'all') keep = () => true;
    else if (subset === 'head') keep = (n) => n.startsWith('cls/');
    else {
      const n = Number(subset.slice('last-'.length));
      if (!Number.isInteger(n) || n < 1) throw new Error(`bad parameter subset "${subset}"`);
      if (n > layers) throw new Error(`parameter subset "${subset}" asks for ${n} blocks but the model has ${layers}`);
      const first = layers - n;
      keep = (name) => {
        if (name.startsWith('cls/') || name.startsWith('lnf/')) return true;
        const m = /^h(\d+)\//.exec(name);
        return m !== null && Number(m[1]) >= first;
      };
    }
    return names.filter(keep).map((n) => this.vars.get(n)!);
  }

  /** Number of scalar parameters in a subset. */
  parameterCount(subset: ParamSubset = 'all'): number {
    return this.trainableVariables(subset).reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
