import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { SafeTensors, type TensorToWrite, writeSafetensors } from '../src/ml/checkpoint/safetensors.ts';
import { loadT5Checkpoint, t5ConfigFromHf, t5TensorsFromHf } from '../src/ml/checkpoint/t5-checkpoint.ts';
import { T5, relativePositionBucket } from '../src/ml/models/t5.ts';
import { type Mat, logSumExp, mat, seeded } from './helpers/reference-math.ts';

/*
 * A float64 plain-loop reference for T5ForConditionalGeneration's forward pass, written from the
 * Hugging Face T5 equations (modeling_t5.py) and reading the checkpoint's tensors by their
 * Hugging Face names, in PyTorch's layout (Linear weights [out, in], embeddings [rows, dim]). It
 * shares no code with the model: its own bucket function, attention, norms and head. Tiny random
 * checkpoints are written as Hugging Face writes them (config.json plus model.safetensors with the
 * real tensor names and shapes), loaded through the checkpoint mapping, and the model's decoder
 * logits for padded batches are compared with the reference run on each row's real tokens alone.
 * Pad slots hold random ids, so any leak of padding would change the numbers. Relative distances
 * reach past the exact buckets into the logarithmic ones and past the maximum distance.
 */

type HfTensors = Map<string, { shape: number[]; data: Float64Array }>;

function tensor(w: HfTensors, ...names: string[]): { shape: number[]; data: Float64Array } {
  for (const name of names) {
    const t = w.get(name);
    if (t) return t;
  }
  throw new Error(`reference needs "${names.join('" or "')}"`);
}

/** nn.Linear without bias: y = x W^T with W stored [out, in]. */
function linear(x: Mat, w: HfTensors, name: string): Mat {
  const { shape, data } = tensor(w, name);
  const [outDim, inDim] = shape as [number, number];
  assert.equal(x.cols, inDim, `reference: ${name} input width`);
  const y = mat(x.rows, outDim);
  for (let i = 0; i < x.rows; i++)
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let k = 0; k < inDim; k++) s += x.data[i * inDim + k]! * data[o * inDim + k]!;
      y.data[i * outDim + o] = s;
    }
  return y;
}

/** T5LayerNorm: x / sqrt(mean(x^2) + eps) * weight. */
function t5Norm(x: Mat, w: HfTensors, name: string, eps: number): Mat {
  const g = tensor(w, name).data;
  const y = mat(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let ms = 0;
    for (let j = 0; j < x.cols; j++) ms += x.data[i * x.cols + j]! ** 2;
    const scale = 1 / Math.sqrt(ms / x.cols + eps);
    for (let j = 0; j < x.cols; j++) y.data[i * x.cols + j] = x.data[i * x.cols + j]! * scale * g[j]!;
  }
  return y;
}

function addInto(x: Mat, y: Mat): void {
  for (let i = 0; i < x.data.length; i++) x.data[i]! += y.data[i]!;
}

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/**
 * `_relative_position_bucket` from its docstring: memory minus query position; bidirectional
 * halves the buckets by direction; half of those are exact distances, the rest logarithmic up to
 * max_distance, clamped to the last bucket.
 */
function bucketOf(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let total = numBuckets;
  let bucket = 0;
  let distance: number;
  if (bidirectional) {
    total = Math.floor(total / 2);
    if (relative > 0) bucket += total;
    distance = Math.abs(relative);
  } else distance = relative < 0 ? -relative : 0;
  const exact = Math.floor(total / 2);
  if (distance < exact) return bucket + distance;
  const logBucket = exact + Math.floor((Math.log(distance / exact) / Math.log(maxDistance / exact)) * (total - exact));
  return bucket + Math.min(logBucket, total - 1);
}

interface RefConfig {
  d: number;
  heads: number;
  dKv: number;
  buckets: number;
  maxDistance: number;
  eps: number;
  encoderLayers: number;
  decoderLayers: number;
  gated: boolean;
  tied: boolean;
  vocab: number;
}

/** The position bias a head adds to query i's score for key j, and which keys query i may see. */
type Bias = (head: number, i: number, j: number) => number;
type Visible = (i: number, j: number) => boolean;

