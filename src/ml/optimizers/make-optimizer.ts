import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from './adamw.ts';
import type { OptimizerConfig } from './config.ts';
import { ProposedOptimizer } from './proposed.ts';
import { RmsProp } from './rmsprop.ts';
import { type SchedulableOptimizer, TrainingOptimizer } from './training-optimizer.ts';

// PyTorch's defaults, so that settings copied from the paper (a PyTorch study) mean the same here.
const ADAM_EPSILON = 1e-8;
const ADAMW_WEIGHT_DECAY = 0.01;

/**
 * Builds the optimizer a config names. `totalSteps` is the length of training, which the decaying
 * schedules need. Unset fields take PyTorch's defaults (betas 0.9/0.999, epsilon 1e-8, AdamW's
 * weight decay 0.01); RMSProp's rho defaults to 0.9 (Hinton's lecture value, Keras's default).
 */
export function makeOptimizer(config: OptimizerConfig, totalSteps: number): TrainingOptimizer {
  if (!(config.learningRate > 0))
    throw new Error(`${config.name}: learning rate must be positive, got ${config.learningRate}`);
  if (!(totalSteps >= 1)) throw new Error(`totalSteps must be at least 1, got ${totalSteps}`);
  const decay = config.weightDecay ?? 0;
  if (!(decay >= 0)) throw new Error(`${config.name}: weight decay must be >= 0, got ${decay}`);
  let inner: SchedulableOptimizer;
  let l2 = 0;
  switch (config.name) {
    case 'sgd': {
      const momentum = config.momentum ?? 0;
      inner =
        momentum > 0
          ? new tf.MomentumOptimizer(config.learningRate, momentum, config.nesterov ?? false)
          : new tf.SGDOptimizer(config.learningRate);
      l2 = decay;
      break;
    }
    case 'adam':
      inner = new AdamW(
        config.learningRate,
        config.beta1 ?? 0.9,
        config.beta2 ?? 0.999,
        config.epsilon ?? ADAM_EPSILON,
        0,
      );
      l2 = decay;
      break;
    case 'adamw':
      inner = new AdamW(
        config.learningRate,
        config.beta1 ?? 0.9,
        config.beta2 ?? 0.999,
        config.epsilon ?? ADAM_EPSILON,
        config.weightDecay ?? ADAMW_WEIGHT_DECAY,
      );
      break;
    case 'rmsprop':
      inner = new RmsProp(
        config.learningRate,
        config.rho ?? 0.9,
        config.momentum ?? 0,
        config.epsilon ?? ADAM_EPSILON,
        config.centered ?? false,
      );
      l2 = decay;
      break;
    case 'proposed':
      inner = new ProposedOptimizer({
        learningRate: config.learningRate,
        beta1: config.beta1 ?? 0.9,
        beta2: config.beta2 ?? 0.999,
        epsilon: config.epsilon ?? ADAM_EPSILON,
        weightDecay: config.weightDecay ?? ADAMW_WEIGHT_DECAY,
        adaptiveLr: config.adaptiveLr,
        adaptiveMomentum: config.adaptiveMomentum,
        maxBeta1: config.maxBeta1 ?? 0.999,
      });
      break;
    default: {
      const never: never = config;
      throw new Error(`unknown optimizer ${JSON.stringify(never)}`);
    }
  }
  return new TrainingOptimizer(config, inner, totalSteps, l2);
}
