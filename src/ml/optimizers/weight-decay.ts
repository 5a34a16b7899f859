import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether a parameter takes weight decay: matrices and embeddings do; biases and layer-norm
 * gains (rank 1) do not, because shrinking them toward zero regularises nothing useful and
 * hurts (the convention of the GPT-2, BERT and AdamW fine-tuning recipes).
 */
export function decays(variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

/** The registered variable behind an optimizer's gradient key. */
export function variableNamed(name: string): tf.Variable {
  const v = tf.engine().registeredVariables[name];
  if (v === undefined) throw new Error(`no variable named "${name}"`);
  return v;
}