/** T5Attention: scores q k^T (unscaled) + position bias, softmax over visible keys, then o. */
function attention(xq: Mat, xkv: Mat, w: HfTensors, prefix: string, c: RefConfig, bias: Bias, visible: Visible): Mat {
  const q = linear(xq, w, `${prefix}.q.weight`);
  const k = linear(xkv, w, `${prefix}.k.weight`);
  const v = linear(xkv, w, `${prefix}.v.weight`);
  const inner = c.heads * c.dKv;
  const mixed = mat(xq.rows, inner);
  for (let h = 0; h < c.heads; h++)
    for (let i = 0; i < xq.rows; i++) {
      const scores: number[] = [];
      const keys: number[] = [];
      for (let j = 0; j < xkv.rows; j++) {
        if (!visible(i, j)) continue;
        let s = bias(h, i, j);
        for (let e = 0; e < c.dKv; e++) s += q.data[i * inner + h * c.dKv + e]! * k.data[j * inner + h * c.dKv + e]!;
        scores.push(s);
        keys.push(j);
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      keys.forEach((j, n) => {
        const p = exps[n]! / total;
        for (let e = 0; e < c.dKv; e++)
          mixed.data[i * inner + h * c.dKv + e]! += p * v.data[j * inner + h * c.dKv + e]!;
      });
    }
  return linear(mixed, w, `${prefix}.o.weight`);
}

function feedForward(x: Mat, w: HfTensors, prefix: string, c: RefConfig): Mat {
  if (!c.gated) {
    const h = linear(x, w, `${prefix}.wi.weight`);
    for (let i = 0; i < h.data.length; i++) h.data[i] = Math.max(0, h.data[i]!);
    return linear(h, w, `${prefix}.wo.weight`);
  }
  const a = linear(x, w, `${prefix}.wi_0.weight`);
  const b = linear(x, w, `${prefix}.wi_1.weight`);
  for (let i = 0; i < a.data.length; i++) a.data[i] = geluNew(a.data[i]!) * b.data[i]!;
  return linear(a, w, `${prefix}.wo.weight`);
}

function embed(w: HfTensors, ids: readonly number[], c: RefConfig): Mat {
  const table = tensor(w, 'shared.weight', 'encoder.embed_tokens.weight').data;
  const x = mat(ids.length, c.d);
  ids.forEach((id, t) => {
    for (let j = 0; j < c.d; j++) x.data[t * c.d + j] = table[id * c.d + j]!;
  });
  return x;
}

function relativeBias(w: HfTensors, stack: string, c: RefConfig, bidirectional: boolean): Bias {
  const table = tensor(w, `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`).data;
  return (h, i, j) => table[bucketOf(j - i, bidirectional, c.buckets, c.maxDistance) * c.heads + h]!;
}

/** A block's first sublayer, pre-norm self-attention over the positions `visible` allows, added into `x`. */
function addSelfAttention(x: Mat, w: HfTensors, block: string, c: RefConfig, bias: Bias, visible: Visible): void {
  const h = t5Norm(x, w, `${block}.0.layer_norm.weight`, c.eps);
  addInto(x, attention(h, h, w, `${block}.0.SelfAttention`, c, bias, visible));
}

function referenceEncoder(w: HfTensors, ids: readonly number[], c: RefConfig): Mat {
  const x = embed(w, ids, c);
  const bias = relativeBias(w, 'encoder', c, true);
  for (let l = 0; l < c.encoderLayers; l++) {
    const p = `encoder.block.${l}.layer`;
    addSelfAttention(x, w, p, c, bias, () => true);
    addInto(x, feedForward(t5Norm(x, w, `${p}.1.layer_norm.weight`, c.eps), w, `${p}.1.DenseReluDense`, c));
  }
  return t5Norm(x, w, 'encoder.final_layer_norm.weight', c.eps);
}

/** lm_logits `[decoder length, vocab]` of one unpadded example. */
function referenceLogits(w: HfTensors, encIds: readonly number[], decIds: readonly number[], c: RefConfig): Mat {
  const encoded = referenceEncoder(w, encIds, c);
  const y = embed(w, decIds, c);
  const bias = relativeBias(w, 'decoder', c, false);
  for (let l = 0; l < c.decoderLayers; l++) {
    const p = `decoder.block.${l}.layer`;
    addSelfAttention(y, w, p, c, bias, (i, j) => j <= i);
    addInto(
      y,
      attention(
        t5Norm(y, w, `${p}.1.layer_norm.weight`, c.eps),
        encoded,
        w,
        `${p}.1.EncDecAttention`,
        c,
        () => 0,
        () => true,
      ),
    );
    addInto(y, feedForward(t5Norm(y, w, `${p}.2.layer_norm.weight`, c.eps), w, `${p}.2.DenseReluDense`, c));
  }
  const out = t5Norm(y, w, 'decoder.final_layer_norm.weight', c.eps);
  if (!c.tied) return linear(out, w, 'lm_head.weight');
  for (let i = 0; i < out.data.length; i++) out.data[i]! *= c.d ** -0.5;
  const shared = tensor(w, 'shared.weight', 'encoder.embed_tokens.weight');
  return linear(out, new Map([['head', shared]]), 'head');
}

interface Case {
  title: string;
  hfConfig: Record<string, unknown>;
  ref: RefConfig;
  dtype: 'F32' | 'BF16' | 'F16';
  /** Where the shared embedding is stored. */
  embeddingName: string;
}

const CASES: Case[] = [
  {
    title: 'T5 v1.1 (gated-gelu, untied lm_head, F32, 3 decoder blocks over 2 encoder blocks)',
    hfConfig: {
      architectures: ['T5ForConditionalGeneration'],
      d_ff: 24,
      d_kv: 5,
      d_model: 16,
      decoder_start_token_id: 0,
      dense_act_fn: 'gelu_new',
      dropout_rate: 0.1,
      eos_token_id: 1,
      feed_forward_proj: 'gated-gelu',
      initializer_factor: 1.0,
      is_encoder_decoder: true,
      is_gated_act: true,
      layer_norm_epsilon: 1e-6,
      model_type: 't5',
      num_decoder_layers: 3,
      num_heads: 3,
      num_layers: 2,
      output_past: true,
      pad_token_id: 0,
      relative_attention_max_distance: 16,
      relative_attention_num_buckets: 16,
      tie_word_embeddings: false,
      torch_dtype: 'float32',
      transformers_version: '4.40.0',
      use_cache: true,
      vocab_size: 40,
    },
    ref: {
      d: 16,
      heads: 3,
      dKv: 5,
      buckets: 16,
      maxDistance: 16,
      eps: 1e-6,
      encoderLayers: 2,
      decoderLayers: 3,
      gated: true,
      tied: false,
      vocab: 40,
    },
    dtype: 'F32',
    embeddingName: 'shared.weight',
  },
  {
    // As t5-small's config.json: no feed_forward_proj, tie_word_embeddings or num_decoder_layers,
    // so the defaults (relu, tied, as many decoder blocks as encoder blocks) are exercised; the
    // embedding saved only under encoder.embed_tokens, as deduplicated tied checkpoints may be.
    title: 'T5 v1.0 (relu, tied embeddings, BF16 weights)',
    hfConfig: {
      architectures: ['T5ForConditionalGeneration'],
      d_ff: 20,
      d_kv: 6,
      d_model: 16,
      decoder_start_token_id: 0,
      dropout_rate: 0.1,
      eos_token_id: 1,
      initializer_factor: 1.0,
      is_encoder_decoder: true,
      layer_norm_epsilon: 1e-6,
      model_type: 't5',
      n_positions: 512,
      num_heads: 2,
      num_layers: 2,
      output_past: true,
      pad_token_id: 0,
      relative_attention_num_buckets: 8,
      vocab_size: 37,
    },
    ref: {
      d: 16,
      heads: 2,
      dKv: 6,
      buckets: 8,
      maxDistance: 128,
      eps: 1e-6,
      encoderLayers: 2,
      decoderLayers: 2,
      gated: false,
      tied: true,
      vocab: 37,
    },
    dtype: 'BF16',
    embeddingName: 'encoder.embed_tokens.weight',
  },
];

/** Every tensor T5ForConditionalGeneration saves, with its PyTorch shape and random values. */
function randomCheckpoint(
  c: RefConfig,
  embeddingName: string,
  dtype: Case['dtype'],
  seed: number,
): Map<string, TensorToWrite> {
  const random = seeded(seed);
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, shape: number[], centre: number, spread: number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(name, { dtype, shape, data: Float32Array.from({ length: n }, () => centre + spread * (2 * random() - 1)) });
  };
  const inner = c.heads * c.dKv;
  const dFF = c.gated ? 24 : 20;
  put(embeddingName, [c.vocab, c.d], 0, 1.5);
  for (const stack of ['encoder', 'decoder'] as const) {
    const layers = stack === 'encoder' ? c.encoderLayers : c.decoderLayers;
    // Large enough that the position bias visibly shapes attention.
    put(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`, [c.buckets, c.heads], 0, 2);
    for (let l = 0; l < layers; l++) {
      const p = `${stack}.block.${l}.layer`;
      const attn = (name: string): void => {
        put(`${name}.q.weight`, [inner, c.d], 0, 0.5);
        put(`${name}.k.weight`, [inner, c.d], 0, 0.5);
        put(`${name}.v.weight`, [inner, c.d], 0, 0.5);
        put(`${name}.o.weight`, [c.d, inner], 0, 0.4);
      };
      attn(`${p}.0.SelfAttention`);
      put(`${p}.0.layer_norm.weight`, [c.d], 1, 0.5);
      let ff = 1;
      if (stack === 'decoder') {
        attn(`${p}.1.EncDecAttention`);
        put(`${p}.1.layer_norm.weight`, [c.d], 1, 0.5);
        ff = 2;
      }
      if (c.gated) {
        put(`${p}.${ff}.DenseReluDense.wi_0.weight`, [dFF, c.d], 0, 0.5);
        put(`${p}.${ff}.DenseReluDense.wi_1.weight`, [dFF, c.d], 0, 0.5);
      } else put(`${p}.${ff}.DenseReluDense.wi.weight`, [dFF, c.d], 0, 0.5);
      put(`${p}.${ff}.DenseReluDense.wo.weight`, [c.d, dFF], 0, 0.4);
      put(`${p}.${ff}.layer_norm.weight`, [c.d], 1, 0.5);
    }
    put(`${stack}.final_layer_norm.weight`, [c.d], 1, 0.5);
  }
  if (!c.tied) put('lm_head.weight', [c.vocab, c.d], 0, 0.5);
  return out;
}

const tmp = mkdtempSync(path.join(tmpdir(), 't5-reference-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes the checkpoint directory and reads it back as a loader would. */
function writeAndRead(
  dir: string,
  hfConfig: Record<string, unknown>,
  tensors: Map<string, TensorToWrite>,
): { config: Record<string, unknown>; st: SafeTensors } {
  const full = path.join(tmp, dir);
  mkdirSync(full, { recursive: true });
  writeFileSync(path.join(full, 'config.json'), JSON.stringify(hfConfig, null, 2));
  writeFileSync(path.join(full, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  return {
    config: JSON.parse(readFileSync(path.join(full, 'config.json'), 'utf8')) as Record<string, unknown>,
    st: SafeTensors.parse(new Uint8Array(readFileSync(path.join(full, 'model.safetensors')))),
  };
}

const SPECIAL = { pad: 0, eos: 1, sentinels: [30, 31, 32] };
const LABELS = [
  [5, 7, 1],
  [9, 1],
];

for (const backend of ['cpu', 'wasm'] as const) {
  for (const [n, kase] of CASES.entries()) {
    describe(`T5 checkpoint on ${backend}: ${kase.title}`, () => {
      it('gives Hugging Face T5 logits and loss for padded batches (float64 reference on the HF-named tensors)', async () => {
        const choice = await chooseBackend([backend]);
        assert.equal(choice.name, backend);
        const c = kase.ref;
        const { config: hfConfig, st } = writeAndRead(
          `case${n}-${backend}`,
          kase.hfConfig,
          randomCheckpoint(c, kase.embeddingName, kase.dtype, 1000 + n),
        );
        const config = t5ConfigFromHf(hfConfig, 2, 4);
        assert.equal(config.tieEmbeddings, c.tied);
        assert.equal(config.feedForward, c.gated ? 'gated-gelu' : 'relu');
        assert.equal(config.decoderLayers, c.decoderLayers);
        assert.equal(config.relativeMaxDistance, c.maxDistance);
        assert.equal(config.contextLength, 512);
        // The reference reads what the file holds: half-precision values as rounded there.
        const w: HfTensors = new Map(
          [...st.tensors.keys()].map((name) => {
            const t = st.float32(name);
            return [name, { shape: t.shape, data: Float64Array.from(t.data) }];
          }),
        );

        const model = new T5(config, SPECIAL, LABELS, 7);
        try {
          loadT5Checkpoint(model, st);
          const random = seeded(77 + n);
          const token = (): number => 2 + Math.floor(random() * (c.vocab - 2));
          // Longer than the bidirectional maximum distance (16 for v1.1, logarithmic from 4 or 2
          // on), so every bucket regime occurs, including the clamp.
          const encLengths = [20, 13, 6];
          const decLengths = [18, 9, 3];
          const encT = Math.max(...encLengths);
          const decT = Math.max(...decLengths);
          const encRows = encLengths.map((len) => Array.from({ length: len }, token));
          const decRows = decLengths.map((len) => [0, ...Array.from({ length: len - 1 }, token)]);
          const padRow = (row: number[], time: number): number[] => [
            ...row,
            ...Array.from({ length: time - row.length }, token),
          ];
          const maskRow = (len: number, time: number): number[] =>
            Array.from({ length: time }, (_, t) => (t < len ? 1 : 0));

          const encIds = tf.tensor2d(
            encRows.map((r) => padRow(r, encT)),
            undefined,
            'int32',
          );
          const encMask = tf.tensor2d(encLengths.map((len) => maskRow(len, encT)));
          const decIds = tf.tensor2d(
            decRows.map((r) => padRow(r, decT)),
            undefined,
            'int32',
          );
          const decMask = tf.tensor2d(decLengths.map((len) => maskRow(len, decT)));
          const logits = model.logits(encIds, encMask, decIds, decMask);
          assert.deepEqual(logits.shape, [3, decT, c.vocab]);
          const got = logits.arraySync();
          logits.dispose();

          let worst = 0;
          let spread = 0;
          encRows.forEach((enc, r) => {
            const want = referenceLogits(w, enc, decRows[r]!, c);
            for (let t = 0; t < decRows[r]!.length; t++) {
              const row = want.data.subarray(t * c.vocab, (t + 1) * c.vocab);
              const scale = Math.max(...Array.from(row, Math.abs));
              spread = Math.max(spread, Math.max(...row) - Math.min(...row));
              for (let v = 0; v < c.vocab; v++) worst = Math.max(worst, Math.abs(got[r]![t]![v]! - row[v]!) / scale);
            }
          });
          assert.ok(worst < 1e-4, `${backend}: largest logit error relative to the row's scale ${worst}`);
          assert.ok(spread > 1, `reference logits are suspiciously flat (spread ${spread})`);

          // The classification loss is the label text's cross-entropy under teacher forcing.
          const labels = [0, 1, 1];
          const loss = tf.tidy(
            () => model.classificationLoss(encIds, encMask, tf.tensor1d(labels, 'int32')).dataSync()[0]!,
          );
          let sum = 0;
          let count = 0;
          encRows.forEach((enc, r) => {
            const target = LABELS[labels[r]!]!;
            const want = referenceLogits(w, enc, [0, ...target.slice(0, -1)], c);
            target.forEach((y, t) => {
              const row = want.data.subarray(t * c.vocab, (t + 1) * c.vocab);
              sum += logSumExp(row) - row[y]!;
              count++;
            });
          });
          assert.ok(
            Math.abs(loss - sum / count) / Math.max(1, sum / count) < 1e-4,
            `${backend}: classification loss ${loss} vs reference ${sum / count}`,
          );
          tf.dispose([encIds, encMask, decIds, decMask]);
        } finally {
          model.dispose();
        }
      });
    });
  }
}

