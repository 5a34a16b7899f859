import * as tf from '@tensorflow/tfjs-core';
import { listWeights, loadWeights, saveWeights } from '../weights.ts';
import { ProposedOptimizer } from './proposed.ts';
import type { TfjsSlot } from './tfjs-slots.ts';
import type { TrainingOptimizer } from './training-optimizer.ts';

/**
 * Class membership by prototype chain: tfjs's Optimizer defines Symbol.hasInstance as a duck-type
 * test, so `x instanceof tf.AdamOptimizer` holds for every optimizer.
 */
function isA<T extends object>(o: object, cls: abstract new (...args: never[]) => T): o is T {
  return Object.prototype.isPrototypeOf.call(cls.prototype, o);
}

/**
 * Where each tfjs optimizer class keeps its state. tfjs's own getWeights/setWeights do not round
 * trip exactly: Adam's setWeights recomputes beta^t with pow() instead of restoring the running
 * product, which differs in the last bits, so a continued run would drift from an uninterrupted
 * one. The fields are read and replaced directly instead. Most specific class first (Momentum
 * extends SGD).
 */
const LAYOUTS: { is: (o: tf.Optimizer) => boolean; slots: string[]; scalars: string[] }[] = [
  {
    is: (o) => isA(o, tf.AdamOptimizer),
    slots: ['accumulatedFirstMoment', 'accumulatedSecondMoment'],
    scalars: ['accBeta1', 'accBeta2'],
  },
  {
    is: (o) => isA(o, tf.RMSPropOptimizer),
    slots: ['accumulatedMeanSquares', 'accumulatedMoments', 'accumulatedMeanGrads'],
    scalars: [],
  },
  { is: (o) => isA(o, tf.MomentumOptimizer), slots: ['accumulations'], scalars: [] },
  { is: (o) => isA(o, tf.SGDOptimizer), slots: [], scalars: [] },
];

type Fields = Record<string, unknown>;

function layoutOf(inner: tf.Optimizer): (typeof LAYOUTS)[number] {
  const layout = LAYOUTS.find((l) => l.is(inner));
  if (layout === undefined) throw new Error(`no saved-state layout for optimizer class ${inner.getClassName()}`);
  return layout;
}

const pad = (i: number): string => String(i).padStart(6, '0');

/**
 * Serialises everything a TrainingOptimizer carries from one update to the next (the update
 * count that drives the schedule, moment estimates, running products) in the weight-file format,
 * so equal states give equal bytes.
 */
export async function saveOptimizerState(optimizer: TrainingOptimizer): Promise<Uint8Array> {
  const tensors = new Map<string, tf.Tensor>();
  const step = tf.scalar(optimizer.step, 'int32');
  tensors.set('step', step);
  const inner = optimizer.inner;
  if (isA(inner, ProposedOptimizer)) {
    if (inner.stepCount !== optimizer.step)
      throw new Error(`optimizer counted ${inner.stepCount} updates but training ${optimizer.step}`);
    inner.slotList().forEach((s, i) => {
      tensors.set(`proposed/${pad(i)}/m`, s.m);
      tensors.set(`proposed/${pad(i)}/v`, s.v);
      if (s.p !== undefined) tensors.set(`proposed/${pad(i)}/p`, s.p);
    });
  } else {
    const layout = layoutOf(inner);
    const fields = inner as unknown as Fields;
    for (const field of layout.slots) {
      const list = (fields[field] ?? []) as (TfjsSlot | undefined)[];
      list.forEach((s, i) => {
        if (s !== undefined && s !== null) tensors.set(`slot/${field}/${pad(i)}/${s.originalName}`, s.variable);
      });
    }
    for (const field of layout.scalars) tensors.set(`scalar/${field}`, fields[field] as tf.Variable);
  }
  try {
    return await saveWeights(tensors);
  } finally {
    step.dispose();
  }
}

/** Reads a state file into fresh, non-trainable variables by name. */
function readState(bytes: Uint8Array): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const { name, shape, dtype } of listWeights(bytes))
    out.set(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape, dtype as 'float32' | 'int32'), false)),
    );
  loadWeights(out, bytes);
  return out;
}

/**
 * Puts `optimizer` (freshly made with the same config) in the state `bytes` was saved in, which
 * must be after `expectedStep` updates.
 */
export function restoreOptimizerState(optimizer: TrainingOptimizer, bytes: Uint8Array, expectedStep: number): void {
  const state = readState(bytes);
  const stepVar = state.get('step');
  const step = stepVar === undefined ? undefined : stepVar.dataSync()[0];
  stepVar?.dispose();
  state.delete('step');
  if (step !== expectedStep) {
    for (const v of state.values()) v.dispose();
    throw new Error(`optimizer state was saved after ${step ?? 'an unknown number of'} updates, not ${expectedStep}`);
  }
  optimizer.resumeAt(step);
  const inner = optimizer.inner;
  if (isA(inner, ProposedOptimizer)) {
    const slots: Partial<Record<'m' | 'v' | 'p', tf.Variable>>[] = [];
    for (const [name, variable] of state) {
      const [kind, index, slot] = name.split('/');
      if (kind !== 'proposed' || !(slot === 'm' || slot === 'v' || slot === 'p'))
        throw new Error(`optimizer state "${name}" is not the proposed optimizer's`);
      (slots[Number(index)] ??= {})[slot] = variable;
    }
    const weights = slots.map(({ m, v, p }, i) => {
      if (m === undefined || v === undefined) throw new Error(`optimizer state ${i} lacks its moment estimates`);
      return { m, v, p };
    });
    inner.restore(weights, step);
    return;
  }
  const layout = layoutOf(inner);
  const fields = inner as unknown as Fields;
  const lists = new Map<string, TfjsSlot[]>(layout.slots.map((f) => [f, []]));
  for (const [name, variable] of state) {
    const parts = name.split('/');
    if (parts[0] === 'scalar' && layout.scalars.includes(parts[1]!)) {
      (fields[parts[1]!] as tf.Variable).assign(variable);
      variable.dispose();
    } else if (parts[0] === 'slot' && lists.has(parts[1]!)) {
      lists.get(parts[1]!)![Number(parts[2])] = { originalName: parts.slice(3).join('/'), variable };
    } else {
      throw new Error(`optimizer state "${name}" does not belong to ${inner.getClassName()}`);
    }
  }
  for (const [field, list] of lists) {
    for (const old of (fields[field] ?? []) as (TfjsSlot | undefined)[]) old?.variable.dispose();
    fields[field] = list;
  }
}
