import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';

/*
 * A second, flat-array float64 reference for the GPT forward pass, written from the GPT-2
 * equations (Radford et al., 2019; layer norm eps 1e-5 and the tanh GELU, as GPT-2 used), run
 * on both the pure-JS cpu and the wasm backend. Unlike the model, the reference only ever sees
 * each sequence's real tokens: if padding leaked into real positions (through attention, the
 * loss weights or the classification pooling), the two would disagree. The pad slots hold random
 * ids rather than 0 so that such a leak would change the numbers.
 */

/** Row-major matrix. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

const mat = (rows: number, cols: number): Mat => ({ rows, cols, data: new Float64Array(rows * cols) });

function matmul(a: Mat, b: Mat): Mat {
  assert.equal(a.cols, b.rows, 'reference matmul shapes');
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const x = a.data[i * a.cols + k]!;
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j]! += x * b.data[k * b.cols + j]!;
    }
  return out;
}

function addBias(a: Mat, bias: Float64Array): Mat {
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) a.data[i * a.cols + j]! += bias[j]!;
  return a;
}

function addInPlace(a: Mat, b: Mat): void {
  for (let i = 0; i < a.data.length; i++) a.data[i]! += b.data[i]!;
}

function layerNorm(x: Mat, gain: Float64Array, bias: Float64Array): Mat {
  const out = mat(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let mean = 0;
    for (let j = 0; j < x.cols; j++) mean += x.data[i * x.cols + j]!;
    mean /= x.cols;
    let variance = 0;
    for (let j = 0; j < x.cols; j++) variance += (x.data[i * x.cols + j]! - mean) ** 2;
    variance /= x.cols; // biased, as in the original layer norm
    const scale = 1 / Math.sqrt(variance + 1e-5);
    for (let j = 0; j < x.cols; j++) out.data[i * x.cols + j] = (x.data[i * x.cols + j]! - mean) * scale * gain[j]! + bias[j]!;
  }
  return out;
}

const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

type Weights = Map<string, { shape: number[]; data: Float64Array }>;

function weight(w: Weights, name: string): Mat {
  const t = w.get(name);
  assert.ok(t !== undefined && t.shape.length === 2, `reference needs a matrix "${name}"`);
  return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data };
}

function vector(w: Weights, name: string): Float64Array {
  const t = w.get(name);
  assert.ok(t !== undefined && t.shape.length === 1, `reference needs a vector "${name}"`);
  return t.data;
}

/** Final-layer-norm hidden states `[T, d]` of one unpadded sequence. */
function referenceHidden(w: Weights, config: GptConfig, ids: readonly number[]): Mat {
  const { dModel: d, heads, layers } = config;
  const T = ids.length;
  const dh = d / heads;
  const wte = weight(w, 'wte');
  const wpe = weight(w, 'wpe');
  const x = mat(T, d);
  for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) x.data[t * d + j] = wte.data[ids[t]! * d + j]! + wpe.data[t * d + j]!;

  for (let l = 0; l < layers; l++) {
    const p = `h${l}/`;
    // Attention: q, k, v are column blocks [0, d), [d, 2d), [2d, 3d) of one projection; head h
    // owns columns [h dh, (h+1) dh) of each.
    const qkv = addBias(matmul(layerNorm(x, vector(w, p + 'ln1/g'), vector(w, p + 'ln1/b')), weight(w, p + 'attn/qkv/w')), vector(w, p + 'attn/qkv/b'));
    const at = (t: number, block: number, h: number, c: number): number => qkv.data[t * 3 * d + block * d + h * dh + c]!;
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

    const inner = addBias(matmul(layerNorm(x, vector(w, p + 'ln2/g'), vector(w, p + 'ln2/b')), weight(w, p + 'mlp/fc/w')), vector(w, p + 'mlp/fc/b'));
    for (let i = 0; i < inner.data.length; i++) inner.data[i] = gelu(inner.data[i]!);
    addInPlace(x, addBias(matmul(inner, weight(w, p + 'mlp/proj/w')), vector(w, p + 'mlp/proj/b')));
  }
  return layerNorm(x, vector(w, 'lnf/g'), vector(w, 'lnf/b'));
}

