import assert from 'node:assert/strict';
import type { GptConfig } from '../../src/ml/models/gpt-config.ts';
import { type Mat, layerNorm as layerNormEps, logSumExp, mat, matmul } from './reference-math.ts';

export { type Mat, logSumExp, mat, matmul, seeded } from './reference-math.ts';

/*
 * A flat-array float64 reference for the GPT-2 forward pass, written from the GPT-2 equations
 * (Radford et al., 2019; layer norm eps 1e-5 and the tanh GELU, as GPT-2 used). It only ever sees
 * each sequence's real tokens. Weights are named as our decoder names them; a test of another
 * layout maps names to these first.
 */

/** Row-major matrix. */

export function addBias(a: Mat, bias: Float64Array): Mat {
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) a.data[i * a.cols + j]! += bias[j]!;
  return a;
}

export function addInPlace(a: Mat, b: Mat): void {
  for (let i = 0; i < a.data.length; i++) a.data[i]! += b.data[i]!;
}

/** GPT-2's layer norm: epsilon 1e-5. */
export const layerNorm = (x: Mat, gain: Float64Array, bias: Float64Array): Mat => layerNormEps(x, gain, bias, 1e-5);

export const gelu = (x: number): number =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

export type Weights = Map<string, { shape: number[]; data: Float64Array }>;

export function weight(w: Weights, name: string): Mat {
  const t = w.get(name);
  assert.ok(t !== undefined && t.shape.length === 2, `reference needs a matrix "${name}"`);
  return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data };
}

export function vector(w: Weights, name: string): Float64Array {
  const t = w.get(name);
  assert.ok(t !== undefined && t.shape.length === 1, `reference needs a vector "${name}"`);
  return t.data;
}

/** Final-layer-norm hidden states `[T, d]` of one unpadded sequence. */
export function referenceHidden(w: Weights, config: GptConfig, ids: readonly number[]): Mat {
  const { dModel: d, heads, layers } = config;
  const T = ids.length;
  const dh = d / heads;
  const wte = weight(w, 'wte');
  const wpe = weight(w, 'wpe');
  const x = mat(T, d);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < d; j++) x.data[t * d + j] = wte.data[ids[t]! * d + j]! + wpe.data[t * d + j]!;

  for (let l = 0; l < layers; l++) {
    const p = `h${l}/`;
    // Attention: q, k, v are column blocks [0, d), [d, 2d), [2d, 3d) of one projection; head h
    // owns columns [h dh, (h+1) dh) of each.
    const qkv = addBias(
      matmul(layerNorm(x, vector(w, p + 'ln1/g'), vector(w, p + 'ln1/b')), weight(w, p + 'attn/qkv/w')),
      vector(w, p + 'attn/qkv/b'),
    );
    const at = (t: number, block: number, h: number, c: number): number =>
      qkv.data[t * 3 * d + block * d + h * dh + c]!;
    const heads_ = mat(T, d);
    const scores = new Float64Array(T);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < T; i++) {
        // Causal: position i attends to 0..i only.
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += at(i, 0, h, c) * at(j, 1, h, c);
          scores[j] = s / Math.sqrt(dh);
        }
        const lse = logSumExp(scores.subarray(0, i + 1));
        for (let j = 0; j <= i; j++) {
          const weightIJ = Math.exp(scores[j]! - lse);
          for (let c = 0; c < dh; c++) heads_.data[i * d + h * dh + c]! += weightIJ * at(j, 2, h, c);
        }
      }
    addInPlace(x, addBias(matmul(heads_, weight(w, p + 'attn/proj/w')), vector(w, p + 'attn/proj/b')));

    const inner = addBias(
      matmul(layerNorm(x, vector(w, p + 'ln2/g'), vector(w, p + 'ln2/b')), weight(w, p + 'mlp/fc/w')),
      vector(w, p + 'mlp/fc/b'),
    );
    for (let i = 0; i < inner.data.length; i++) inner.data[i] = gelu(inner.data[i]!);
    addInPlace(x, addBias(matmul(inner, weight(w, p + 'mlp/proj/w')), vector(w, p + 'mlp/proj/b')));
  }
  return layerNorm(x, vector(w, 'lnf/g'), vector(w, 'lnf/b'));
}

/** Sum of next-token negative log-likelihoods over a sequence, and how many targets it has. */
export function referenceNll(w: Weights, config: GptConfig, ids: readonly number[]): { sum: number; count: number } {
  const h = referenceHidden(w, config, ids);
  const wte = weight(w, 'wte');
  const d = config.dModel;
  const logits = new Float64Array(config.vocabSize);
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    // Tied head: logit_v = h_t . wte_v.
    for (let v = 0; v < config.vocabSize; v++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += h.data[t * d + j]! * wte.data[v * d + j]!;
      logits[v] = s;
    }
    sum += logSumExp(logits) - logits[ids[t + 1]!]!;
  }
  return { sum, count: ids.length - 1 };
}

export function referenceClassLogits(w: Weights, config: GptConfig, ids: readonly number[]): number[] {
  const h = referenceHidden(w, config, ids);
  const d = config.dModel;
  const last = ids.length - 1;
  const clsW = weight(w, 'cls/w');
  const clsB = vector(w, 'cls/b');
  return Array.from(clsB, (b, c) => {
    let s = b;
    for (let j = 0; j < d; j++) s += h.data[last * d + j]! * clsW.data[j * clsW.cols + c]!;
    return s;
  });
}
