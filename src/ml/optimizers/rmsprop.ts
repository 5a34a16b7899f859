import * as tf from '@tensorflow/tfjs-core';
import { fusedStepAvailable, runFusedStep } from '../kernels/optimizer-steps-wasm.ts';
import { type TfjsSlot, gradientEntries, slotFor } from './tfjs-slots.ts';
import { variableNamed } from './weight-decay.ts';

/**
 * tfjs's RMSProp with a learning rate that a schedule can change. Its update (TensorFlow's
 * formulation, which differs from PyTorch's in two places):
 *   s <- rho s + (1 - rho) g^2
 *   mom <- momentum x mom + lr x g / sqrt(s + epsilon)      (epsilon inside the root)
 *   theta <- theta - mom                                      (lr inside the momentum buffer)
 */
export class RmsProp extends tf.RMSPropOptimizer {
  static override get className(): string {
    return 'RmsPropScheduled';
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /**
   * Without centring, one fused kernel per parameter (optimizer-steps-wasm.ts) where it runs, on
   * the state tfjs's RMSProp keeps; the ops otherwise, and always with centring.
   */
  override applyGradients(variableGradients: Parameters<tf.RMSPropOptimizer['applyGradients']>[0]): void {
    const self = this as unknown as RmsPropFields;
    if (self.centered || !fusedStepAvailable('RmsPropStepF32')) {
      super.applyGradients(variableGradients);
      return;
    }
    gradientEntries(variableGradients).forEach(([name, gradient], i) => {
      const value = variableNamed(name);
      const ms = slotFor(self.accumulatedMeanSquares, i, name, 'rms', value);
      const mom = slotFor(self.accumulatedMoments, i, name, 'momentum', value);
      if (gradient == null) return;
      tf.tidy(() => {
        const [x1, ms1, mom1] = runFusedStep('RmsPropStepF32', [value, gradient, ms, mom], {
          rho: this.decay,
          momentum: this.momentum,
          learningRate: this.learningRate,
          epsilon: this.epsilon,
        }) as [tf.Tensor, tf.Tensor, tf.Tensor];
        ms.assign(ms1);
        mom.assign(mom1);
        value.assign(x1);
      });
    });
    this.incrementIterations();
  }
}

/** tfjs's RMSProp keeps its state in fields its typings call private. */
interface RmsPropFields {
  centered: boolean;
  accumulatedMeanSquares: TfjsSlot[];
  accumulatedMoments: TfjsSlot[];
}
