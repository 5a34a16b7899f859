import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from '../ops/fast-paths.ts';
import { type Arithmetic, type Formula, elementwiseModuleBytes, scalar } from './elementwise-module.ts';
import { type WasmHeapBackend, heapOffset, sizeOf } from './replace-wasm-kernel.ts';
import { instantiateOnBackend } from './wasm-instances.ts';

/*
 * One optimizer update of one parameter as a single wasm kernel. tfjs's optimizers run ten to
 * twenty tensor ops per parameter, and at the study's sizes each op costs more in dispatch than
 * in arithmetic: the update took 10-20 % of a training step. Each formula below is the op
 * sequence of the optimizer it replaces, operation for operation, every result rounded to
 * float32 (elementwise-module.ts), so the fused update is bit-identical to the ops; constants
 * are rounded as tfjs rounds a number into a float32 scalar tensor.
 */

/** A fused update: its formula, input and output counts, and constants from the call's attributes. */
interface Update {
  formula: Formula;
  inputs: number;
  outputs: number;
  /** How many values `constants` returns: the module's parameter list is compiled for them. */
  constantCount: number;
  constants: (attrs: Record<string, number>) => number[];
}

/**
 * tfjs's Adam, with AdamW's decoupled decay first (`decay`): x, g, m, v in; x', m', v' out.
 * `oneMinusAccBeta1/2` are the float32 values of 1 - beta^t that tfjs keeps as running products.
 */
const adam = (decay: boolean): Update => ({
  inputs: 4,
  outputs: 3,
  constantCount: 9,
  constants: (a) => [
    a.beta1!,
    1 - a.beta1!,
    a.beta2!,
    1 - a.beta2!,
    a.oneMinusAccBeta1!,
    a.oneMinusAccBeta2!,
    a.epsilon!,
    -a.learningRate!,
    a.decayFactor!,
  ],
  formula: <T>(ar: Arithmetic<T>, [x, g, m, v]: T[], [b1, omb1, b2, omb2, c1, c2, eps, nlr, factor]: T[]): T[] => {
    const gi = ar.keep(g!);
    const m1 = ar.keep(ar.add(ar.mul(m!, b1!), ar.mul(gi, omb1!)));
    const v1 = ar.keep(ar.add(ar.mul(v!, b2!), ar.mul(ar.mul(gi, gi), omb2!)));
    const xi = decay ? ar.mul(x!, factor!) : x!;
    const step = ar.div(ar.div(m1, c1!), ar.add(ar.sqrt(ar.div(v1, c2!)), eps!));
    return [ar.add(ar.mul(step, nlr!), xi), m1, v1];
  },
});

/** tfjs's RMSProp without centring: x, g, ms, mom in; x', ms', mom' out. */
const rmsProp: Update = {
  inputs: 4,
  outputs: 3,
  constantCount: 5,
  constants: (a) => [a.rho!, 1 - a.rho!, a.momentum!, a.learningRate!, a.epsilon!],
  formula: <T>(ar: Arithmetic<T>, [x, g, ms, mom]: T[], [rho, omr, mu, lr, eps]: T[]): T[] => {
    const gi = ar.keep(g!);
    const s1 = ar.keep(ar.add(ar.mul(ms!, rho!), ar.mul(ar.mul(gi, gi), omr!)));
    const mom1 = ar.keep(ar.add(ar.mul(mom!, mu!), ar.div(ar.mul(gi, lr!), ar.sqrt(ar.add(s1, eps!)))));
    return [ar.sub(x!, mom1), s1, mom1];
  },
};

/** The proposed optimizer's second moment (proposed.ts): g, v in; v', v-hat out. */
const proposedMoments: Update = {
  inputs: 2,
  outputs: 2,
  constantCount: 3,
  constants: (a) => [a.beta2!, 1 - a.beta2!, a.oneMinusBeta2Power!],
  formula: <T>(ar: Arithmetic<T>, [g, v]: T[], [b2, omb2, c2]: T[]): T[] => {
    const gi = ar.keep(g!);
    const v1 = ar.keep(ar.add(ar.mul(v!, b2!), ar.mul(ar.mul(gi, gi), omb2!)));
    return [v1, ar.div(v1, c2!)];
  },
};

