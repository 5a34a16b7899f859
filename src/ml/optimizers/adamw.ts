import * as tf from '@tensorflow/tfjs-core';
import { decays, variableNamed } from './weight-decay.ts';

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
    if (this.weightDecay > 0) {
      const names = Array.isArray(variableGradients)
        ? variableGradients.map((g) => g.name)
        : Object.keys(variableGradients);
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

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}
