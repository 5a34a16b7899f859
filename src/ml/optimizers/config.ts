/**
 * Learning rate over training steps (step 1 is the first update). Every kind may start with a
 * linear warm-up from 0 (Goyal et al., 2017; the standard recipe for fine-tuning transformers).
 * - `constant`: the base rate after warm-up;
 * - `linear`: linear decay from the base rate to `minRatio` x base at the last step (BERT's recipe);
 * - `cosine`: half-cosine decay to `minRatio` x base (Loshchilov & Hutter, 2017, without restarts);
 * - `cyclical`: triangular cycles between the base rate and `maxLearningRate`, rising for
 *   `halfCycleSteps` and falling for as many (Smith, 2017, "Cyclical Learning Rates").
 */
export type ScheduleConfig =
  | { kind: 'constant'; warmupSteps?: number }
  | { kind: 'linear'; warmupSteps?: number; minRatio?: number }
  | { kind: 'cosine'; warmupSteps?: number; minRatio?: number }
  | { kind: 'cyclical'; warmupSteps?: number; maxLearningRate: number; halfCycleSteps: number };

/** Settings shared by every optimizer. */
export interface CommonOptimizerConfig {
  learningRate: number;
  /**
   * For `adamw` and `proposed`: decoupled decay, theta <- theta (1 - lr x weightDecay) each step
   * (Loshchilov & Hutter, 2019). For `sgd`, `adam`, `rmsprop`: an L2 term weightDecay x theta
   * added to the gradient, as PyTorch's `weight_decay` argument does for those optimizers.
   * Either way only tensors of rank >= 2 (weight matrices, embeddings) decay; biases and
   * layer-norm parameters do not, as in the GPT-2 and BERT recipes.
   */
  weightDecay?: number;
  /** Rescale all gradients together when their global L2 norm exceeds this (Pascanu et al., 2013). */
  clipNorm?: number;
  schedule?: ScheduleConfig;
}

export type OptimizerConfig =
  | (CommonOptimizerConfig & { name: 'sgd'; momentum?: number; nesterov?: boolean })
  | (CommonOptimizerConfig & { name: 'adam' | 'adamw'; beta1?: number; beta2?: number; epsilon?: number })
  | (CommonOptimizerConfig & {
      name: 'rmsprop';
      /** Decay of the running mean of squared gradients. */
      rho?: number;
      momentum?: number;
      epsilon?: number;
      centered?: boolean;
    })
  | (CommonOptimizerConfig & {
      name: 'proposed';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** (a) RAdam's variance rectification of the adaptive step. */
      adaptiveLr: boolean;
      /** (b) Adai-style parameter-wise adaptive inertia (momentum coefficient). */
      adaptiveMomentum: boolean;
      /** Upper bound on the adapted momentum coefficient (Adai uses 1 - 1e-3). */
      maxBeta1?: number;
    });

export type OptimizerName = OptimizerConfig['name'];
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'proposed'];
