import * as tf from '@tensorflow/tfjs-core';
import { clipByGlobalNorm } from './clip.ts';
import type { OptimizerConfig } from './config.ts';
import { learningRateAt } from './schedule.ts';
import { decays, variableNamed } from './weight-decay.ts';

/** A tfjs optimizer whose learning rate can be changed between steps. */
export type SchedulableOptimizer = tf.Optimizer & { setLearningRate(learningRate: number): void };

export interface StepInfo {
  /** The learning rate this update used. */
  learningRate: number;
  /**
   * Global gradient norm before clipping, when clipping is configured: a scalar the caller owns
   * (kept out of any tf.tidy around `apply`), so that reading it is the caller's choice and can
   * be asynchronous, as a GPU backend needs.
   */
  gradNorm?: tf.Scalar;
}

/**
 * One optimizer as the training loop uses it: each `apply` advances the schedule, sets the rate,
 * adds a coupled L2 term where the optimizer has no decoupled decay, clips, and updates.
 * Gradients are passed to tfjs in name order, because tfjs's built-in optimizers keep their
 * per-variable state by position in that list, not by name.
 */
export class TrainingOptimizer {
  private steps = 0;

  constructor(
    readonly config: OptimizerConfig,
    readonly inner: SchedulableOptimizer,
    readonly totalSteps: number,
    /** weightDecay as an L2 gradient term (sgd, adam, rmsprop); 0 where decay is decoupled. */
    private readonly l2: number,
  ) {}

  get step(): number {
    return this.steps;
  }

  /** Continue a run after `step` updates (its state restored separately): the schedule resumes there. */
  resumeAt(step: number): void {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`a step count must be an integer >= 0, got ${step}`);
    this.steps = step;
  }

  apply(grads: tf.NamedTensorMap): StepInfo {
    this.steps += 1;
    const learningRate = learningRateAt(this.config.learningRate, this.config.schedule, this.steps, this.totalSteps);
    this.inner.setLearningRate(learningRate);
    const norm = tf.tidy(() => {
      let ordered: tf.NamedTensorMap = {};
      for (const name of Object.keys(grads).sort()) {
        const g = grads[name]!;
        const v = variableNamed(name);
        ordered[name] = this.l2 > 0 && decays(v) ? tf.add(g, tf.mul(v, this.l2)) : g;
      }
      let gradNorm: tf.Scalar | undefined;
      if (this.config.clipNorm !== undefined) {
        const clipped = clipByGlobalNorm(ordered, this.config.clipNorm);
        ordered = clipped.grads;
        gradNorm = clipped.norm;
      }
      this.inner.applyGradients(ordered);
      return gradNorm;
    });
    return norm === undefined ? { learningRate } : { learningRate, gradNorm: norm };
  }

  dispose(): void {
    this.inner.dispose();
  }
}