/**
 * The rest of the proposed optimizer's update (proposed.ts, op for op): x, g, m, v-hat and, with
 * adaptive momentum, P in; x', m' and, with adaptive momentum, P' out. `form` 0: m-hat alone
 * (RAdam's plain momentum step), 1: rectified, 2: Adam's step.
 */
const proposedStep = (adaptiveMomentum: boolean, form: 0 | 1 | 2, decay: boolean): Update => ({
  inputs: adaptiveMomentum ? 5 : 4,
  outputs: adaptiveMomentum ? 3 : 2,
  constantCount: 11,
  // floorMean: max(mean of v-hat, 1e-30) as float32, computed by tfjs's ops as before.
  constants: (a) => [
    a.beta1!,
    1 - a.beta1!,
    a.maxBeta1!,
    a.epsilon!,
    -a.learningRate!,
    a.oneMinusBeta1Power!,
    a.rectification!,
    a.decayFactor!,
    a.floorMean!,
    1,
    0,
  ],
  formula: <T>(
    ar: Arithmetic<T>,
    [x, g, m, vHat, p]: T[],
    [b1, omb1, maxB1, eps, nlr, c1, rect, factor, floorMean, one, zero]: T[],
  ): T[] => {
    const gi = ar.keep(g!);
    const vh = ar.keep(vHat!);
    let m1: T;
    let mHat: T;
    let p1: T | undefined;
    if (adaptiveMomentum) {
      const b = ar.keep(ar.min(ar.max(ar.sub(one!, ar.mul(ar.div(vh, floorMean!), omb1!)), zero!), maxB1!));
      m1 = ar.keep(ar.add(ar.mul(b, m!), ar.mul(ar.sub(one!, b), gi)));
      p1 = ar.keep(ar.mul(p!, b));
      mHat = ar.div(m1, ar.sub(one!, p1));
    } else {
      m1 = ar.keep(ar.add(ar.mul(m!, b1!), ar.mul(gi, omb1!)));
      mHat = ar.div(m1, c1!);
    }
    const adamStep = (): T => ar.div(mHat, ar.add(ar.sqrt(vh), eps!));
    const update = form === 0 ? mHat : form === 1 ? ar.mul(adamStep(), rect!) : adamStep();
    const xi = decay ? ar.mul(x!, factor!) : x!;
    const x1 = ar.add(ar.mul(update, nlr!), xi);
    return p1 === undefined ? [x1, m1] : [x1, m1, p1];
  },
});

/** Each variant made once: a variant's compiled module is kept with it. */
const variants = new Map<string, Update>();
const variant = (key: string, make: () => Update): Update => {
  let u = variants.get(key);
  if (u === undefined) variants.set(key, (u = make()));
  return u;
};

const updates: Record<string, (a: Record<string, number>) => Update> = {
  AdamStepF32: (a) => variant(`adam ${a.decay}`, () => adam(a.decay === 1)),
  RmsPropStepF32: () => rmsProp,
  ProposedMomentsF32: () => proposedMoments,
  ProposedStepF32: (a) =>
    variant(`proposed ${a.adaptiveMomentum} ${a.form} ${a.decay}`, () =>
      proposedStep(a.adaptiveMomentum === 1, a.form as 0 | 1 | 2, a.decay === 1),
    ),
};

type Run = (bytes: number, ...pointersAndConstants: number[]) => void;

/** The SIMD loop of `u` on the backend's memory; undefined where the engine cannot compile it. */
function simdRun(u: Update, backend: unknown): Run | undefined {
  const bytes = (): Uint8Array<ArrayBuffer> => elementwiseModuleBytes(u.formula, u.inputs, u.outputs, u.constantCount);
  return instantiateOnBackend(u, bytes, backend)?.['run'] as Run | undefined;
}

