import * as tf from '@tensorflow/tfjs-core';

/**
 * A per-variable state variable as tfjs's own optimizers keep it, in positional lists that its
 * typings call private (not exported by tfjs-core). The fused updates read and grow the same
 * lists, so saving and restoring the state (optimizer-state.ts) sees one layout either way.
 */
export interface TfjsSlot {
  originalName: string;
  variable: tf.Variable;
}

type VariableGradients = Parameters<tf.Optimizer['applyGradients']>[0];

/** The (variable name, gradient) pairs of an `applyGradients` argument, in the order tfjs visits them. */
export function gradientEntries(variableGradients: VariableGradients): [string, tf.Tensor | null][] {
  return Array.isArray(variableGradients)
    ? variableGradients.map((g) => [g.name, g.tensor])
    : Object.entries(variableGradients);
}

/**
 * Slot `i` of one of tfjs's lists, created the first time as zeros shaped like `value` and named
 * `<name>/<suffix>`, exactly as tfjs creates it, so a run that switches between the fused update
 * and tfjs's ops keeps one state.
 */
export function slotFor(list: TfjsSlot[], i: number, name: string, suffix: string, value: tf.Variable): tf.Variable {
  list[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  return list[i].variable;
}
