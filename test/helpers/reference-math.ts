import assert from 'node:assert/strict';

/** Plain float64 arithmetic the reference tests are written in: row-major matrices, log-sum-exp, a seeded generator. */

/** Row-major matrix. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export const mat = (rows: number, cols: number): Mat => ({ rows, cols, data: new Float64Array(rows * cols) });

export function matmul(a: Mat, b: Mat): Mat {
  assert.equal(a.cols, b.rows, 'reference matmul shapes');
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const x = a.data[i * a.cols + k]!;
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j]! += x * b.data[k * b.cols + j]!;
    }
  return out;
}

export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

/** splitmix32: a small seeded generator of the test's own, independent of src/ml/rng.ts. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

/** Layer normalisation of each row with the biased variance, as the original layer norm and torch.nn.LayerNorm compute it. */
export function layerNorm(x: Mat, gain: Float64Array, bias: Float64Array, eps: number): Mat {
  const out = mat(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let mean = 0;
    for (let j = 0; j < x.cols; j++) mean += x.data[i * x.cols + j]!;
    mean /= x.cols;
    let variance = 0;
    for (let j = 0; j < x.cols; j++) variance += (x.data[i * x.cols + j]! - mean) ** 2;
    variance /= x.cols;
    const scale = 1 / Math.sqrt(variance + eps);
    for (let j = 0; j < x.cols; j++)
      out.data[i * x.cols + j] = (x.data[i * x.cols + j]! - mean) * scale * gain[j]! + bias[j]!;
  }
  return out;
}