/** Registers the fused updates on wasm (before the backend initialises, like the other kernels). */
export function registerOptimizerStepsWasm(): void {
  for (const [name, select] of Object.entries(updates)) {
    if (tf.getKernel(name, 'wasm') !== undefined) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const wasm = backend as unknown as WasmHeapBackend;
        const a = attrs as unknown as Record<string, number>;
        const u = select(a);
        const ins = Object.values(inputs) as tf.TensorInfo[];
        if (ins.length !== u.inputs || ins.some((t) => t.dtype !== 'float32'))
          throw new Error(`${name}: expected ${u.inputs} float32 inputs, got ${ins.length}`);
        const n = sizeOf(ins[0]!.shape);
        const outs = Array.from({ length: u.outputs }, () => wasm.makeOutput([...ins[0]!.shape], 'float32'));
        const constants = u.constants(a);
        if (constants.length !== u.constantCount)
          throw new Error(`${name}: ${constants.length} constants for a loop compiled for ${u.constantCount}`);
        const run = simdRun(u, backend);
        if (run === undefined) {
          // No SIMD: one element at a time, in JavaScript.
          const from = ins.map((t) => wasm.typedArrayFromHeap(t) as Float32Array);
          const to = outs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array);
          const k = constants.map(Math.fround);
          for (let i = 0; i < n; i++)
            u.formula(
              scalar,
              from.map((v) => v[i]!),
              k,
            ).forEach((value, o) => (to[o]![i] = value));
          return outs;
        }
        const pointers = (ts: tf.TensorInfo[], from: number): number[] => ts.map((t) => heapOffset(wasm, t) + 4 * from);
        const vectorised = n - (n % 4);
        if (vectorised > 0) run(4 * vectorised, ...pointers(ins, 0), ...pointers(outs, 0), ...constants);
        // The last four elements once more, so that every element goes through the same
        // instructions (a NaN, too, comes out with the bits tfjs's SIMD ops give it); fewer
        // than four in all go through a zero-padded copy.
        if (vectorised < n && n >= 4) run(16, ...pointers(ins, n - 4), ...pointers(outs, n - 4), ...constants);
        else if (vectorised < n) {
          const scratch = wasm.makeOutput([4 * (u.inputs + u.outputs)], 'float32');
          const pad = wasm.typedArrayFromHeap(scratch) as Float32Array;
          pad.fill(0);
          ins.forEach((t, k) => pad.set(wasm.typedArrayFromHeap(t) as Float32Array, 4 * k));
          const at = (slot: number): number => heapOffset(wasm, scratch) + 16 * slot;
          const slots = (count: number, first: number): number[] =>
            Array.from({ length: count }, (_, k) => at(first + k));
          run(16, ...slots(u.inputs, 0), ...slots(u.outputs, u.inputs), ...constants);
          outs.forEach((t, o) =>
            (wasm.typedArrayFromHeap(t) as Float32Array).set(pad.subarray(4 * (u.inputs + o), 4 * (u.inputs + o) + n)),
          );
          (wasm as unknown as { disposeData(id: tf.DataId): void }).disposeData(scratch.dataId);
        }
        return outs;
      },
    });
  }
}

/** Whether `kernel` runs now: the wasm backend with the fast paths on (else the ops run, as before). */
export function fusedStepAvailable(kernel: string): boolean {
  return fastPaths() && tf.getBackend() === 'wasm' && tf.getKernel(kernel, 'wasm') !== undefined;
}

/** Runs a fused update kernel; the outputs are tracked by the enclosing tidy. */
export function runFusedStep(kernel: string, inputs: tf.Tensor[], attrs: Record<string, number>): tf.Tensor[] {
  const named = Object.fromEntries(inputs.map((t, i) => [`in${String(i).padStart(2, '0')}`, t]));
  return tf.engine().runKernel(kernel, named, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
