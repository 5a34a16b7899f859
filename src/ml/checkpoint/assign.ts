import * as tf from '@tensorflow/tfjs-core';

/** A tensor's values as a checkpoint mapping produced them, in the model's own layout. */
export interface MappedTensor {
  shape: number[];
  data: Float32Array;
  /** The checkpoint tensor it came from, for error messages. */
  source: string;
}

export interface AssignOptions {
  /** Model parameters a checkpoint may lack (a new classification head): left as initialised. */
  optional?: (name: string) => boolean;
  /** Names the checkpoint in errors. */
  file?: string;
}

/**
 * Copies mapped checkpoint tensors into a model's variables. Checks everything first, then
 * assigns, so a mismatch leaves the model untouched: each required variable must be present with
 * exactly its shape; the error names the checkpoint tensor.
 */
export function assignVariables(
  variables: ReadonlyMap<string, tf.Variable>,
  mapped: ReadonlyMap<string, MappedTensor>,
  options: AssignOptions = {},
): void {
  const file = options.file ?? 'checkpoint';
  const plan: [tf.Variable, MappedTensor][] = [];
  for (const name of [...variables.keys()].sort()) {
    const variable = variables.get(name)!;
    const value = mapped.get(name);
    if (value === undefined) {
      if (options.optional?.(name)) continue;
      throw new Error(`${file}: missing the tensor for parameter "${name}"`);
    }
    if (value.shape.length !== variable.shape.length || value.shape.some((d, i) => d !== variable.shape[i])) {
      throw new Error(
        `${file}: tensor "${value.source}" has shape [${value.shape.join(', ')}] but the model expects [${variable.shape.join(', ')}]`,
      );
    }
    plan.push([variable, value]);
  }
  for (const [variable, value] of plan) {
    const t = tf.tensor(value.data, value.shape, 'float32');
    variable.assign(t);
    t.dispose();
  }
}

/** `[rows, cols]` row-major values transposed: a PyTorch Linear's `[out, in]` to our `[in, out]`. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}
