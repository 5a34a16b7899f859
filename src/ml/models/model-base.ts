import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, ParamSubset } from './language-model.ts';
import { Parameters, countParameters } from './parameters.ts';

/** The settings every architecture's config has. */
export interface CommonModelConfig {
  vocabSize: number;
  /** Longest input, in tokens. */
  contextLength: number;
  numClasses: number;
  /** Dropout rate, applied only in training passes. */
  dropout: number;
}

/** The dropout of one forward pass, or undefined when the pass drops nothing. */
export type Dropout = ((t: tf.Tensor) => tf.Tensor) | undefined;

/**
 * What the three architectures (GPT, BERT, T5) share: the frozen config, the parameters under
 * stable names, the sizes `LanguageModel` exposes, seeded dropout, the context-length check,
 * parameter counts and disposal. Subclasses create their parameters and compute.
 */
export abstract class ModelBase<C extends CommonModelConfig> {
  readonly config: Readonly<C>;
  readonly variables: ReadonlyMap<string, tf.Variable>;
  protected readonly params: Parameters;

  /** `name` names the architecture in errors and prefixes its tfjs variable names. */
  protected constructor(config: C, name: string) {
    this.config = Object.freeze({ ...config });
    this.params = new Parameters(name);
    this.variables = this.params.map;
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

  /**
   * Dropout for one forward pass: in training (a `dropoutSeed`), each call's mask is seeded by
   * the seed and the call's number within the pass, so a step is reproducible; in evaluation,
   * none.
   */
  protected dropout(options: ForwardOptions | undefined): Dropout {
    const { dropout } = this.config;
    if (!(dropout > 0) || options?.dropoutSeed === undefined) return undefined;
    const seed = options.dropoutSeed;
    let calls = 0;
    return (t) => tf.dropout(t, dropout, undefined, `${seed}:${calls++}`);
  }

  /** Refuses ids `[batch, time]` longer than the model's positions. */
  protected checkContext(ids: tf.Tensor2D): void {
    const time = ids.shape[1];
    if (time > this.config.contextLength)
      throw new Error(`input has ${time} positions but the context length is ${this.config.contextLength}`);
  }

  abstract trainableVariables(subset: ParamSubset): tf.Variable[];

  /** Number of scalar parameters in a subset. */
  parameterCount(subset: ParamSubset = 'all'): number {
    return countParameters(this.trainableVariables(subset));
  }

  dispose(): void {
    this.params.dispose();
  }
}