/** Sum of next-token negative log-likelihoods over a sequence, and how many targets it has. */
function referenceNll(w: Weights, config: GptConfig, ids: readonly number[]): { sum: number; count: number } {
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

function referenceClassLogits(w: Weights, config: GptConfig, ids: readonly number[]): number[] {
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

/** splitmix32: a small seeded generator of the test's own, independent of src/ml/rng.ts. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const CONFIG: GptConfig = { vocabSize: 11, contextLength: 6, layers: 2, dModel: 8, heads: 2, dFF: 16, numClasses: 3, dropout: 0 };

function expectedNames(config: GptConfig): string[] {
  const names = ['wte', 'wpe', 'lnf/g', 'lnf/b', 'cls/w', 'cls/b'];
  for (let l = 0; l < config.layers; l++) {
    for (const n of ['ln1/g', 'ln1/b', 'attn/qkv/w', 'attn/qkv/b', 'attn/proj/w', 'attn/proj/b', 'ln2/g', 'ln2/b', 'mlp/fc/w', 'mlp/fc/b', 'mlp/proj/w', 'mlp/proj/b']) names.push(`h${l}/${n}`);
  }
  return names.sort();
}

/**
 * Replaces every parameter with seeded random values, so that layer-norm gains and biases, every
 * bias and the class head are far from their initial 1/0 values and attention is far from
 * uniform; returns the values the model now holds, read back from it, as float64.
 */
function perturb(model: Gpt, seed: number): Weights {
  const random = seeded(seed);
  const out: Weights = new Map();
  for (const [name, variable] of model.variables) {
    const isGain = name.endsWith('/g');
    const values = Float32Array.from({ length: variable.size }, () => (isGain ? 1 : 0) + (isGain ? 0.5 : 1) * (2 * random() - 1));
    const t = tf.tensor(values, variable.shape, 'float32');
    variable.assign(t);
    t.dispose();
    const read = (variable.arraySync() as number[] | number[][]).flat();
    assert.deepEqual(read, Array.from(values), `variable "${name}" holds what was assigned`);
    out.set(name, { shape: [...variable.shape], data: Float64Array.from(read) });
  }
  return out;
}

const relativeError = (got: number, want: number, scale: number): number => Math.abs(got - want) / Math.max(Math.abs(want), scale);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`GPT forward pass on ${backend} against a flat float64 reference`, () => {
    it('matches the LM loss (batch and per row) and the class logits, with random weights and random padding ids', async () => {
      const choice = await chooseBackend([backend]);
      assert.equal(choice.name, backend);
      const model = new Gpt(CONFIG, 3);
      try {
        assert.deepEqual([...model.variables.keys()].sort(), expectedNames(CONFIG), 'the reference covers every parameter');
        const w = perturb(model, 20261127);

        const random = seeded(99);
        const lengths = [6, 4, 2];
        const T = CONFIG.contextLength;
        const sequences = lengths.map((n) => Array.from({ length: n }, () => Math.floor(random() * CONFIG.vocabSize)));
        // Pad slots get random ids too: the mask alone must keep them out.
        const padded = sequences.map((s) => [...s, ...Array.from({ length: T - s.length }, () => Math.floor(random() * CONFIG.vocabSize))]);
        const maskRows = lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)));

        const perRow = sequences.map((s) => referenceNll(w, CONFIG, s));
        const wantLoss = perRow.reduce((a, r) => a + r.sum, 0) / perRow.reduce((a, r) => a + r.count, 0);
        const wantLogits = sequences.map((s) => referenceClassLogits(w, CONFIG, s));

        const ids = tf.tensor2d(padded, [padded.length, T], 'int32');
        const mask = tf.tensor2d(maskRows, [padded.length, T], 'float32');
        const gotLoss = model.lmLoss(ids, mask).dataSync()[0]!;
        const gotLogits = model.classLogits(ids, mask).arraySync();
        ids.dispose();
        mask.dispose();

        // The batch loss is a mean over all real targets (rows weighted by length), so a wrong
        // mean of per-row means would fail here; each row is also checked alone.
        assert.ok(relativeError(gotLoss, wantLoss, 1e-3) < 1e-4, `${backend} LM loss ${gotLoss} vs reference ${wantLoss}`);
        sequences.forEach((s, i) => {
          const rowIds = tf.tensor2d([padded[i]!], [1, T], 'int32');
          const rowMask = tf.tensor2d([maskRows[i]!], [1, T], 'float32');
          const got = model.lmLoss(rowIds, rowMask).dataSync()[0]!;
          rowIds.dispose();
          rowMask.dispose();
          const want = perRow[i]!.sum / perRow[i]!.count;
          assert.ok(relativeError(got, want, 1e-3) < 1e-4, `${backend} row ${i} (length ${s.length}) LM loss ${got} vs reference ${want}`);
        });

        // Logits near zero would make a plain relative error meaningless: scale by the row's size.
        wantLogits.forEach((row, i) => {
          const scale = Math.max(...row.map(Math.abs));
          row.forEach((want, c) => {
            const got = gotLogits[i]![c]!;
            assert.ok(relativeError(got, want, scale) < 1e-4, `${backend} class logit [${i}][${c}] ${got} vs reference ${want}`);
          });
        });
        // Guard against a vacuous pass: the perturbed model must be far from uniform predictions.
        assert.ok(Math.abs(wantLoss - Math.log(CONFIG.vocabSize)) > 0.05, `reference loss ${wantLoss} is suspiciously close to log(vocab)`);
      } finally {
        model.dispose();
      }
    });
  });
}