describe('T5 checkpoint errors', () => {
  const kase = CASES[0]!;
  const c = kase.ref;
  const config = t5ConfigFromHf(kase.hfConfig, 2, 4);

  it('names a missing tensor, and leaves the model untouched', async () => {
    await chooseBackend(['wasm']);
    const tensors = randomCheckpoint(c, kase.embeddingName, kase.dtype, 5);
    const gone = 'decoder.block.1.layer.1.EncDecAttention.k.weight';
    tensors.delete(gone);
    const { st } = writeAndRead('missing', kase.hfConfig, tensors);
    const model = new T5(config, SPECIAL, LABELS, 1);
    try {
      const before = model.variables.get('enc/b0/attn/q')!.dataSync().slice();
      assert.throws(
        () => loadT5Checkpoint(model, st),
        (e: Error) => e.message.includes(gone) && !e.message.includes('\n'),
      );
      assert.deepEqual(model.variables.get('enc/b0/attn/q')!.dataSync(), before);
    } finally {
      model.dispose();
    }
    const untied = randomCheckpoint(c, kase.embeddingName, kase.dtype, 5);
    untied.delete('lm_head.weight');
    assert.throws(
      () => t5TensorsFromHf(writeAndRead('no-head', kase.hfConfig, untied).st, config),
      /"lm_head\.weight"/,
    );
  });

  it('names a tensor of the wrong shape', () => {
    const tensors = randomCheckpoint(c, kase.embeddingName, kase.dtype, 6);
    const name = 'encoder.block.1.layer.1.DenseReluDense.wi_1.weight';
    const t = tensors.get(name)!;
    tensors.set(name, { ...t, shape: [...t.shape].reverse() });
    const { st } = writeAndRead('shape', kase.hfConfig, tensors);
    assert.throws(
      () => t5TensorsFromHf(st, config),
      (e: Error) => e.message.includes(`"${name}"`) && e.message.includes('[16, 24]') && !e.message.includes('\n'),
    );
  });

  it('refuses an unknown feed_forward_proj, naming the field', () => {
    assert.throws(
      () => t5ConfigFromHf({ ...kase.hfConfig, feed_forward_proj: 'gated-silu' }, 2, 4),
      (e: Error) => /feed_forward_proj/.test(e.message) && /gated-silu/.test(e.message) && !e.message.includes('\n'),
    );
    assert.throws(() => t5ConfigFromHf({ ...kase.hfConfig, d_model: undefined }, 2, 4), /"d_model"/);
  });

  it('buckets relative positions as Hugging Face does (exact, logarithmic, clamped)', () => {
    // _relative_position_bucket with T5's 32 buckets and distance 128, worked by hand.
    for (const bucket of [bucketOf, relativePositionBucket]) {
      const bi = (r: number): number => bucket(r, true, 32, 128);
      assert.deepEqual([0, -1, 1, -7, -8, -12, -127, -500, 500].map(bi), [0, 1, 17, 7, 8, 9, 15, 15, 31]);
      const uni = (r: number): number => bucket(r, false, 32, 128);
      assert.deepEqual([3, 0, -1, -15, -16, -20, -127, -500].map(uni), [0, 0, 1, 15, 16, 17, 31, 31]);
    }
    // The model evaluates the logarithm in float32 as PyTorch does; no boundary moves at the
    // sizes in use.
    for (const [buckets, distance] of [
      [32, 128],
      [16, 16],
      [8, 128],
      [8, 12],
      [64, 256],
    ] as const)
      for (let r = -600; r <= 600; r++)
        for (const bidirectional of [true, false])
          assert.equal(
            relativePositionBucket(r, bidirectional, buckets, distance),
            bucketOf(r, bidirectional, buckets, distance),
          );
  });
});
