import * as tf from '@tensorflow/tfjs-core';

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
}
