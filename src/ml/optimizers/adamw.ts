import * as tf from '@tensorflow/tfjs-core';
import { fusedStepAvailable, runFusedStep } from '../kernels/optimizer-steps-wasm.ts';
import { type TfjsSlot, gradientEntries, slotFor } from './tfjs-slots.ts';
import { decays, variableNamed } from './weight-decay.ts';

/** tfjs's Adam keeps its state in fields its typings call private. */
interface AdamFields {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: TfjsSlot[];
  accumulatedSecondMoment: TfjsSlot[];
}

/**
 * Adam with decoupled weight decay (AdamW; Loshchilov & Hutter, 2019, "Decoupled Weight Decay
 * Regularization"): before tfjs's Adam update, theta <- theta (1 - lr x weightDecay), instead of
 * adding weightDecay x theta to the gradient, where Adam's per-parameter scaling would weaken the
 * decay exactly for the parameters with large gradients. With weightDecay = 0 this is Adam.
 * The order (decay, then the Adam step from the decayed value) matches torch.optim.AdamW.
 */
export class AdamW extends tf.AdamOptimizer {
  static override get className(): string {
    return 'AdamW';
  }

  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    readonly weightDecay: number,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (fusedStepAvailable('AdamStepF32')) {
      this.applyFused(variableGradients);
      return;
    }
    if (this.weightDecay > 0) {
      const names = gradientEntries(variableGradients).map(([name]) => name);
      const factor = 1 - this.learningRate * this.weightDecay;
      tf.tidy(() => {
        for (const name of names) {
          const v = variableNamed(name);
          if (decays(v)) v.assign(tf.mul(v, factor));
        }
      });
    }
    super.applyGradients(variableGradients);
  }

  /**
   * The same update, decay included, as one fused kernel per parameter (optimizer-steps-wasm.ts),
   * on the state tfjs's Adam keeps (so saving and restoring it, optimizer-state.ts, is unchanged).
   */
  private applyFused(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const self = this as unknown as AdamFields;
    const entries = gradientEntries(variableGradients);
    const [acc1, acc2] = [self.accBeta1.dataSync()[0]!, self.accBeta2.dataSync()[0]!];
    tf.tidy(() => {
      entries.forEach(([name, gradient], i) => {
        const value = variableNamed(name);
        const m = slotFor(self.accumulatedFirstMoment, i, name, 'm', value);
        const v = slotFor(self.accumulatedSecondMoment, i, name, 'v', value);
        if (gradient == null) return;
        const decay = this.weightDecay > 0 && decays(value);
        const [x1, m1, v1] = runFusedStep('AdamStepF32', [value, gradient, m, v], {
          beta1: this.beta1,
          beta2: this.beta2,
          // tfjs computes 1 - beta^t as float32 ops on its float32 running products.
          oneMinusAccBeta1: Math.fround(1 - acc1),
          oneMinusAccBeta2: Math.fround(1 - acc2),
          epsilon: this.epsilon,
          learningRate: this.learningRate,
          decay: decay ? 1 : 0,
          decayFactor: 1 - this.learningRate * this.weightDecay,
        }) as [tf.Tensor, tf.Tensor, tf.Tensor];
        m.assign(m1);
        v.assign(v1);
        value.assign(x1);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}
