import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { gpt2ConfigFromHf, loadGpt2Checkpoint } from '../src/ml/checkpoint/gpt2-checkpoint.ts';
import { SafeTensors, type TensorToWrite, writeSafetensors } from '../src/ml/checkpoint/safetensors.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import { type Weights, referenceClassLogits, referenceNll, seeded } from './helpers/gpt-reference.ts';
import { assertRowNear, randomlyPadded, relativeError } from './helpers/reference-compare.ts';

/*
 * A tiny GPT-2 checkpoint with the real Hugging Face tensor names and shapes (GPT2ForSequenceClassification:
 * the `transformer.` prefix, Conv1D weights `[in, out]`, a bias-free `score` head `[classes, d]`),
 * written in safetensors, loaded into our decoder, and compared with the float64 reference
 * computing on the checkpoint's own tensors.
 */

const HF_CONFIG = {
  architectures: ['GPT2ForSequenceClassification'],
  model_type: 'gpt2',
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  n_embd: 8,
  n_head: 2,
  n_layer: 2,
  n_positions: 6,
  n_inner: null,
  vocab_size: 11,
  resid_pdrop: 0.1,
};

/** What gpt2ConfigFromHf must read from HF_CONFIG (n_inner null means 4 n_embd; dropout is resid_pdrop). */
const FROM_HF = { vocabSize: 11, contextLength: 6, layers: 2, dModel: 8, heads: 2, dFF: 32, dropout: 0.1 };

/** Per layer: HF name suffix, our reference's name, shape. */
function layerTensors(d: number): [string, string, number[]][] {
  return [
    ['ln_1.weight', 'ln1/g', [d]],
    ['ln_1.bias', 'ln1/b', [d]],
    ['attn.c_attn.weight', 'attn/qkv/w', [d, 3 * d]],
    ['attn.c_attn.bias', 'attn/qkv/b', [3 * d]],
    ['attn.c_proj.weight', 'attn/proj/w', [d, d]],
    ['attn.c_proj.bias', 'attn/proj/b', [d]],
    ['ln_2.weight', 'ln2/g', [d]],
    ['ln_2.bias', 'ln2/b', [d]],
    ['mlp.c_fc.weight', 'mlp/fc/w', [d, 4 * d]],
    ['mlp.c_fc.bias', 'mlp/fc/b', [4 * d]],
    ['mlp.c_proj.weight', 'mlp/proj/w', [4 * d, d]],
    ['mlp.c_proj.bias', 'mlp/proj/b', [d]],
  ];
}

/** Random tensors under GPT-2's names, and the same values (as the file stores them) for the reference. */
function makeCheckpoint(
  dtype: 'F32' | 'F16' | 'BF16',
  numClasses: number,
  seed: number,
): { bytes: Uint8Array; reference: Weights } {
  const random = seeded(seed);
  const d = HF_CONFIG.n_embd;
  const hf = new Map<string, TensorToWrite>();
  const refName = new Map<string, string>();
  const add = (name: string, ours: string, shape: number[]): void => {
    const gain = name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight');
    const n = shape.reduce((a, b) => a * b, 1);
    hf.set(name, {
      dtype,
      shape,
      data: Array.from({ length: n }, () => (gain ? 1 : 0) + (gain ? 0.5 : 1) * (2 * random() - 1)),
    });
    refName.set(name, ours);
  };
  add('transformer.wte.weight', 'wte', [HF_CONFIG.vocab_size, d]);
  add('transformer.wpe.weight', 'wpe', [HF_CONFIG.n_positions, d]);
  for (let l = 0; l < HF_CONFIG.n_layer; l++)
    for (const [suffix, ours, shape] of layerTensors(d)) add(`transformer.h.${l}.${suffix}`, `h${l}/${ours}`, shape);
  add('transformer.ln_f.weight', 'lnf/g', [d]);
  add('transformer.ln_f.bias', 'lnf/b', [d]);
  add('score.weight', 'score', [numClasses, d]);
  const bytes = writeSafetensors(hf, { format: 'pt' });
  // The reference reads back what the file holds (rounded, for half precision).
  const st = SafeTensors.parse(bytes);
  const reference: Weights = new Map();
  for (const [name, ours] of refName) {
    const { shape, data } = st.float32(name);
    if (ours === 'score') {
      // The reference's head is `[d, classes]` plus a bias; GPT-2's score head is a Linear without one.
      const w = new Float64Array(d * numClasses);
      for (let c = 0; c < numClasses; c++) for (let j = 0; j < d; j++) w[j * numClasses + c] = data[c * d + j]!;
      reference.set('cls/w', { shape: [d, numClasses], data: w });
      reference.set('cls/b', { shape: [numClasses], data: new Float64Array(numClasses) });
    } else reference.set(ours, { shape, data: Float64Array.from(data) });
  }
  return { bytes, reference };
}

