import * as tf from '@tensorflow/tfjs-core';
import { fusedStepAvailable, runFusedStep } from '../kernels/optimizer-steps-wasm.ts';
import { gradientEntries } from './tfjs-slots.ts';
import { decays, variableNamed } from './weight-decay.ts';

export interface ProposedOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  adaptiveLr: boolean;
  adaptiveMomentum: boolean;
  maxBeta1: number;
}

/**
 * RAdam's step-size threshold: PyTorch's torch.optim.RAdam uses rho_t > 5; Liu et al. state 4.
 * Below it the variance of the adaptive step is not finite (or too large) and the step is a plain
 * momentum step.
 */
const RHO_THRESHOLD = 5;

/** RAdam's rectification r_t, or undefined while rho_t is at or below the threshold. */
export function radamRectification(beta2: number, t: number): number | undefined {
  const rhoInf = 2 / (1 - beta2) - 1;
  const b2t = beta2 ** t;
  const rhoT = rhoInf - (2 * t * b2t) / (1 - b2t);
  if (!(rhoT > RHO_THRESHOLD)) return undefined;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/** tfjs-core does not export its NamedTensor type; this is the same shape. */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slots {
  m: tf.Variable;
  v: tf.Variable;
  /** Running product of the adapted beta1 per element: the weight left on m's zero start. */
  p?: tf.Variable;
}

/**
 * The study's proposed optimizer: AdamW plus (a) an adaptive learning rate and (b) adaptive
 * momentum, each switchable for the ablation. With both off it is AdamW, update for update.
 *
 * (a) Adaptive learning rate: RAdam's variance rectification (Liu et al., 2020, "On the Variance
 *     of the Adaptive Learning Rate and Beyond", ICLR). Early in training v_t rests on few
 *     gradients, so the adaptive step 1/sqrt(v_hat) has a large variance; RAdam multiplies the
 *     step by r_t, which is small while that variance is large and tends to 1, and takes a plain
 *     momentum step while the variance is not even finite. It replaces a hand-tuned warm-up.
 * (b) Adaptive momentum: Adai's parameter-wise adaptive inertia (Xie et al., 2022, "Adaptive
 *     Inertia: Disentangling the Effects of Adaptive Learning Rate and Momentum", ICML). Each
 *     parameter's momentum coefficient shrinks in proportion to its gradient's second moment
 *     relative to the mean over all parameters: noisy coordinates keep a short memory, quiet
 *     ones a long one. Centring at beta1 makes the average coefficient equal AdamW's.
 *
 * Update at step t (elementwise; g the gradient after clipping, eta_t the scheduled rate,
 * lambda the weight decay, applied to tensors of rank >= 2 only):
 *   v_t      = beta2 v_{t-1} + (1 - beta2) g^2,         v_hat = v_t / (1 - beta2^t)
 *   (b) on:  b_t = clip(1 - (1 - beta1) v_hat / mean(v_hat), 0, maxBeta1)
 *                  (mean over every element of every parameter in this update)
 *       off: b_t = beta1
 *   m_t      = b_t m_{t-1} + (1 - b_t) g
 *   P_t      = P_{t-1} b_t  (P_0 = 1; with (b) off, P_t = beta1^t),  m_hat = m_t / (1 - P_t)
 *   (a) on:  rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
 *            if rho_t > 5: r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
 *                          u = r_t m_hat / (sqrt(v_hat) + eps)
 *            else:         u = m_hat
 *       off: u = m_hat / (sqrt(v_hat) + eps)
 *   theta_t  = theta_{t-1} (1 - eta_t lambda) - eta_t u
 * Both off: exactly AdamW (Loshchilov & Hutter, 2019) as torch.optim.AdamW computes it.
 */
export class ProposedOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'ProposedOptimizer';
  }

  private readonly slots = new Map<string, Slots>();
  /** Restored state not yet bound to variables (see `restore`). */
  private pending: Slots[] | undefined;
  private step = 0;
  private learningRate: number;

  constructor(readonly options: ProposedOptions) {
    super();
    const { beta1, beta2, maxBeta1 } = options;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 > 0 && beta2 < 1))
      throw new Error(`betas must be in [0, 1), got ${beta1}, ${beta2}`);
    if (!(maxBeta1 >= beta1 && maxBeta1 < 1)) throw new Error(`maxBeta1 must be in [beta1, 1), got ${maxBeta1}`);
    this.learningRate = options.learningRate;
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  private slotsFor(name: string, value: tf.Variable): Slots {
    let s = this.slots.get(name);
    if (s === undefined) {
      s = {
        m: tf.variable(tf.zerosLike(value), false),
        v: tf.variable(tf.zerosLike(value), false),
        p: this.options.adaptiveMomentum ? tf.variable(tf.onesLike(value), false) : undefined,
      };
      this.slots.set(name, s);
    }
    return s;
  }

  override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const entries = gradientEntries(variableGradients).filter((e): e is [string, tf.Tensor] => e[1] != null);
    this.bindPending(entries.map(([name]) => name));
    this.step += 1;
    const t = this.step;
    const { beta1, beta2, epsilon, weightDecay, adaptiveLr, adaptiveMomentum, maxBeta1 } = this.options;
    const lr = this.learningRate;
    const rectification = adaptiveLr ? radamRectification(beta2, t) : undefined;
    if (fusedStepAvailable('ProposedStepF32')) {
      this.applyFused(entries, t, rectification);
      this.incrementIterations();
      return;
    }
    tf.tidy(() => {
      const items = entries.map(([name, g]) => {
        const value = variableNamed(name);
        const slots = this.slotsFor(name, value);
        const v = tf.add(tf.mul(slots.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const vHat = tf.div(v, 1 - beta2 ** t);
        return { value, slots, g, v, vHat };
      });
      let meanVHat: tf.Scalar | undefined;
      if (adaptiveMomentum && items.length > 0) {
        const total = items.reduce((n, it) => n + it.g.size, 0);
        meanVHat = tf.div(tf.addN(items.map((it) => tf.sum(it.vHat))), total) as tf.Scalar;
      }
      for (const { value, slots, g, v, vHat } of items) {
        let m: tf.Tensor;
        let mHat: tf.Tensor;
        if (meanVHat !== undefined && slots.p !== undefined) {
          // A tiny floor keeps 0/0 out when every gradient so far was exactly zero.
          const ratio = tf.div(vHat, tf.maximum(meanVHat, 1e-30));
          const b = tf.clipByValue(tf.sub(1, tf.mul(ratio, 1 - beta1)), 0, maxBeta1);
          m = tf.add(tf.mul(b, slots.m), tf.mul(tf.sub(1, b), g));
          const p = tf.mul(slots.p, b);
          mHat = tf.div(m, tf.sub(1, p));
          slots.p.assign(p);
        } else {
          m = tf.add(tf.mul(slots.m, beta1), tf.mul(g, 1 - beta1));
          mHat = tf.div(m, 1 - beta1 ** t);
        }
        let update: tf.Tensor;
        if (adaptiveLr) {
          update =
            rectification === undefined ? mHat : tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), rectification);
        } else {
          update = tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon));
        }
        const decayed = weightDecay > 0 && decays(value) ? tf.mul(value, 1 - lr * weightDecay) : value;
        value.assign(tf.add(tf.mul(update, -lr), decayed));
        slots.m.assign(m);
        slots.v.assign(v);
      }
    });
    this.incrementIterations();
  }

  /**
   * The update above as two fused kernels per parameter (optimizer-steps-wasm.ts), bit for bit:
   * the second moment and v-hat, then (after the mean of v-hat, by the same ops) the rest.
   */
  private applyFused(entries: [string, tf.Tensor][], t: number, rectification: number | undefined): void {
    const { beta1, beta2, epsilon, weightDecay, adaptiveLr, adaptiveMomentum, maxBeta1 } = this.options;
    const lr = this.learningRate;
    tf.tidy(() => {
      const items = entries.map(([name, g]) => {
        const value = variableNamed(name);
        const slots = this.slotsFor(name, value);
        const [v, vHat] = runFusedStep('ProposedMomentsF32', [g, slots.v], {
          beta2,
          oneMinusBeta2Power: 1 - beta2 ** t,
        }) as [tf.Tensor, tf.Tensor];
        return { value, slots, g, v, vHat };
      });
      // max(mean v-hat, 1e-30) by the same ops as above, read as the float32 it is.
      let floorMean: number | undefined;
      if (adaptiveMomentum && items.length > 0) {
        const total = items.reduce((n, it) => n + it.g.size, 0);
        floorMean = tf.maximum(tf.div(tf.addN(items.map((it) => tf.sum(it.vHat))), total), 1e-30).dataSync()[0]!;
      }
      for (const { value, slots, g, v, vHat } of items) {
        const momentum = floorMean !== undefined && slots.p !== undefined;
        const [x1, m1, p1] = runFusedStep(
          'ProposedStepF32',
          [value, g, slots.m, vHat, ...(momentum ? [slots.p!] : [])],
          {
            beta1,
            maxBeta1,
            epsilon,
            learningRate: lr,
            oneMinusBeta1Power: 1 - beta1 ** t,
            adaptiveMomentum: momentum ? 1 : 0,
            floorMean: floorMean ?? 1,
            form: !adaptiveLr ? 2 : rectification === undefined ? 0 : 1,
            rectification: rectification ?? 1,
            decay: weightDecay > 0 && decays(value) ? 1 : 0,
            decayFactor: 1 - lr * weightDecay,
          },
        ) as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        value.assign(x1);
        slots.m.assign(m1);
        slots.v.assign(v);
        if (p1 !== undefined) slots.p!.assign(p1);
      }
    });
  }

  override dispose(): void {
    super.dispose();
    this.disposeSlots();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [];
    for (const [name, s] of [...this.slots.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out.push({ name: `${name}/m`, tensor: s.m }, { name: `${name}/v`, tensor: s.v });
      if (s.p) out.push({ name: `${name}/p`, tensor: s.p });
    }
    return out;
  }

  /** Updates applied so far: the bias corrections and RAdam's rectification depend on it. */
  get stepCount(): number {
    return this.step;
  }

  /**
   * The state in the order of the variables' names, which is the order gradients are applied in
   * (TrainingOptimizer sorts them). Positional rather than by name: a registered variable's name
   * carries a per-instance prefix (`gpt1/`, `gpt2/`), so a model rebuilt in another process has
   * other names for the same parameters, while their order is the same.
   */
  slotList(): Slots[] {
    return [...this.slots.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, s]) => s);
  }

  /**
   * Continues from `slotList()`'s state after `step` updates: the slots are bound to the
   * variables, by position, at the next update. Takes ownership of the given variables (a copy
   * over the same data would be freed under the original on its first assign).
   */
  restore(slots: readonly Slots[], step: number): void {
    for (const [i, s] of slots.entries()) {
      if (this.options.adaptiveMomentum !== (s.p !== undefined))
        throw new Error(`optimizer state ${i} lacks a slot this configuration needs, or has one it does not`);
    }
    this.disposeSlots();
    this.pending = [...slots];
    this.step = step;
  }

  private disposeSlots(): void {
    for (const s of [...this.slots.values(), ...(this.pending ?? [])]) {
      s.m.dispose();
      s.v.dispose();
      s.p?.dispose();
    }
    this.slots.clear();
    this.pending = undefined;
  }

  /** Binds restored slots to this update's variables, checking that they fit. */
  private bindPending(names: readonly string[]): void {
    const pending = this.pending;
    if (pending === undefined) return;
    if (pending.length !== names.length)
      throw new Error(`restored optimizer state holds ${pending.length} parameters, this update has ${names.length}`);
    names.forEach((name, i) => {
      const shape = variableNamed(name).shape;
      const s = pending[i]!;
      if (s.m.shape.join() !== shape.join())
        throw new Error(`restored optimizer state ${i} has shape [${s.m.shape}], parameter "${name}" [${shape}]`);
      this.slots.set(name, s);
    });
    this.pending = undefined;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.options };
  }
}