describe('GPT-2 checkpoints', () => {
  for (const [backend, dtype] of [
    ['cpu', 'F32'],
    ['wasm', 'F16'],
    ['cpu', 'BF16'],
  ] as const) {
    it(`loads a ${dtype} checkpoint and matches the float64 reference on ${backend}`, async () => {
      assert.equal((await chooseBackend([backend])).name, backend);
      const numClasses = 3;
      const { bytes, reference } = makeCheckpoint(dtype, numClasses, 7);
      const config = gpt2ConfigFromHf(HF_CONFIG, numClasses);
      assert.deepEqual(config, { ...FROM_HF, numClasses: 3 });
      const model = new Gpt({ ...config, dropout: 0 }, 1);
      try {
        loadGpt2Checkpoint(model, SafeTensors.parse(bytes));
        const random = seeded(5);
        const T = config.contextLength;
        const sequences = [6, 3, 2].map((n) =>
          Array.from({ length: n }, () => Math.floor(random() * config.vocabSize)),
        );
        const { ids, mask } = randomlyPadded(sequences, T, config.vocabSize, random);
        const gotLoss = model.lmLoss(ids, mask).dataSync()[0]!;
        const gotLogits = model.classLogits(ids, mask).arraySync();
        tf.dispose([ids, mask]);
        const refConfig = { ...config, dFF: 4 * config.dModel };
        const rows = sequences.map((s) => referenceNll(reference, refConfig, s));
        const wantLoss = rows.reduce((a, r) => a + r.sum, 0) / rows.reduce((a, r) => a + r.count, 0);
        assert.ok(relativeError(gotLoss, wantLoss, 1e-3) < 1e-4, `LM loss ${gotLoss} vs reference ${wantLoss}`);
        sequences.forEach((s, i) =>
          assertRowNear(gotLogits[i]!, referenceClassLogits(reference, refConfig, s), 1e-4, `class logit [${i}]`),
        );
        assert.ok(
          Math.abs(wantLoss - Math.log(config.vocabSize)) > 0.05,
          'the random weights are far from uniform predictions',
        );
      } finally {
        model.dispose();
      }
    });
  }

  it('names the tensor that is missing or has the wrong shape, and the config field it cannot use', () => {
    const { bytes } = makeCheckpoint('F32', 3, 1);
    const config = gpt2ConfigFromHf(HF_CONFIG, 3);
    const text = new TextDecoder().decode(bytes);
    // Rename one tensor in the header (same length, so offsets stay valid): it is then missing.
    const renamed = new TextEncoder().encode(
      text.replace('transformer.h.1.mlp.c_fc.bias', 'transformer.h.1.mlp.c_fc.bia_'),
    );
    const model = new Gpt(config, 1);
    try {
      assert.throws(
        () => loadGpt2Checkpoint(model, SafeTensors.parse(renamed, 'ckpt/model.safetensors'), 'ckpt/model.safetensors'),
        /^Error: ckpt\/model.safetensors: missing tensor "transformer.h.1.mlp.c_fc.bias"$/,
      );
    } finally {
      model.dispose();
    }
    const wider = new Gpt({ ...config, dFF: 16 }, 1);
    try {
      assert.throws(
        () => loadGpt2Checkpoint(wider, SafeTensors.parse(bytes)),
        /^Error: model.safetensors: tensor "transformer.h.0.mlp.c_fc.bias" has shape \[32\] but the model expects \[16\]$/,
      );
    } finally {
      wider.dispose();
    }
    assert.throws(
      () => gpt2ConfigFromHf({ ...HF_CONFIG, activation_function: 'relu' }, 3, 'ckpt/config.json'),
      /^Error: ckpt\/config.json: activation_function "relu" is not supported/,
    );
    assert.throws(
      () => gpt2ConfigFromHf({ ...HF_CONFIG, n_embd: undefined }, 3, 'ckpt/config.json'),
      /^Error: ckpt\/config.json: missing field "n_embd"$/,
    );
    assert.throws(
      () => SafeTensors.parse(bytes.subarray(0, bytes.length - 4), 'ckpt/model.safetensors'),
      /^Error: ckpt\/model.safetensors: tensor ".*" runs past the end of the file$/,
    );
  });
});
