import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { bertConfigFromHf, bertTensorsFromHf, loadBertCheckpoint } from '../src/ml/checkpoint/bert-checkpoint.ts';
import {
  SafeTensors,
  type TensorToWrite,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  writeSafetensors,
} from '../src/ml/checkpoint/safetensors.ts';
import { Bert } from '../src/ml/models/bert.ts';
import type { BertConfig } from '../src/ml/models/bert-config.ts';
import type { SpecialTokens } from '../src/ml/models/language-model.ts';
import { type Mat, layerNorm as layerNormRows, logSumExp, mat, seeded } from './helpers/reference-math.ts';
import { assertRowNear, randomlyPadded, relativeError } from './helpers/reference-compare.ts';

/*
 * A tiny random BERT written to disk the way Hugging Face saves one (config.json of a
 * BertForSequenceClassification, model.safetensors with transformers' tensor names and PyTorch's
 * [out, in] Linear layout), loaded through bertConfigFromHf + loadBertCheckpoint, and compared
 * with a flat float64 reference written from transformers' modeling_bert.py equations. The
 * reference reads the HF-named tensors itself, so a wrong name, a missing transpose or a
 * swapped q/k would show up here. It sees only each row's real tokens, while the model gets
 * padded batches whose pad slots hold random ids: any leak of padding changes the numbers.
 */

/** Tensors by their Hugging Face names (BertForPreTraining's, with the `bert.` prefix), float64. */
type HfWeights = Map<string, { shape: number[]; data: Float64Array }>;

function get(w: HfWeights, name: string): { shape: number[]; data: Float64Array } {
  const t = w.get(name);
  assert.ok(t !== undefined, `reference needs "${name}"`);
  return t;
}

/** x W^T + b for a PyTorch Linear `name` (weight [out, in]). */
function linear(w: HfWeights, name: string, x: Mat): Mat {
  const weight = get(w, `${name}.weight`);
  const bias = get(w, `${name}.bias`).data;
  const [outs, ins] = weight.shape as [number, number];
  assert.equal(x.cols, ins, `reference: input width of ${name}`);
  const out = mat(x.rows, outs);
  for (let i = 0; i < x.rows; i++)
    for (let o = 0; o < outs; o++) {
      let s = bias[o]!;
      for (let k = 0; k < ins; k++) s += x.data[i * ins + k]! * weight.data[o * ins + k]!;
      out.data[i * outs + o] = s;
    }
  return out;
}

function layerNorm(w: HfWeights, name: string, x: Mat, eps: number): Mat {
  return layerNormRows(x, get(w, `${name}.weight`).data, get(w, `${name}.bias`).data, eps);
}

function add(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

/**
 * erf in float64 from the everywhere-convergent series of Abramowitz & Stegun 7.1.6,
 * erf x = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)): all terms share a sign,
 * so nothing cancels. Independent of the approximation tfjs uses.
 */
function erf(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 500 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** transformers' "gelu": the exact form with erf. */
const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** BertModel's last hidden states `[T, d]` for one unpadded sequence (token type 0 throughout). */
function referenceEncoder(w: HfWeights, c: BertConfig, ids: readonly number[]): Mat {
  const { dModel: d, heads, layers, layerNormEps: eps } = c;
  const T = ids.length;
  const dh = d / heads;
  const word = get(w, 'bert.embeddings.word_embeddings.weight').data;
  const pos = get(w, 'bert.embeddings.position_embeddings.weight').data;
  const type = get(w, 'bert.embeddings.token_type_embeddings.weight').data;
  let x = mat(T, d);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < d; j++) x.data[t * d + j] = word[ids[t]! * d + j]! + type[j]! + pos[t * d + j]!;
  x = layerNorm(w, 'bert.embeddings.LayerNorm', x, eps);
  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const q = linear(w, `${p}.attention.self.query`, x);
    const k = linear(w, `${p}.attention.self.key`, x);
    const v = linear(w, `${p}.attention.self.value`, x);
    const context = mat(T, d);
    const scores = new Float64Array(T);
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < T; i++) {
        // Bidirectional: every real token attends to every real token.
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += q.data[i * d + h * dh + e]! * k.data[j * d + h * dh + e]!;
          scores[j] = s / Math.sqrt(dh);
        }
        const lse = logSumExp(scores);
        for (let j = 0; j < T; j++) {
          const a = Math.exp(scores[j]! - lse);
          for (let e = 0; e < dh; e++) context.data[i * d + h * dh + e]! += a * v.data[j * d + h * dh + e]!;
        }
      }
    // Post-layer-norm: LayerNorm(sublayer(x) + x).
    x = layerNorm(w, `${p}.attention.output.LayerNorm`, add(linear(w, `${p}.attention.output.dense`, context), x), eps);
    const inner = linear(w, `${p}.intermediate.dense`, x);
    for (let i = 0; i < inner.data.length; i++) inner.data[i] = gelu(inner.data[i]!);
    x = layerNorm(w, `${p}.output.LayerNorm`, add(linear(w, `${p}.output.dense`, inner), x), eps);
  }
  return x;
}

/** BertForSequenceClassification: classifier(tanh(pooler(h[0]))). */
function referenceClassLogits(w: HfWeights, c: BertConfig, ids: readonly number[]): number[] {
  const h = referenceEncoder(w, c, ids);
  const first: Mat = { rows: 1, cols: c.dModel, data: h.data.slice(0, c.dModel) };
  const pooled = linear(w, 'bert.pooler.dense', first);
  for (let j = 0; j < pooled.data.length; j++) pooled.data[j] = Math.tanh(pooled.data[j]!);
  return Array.from(linear(w, 'classifier', pooled).data);
}

/** BertForMaskedLM's logits `[T, vocab]`: LayerNorm(gelu(dense(h))) W_word^T + bias. */
function referenceMlmLogits(w: HfWeights, c: BertConfig, ids: readonly number[]): Mat {
  const t = linear(w, 'cls.predictions.transform.dense', referenceEncoder(w, c, ids));
  for (let i = 0; i < t.data.length; i++) t.data[i] = gelu(t.data[i]!);
  const normed = layerNorm(w, 'cls.predictions.transform.LayerNorm', t, c.layerNormEps);
  const word = get(w, 'bert.embeddings.word_embeddings.weight').data;
  const bias = get(w, 'cls.predictions.bias').data;
  const out = mat(ids.length, c.vocabSize);
  for (let i = 0; i < ids.length; i++)
    for (let v = 0; v < c.vocabSize; v++) {
      let s = bias[v]!;
      for (let j = 0; j < c.dModel; j++) s += normed.data[i * c.dModel + j]! * word[v * c.dModel + j]!;
      out.data[i * c.vocabSize + v] = s;
    }
  return out;
}

/** Pseudo-log-likelihood (Salazar et al., 2020) of one sequence: each non-special token masked in turn. */
function referencePll(
  w: HfWeights,
  c: BertConfig,
  ids: readonly number[],
  special: ReadonlySet<number>,
  maskId: number,
): { nll: number; tokens: number } {
  let nll = 0;
  let tokens = 0;
  ids.forEach((id, p) => {
    if (special.has(id)) return;
    const copy = [...ids];
    copy[p] = maskId;
    const logits = referenceMlmLogits(w, c, copy);
    const row = logits.data.subarray(p * c.vocabSize, (p + 1) * c.vocabSize);
    nll += logSumExp(row) - row[id]!;
    tokens += 1;
  });
  return { nll, tokens };
}

const NUM_CLASSES = 3;
const SPECIAL: SpecialTokens = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
const SPECIAL_IDS = new Set([0, 1, 2, 3, 4]);

/** config.json as transformers 4.x writes it for a BertForSequenceClassification. */
function hfConfigJson(numLabels: number): Record<string, unknown> {
  const labels = Array.from({ length: numLabels }, (_, i) => i);
  return {
    _name_or_path: 'tiny-random-bert',
    architectures: ['BertForSequenceClassification'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: 8,
    id2label: Object.fromEntries(labels.map((i) => [String(i), `LABEL_${i}`])),
    initializer_range: 0.02,
    intermediate_size: 16,
    label2id: Object.fromEntries(labels.map((i) => [`LABEL_${i}`, i])),
    layer_norm_eps: 1e-12,
    max_position_embeddings: 8,
    model_type: 'bert',
    num_attention_heads: 2,
    num_hidden_layers: 2,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    problem_type: 'single_label_classification',
    torch_dtype: 'float32',
    transformers_version: '4.41.2',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: 17,
  };
}

/** Every tensor of a BertForPreTraining plus a classifier, HF names and shapes, `bert.` prefixed. */
function hfShapes(c: BertConfig, classifierOutputs: number): Map<string, number[]> {
  const { vocabSize: V, contextLength: P, typeVocabSize, dModel: d, dFF } = c;
  const s = new Map<string, number[]>();
  const lin = (name: string, ins: number, outs: number): void => {
    s.set(`${name}.weight`, [outs, ins]);
    s.set(`${name}.bias`, [outs]);
  };
  const ln = (name: string): void => {
    s.set(`${name}.weight`, [d]);
    s.set(`${name}.bias`, [d]);
  };
  s.set('bert.embeddings.word_embeddings.weight', [V, d]);
  s.set('bert.embeddings.position_embeddings.weight', [P, d]);
  s.set('bert.embeddings.token_type_embeddings.weight', [typeVocabSize, d]);
  ln('bert.embeddings.LayerNorm');
  for (let l = 0; l < c.layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    lin(`${p}.attention.self.query`, d, d);
    lin(`${p}.attention.self.key`, d, d);
    lin(`${p}.attention.self.value`, d, d);
    lin(`${p}.attention.output.dense`, d, d);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, d, dFF);
    lin(`${p}.output.dense`, dFF, d);
    ln(`${p}.output.LayerNorm`);
  }
  lin('bert.pooler.dense', d, d);
  lin('cls.predictions.transform.dense', d, d);
  ln('cls.predictions.transform.LayerNorm');
  s.set('cls.predictions.bias', [V]);
  lin('cls.seq_relationship', d, 2);
  lin('classifier', d, classifierOutputs);
  return s;
}

type Dtype = TensorToWrite['dtype'];

/** Rounds a value to what the dtype stores, so the reference uses exactly the file's values. */
function roundTo(dtype: Dtype, x: number): number {
  if (dtype === 'F32') return Math.fround(x);
  if (dtype === 'F16') return halfToFloat(floatToHalf(x));
  const word = new DataView(new ArrayBuffer(4));
  word.setUint32(0, floatToBfloat16(x) << 16);
  return word.getFloat32(0);
}

/**
 * Random values far from BERT's initialisation (gains around 1, everything else spread over
 * [-1, 1]) so that attention is far from uniform and every bias matters.
 */
function randomWeights(shapes: Map<string, number[]>, dtype: Dtype, seed: number): HfWeights {
  const random = seeded(seed);
  const w: HfWeights = new Map();
  for (const [name, shape] of [...shapes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const gain = /LayerNorm\.weight$/.test(name);
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, {
      shape,
      data: Float64Array.from({ length: n }, () =>
        roundTo(dtype, (gain ? 1 : 0) + (gain ? 0.5 : 1) * (2 * random() - 1)),
      ),
    });
  }
  return w;
}

/** How a case spells its checkpoint. */
interface Layout {
  dtype: Dtype;
  /** Keep the `bert.` prefix (BertForX) or drop it (bare BertModel). */
  prefix: boolean;
  /** LayerNorm `.gamma/.beta` of checkpoints converted from TensorFlow. */
  oldNorms: boolean;
  /** Store the MLM bias as `cls.predictions.decoder.bias` instead of `cls.predictions.bias`. */
  decoderBias: boolean;
  /** Also store the (tied) decoder weight. */
  decoderWeight: boolean;
  /** Parts the file leaves out (model keeps them as initialised). */
  omit: ('pooler' | 'mlm' | 'nsp')[];
  classifierOutputs: number;
}

function fileName(canonical: string, layout: Layout): string {
  let name = canonical;
  if (!layout.prefix) name = name.replace(/^bert\./, '');
  if (layout.oldNorms)
    name = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
  if (layout.decoderBias && name === 'cls.predictions.bias') name = 'cls.predictions.decoder.bias';
  return name;
}

function omitted(canonical: string, layout: Layout): boolean {
  return (
    (layout.omit.includes('pooler') && canonical.startsWith('bert.pooler.')) ||
    (layout.omit.includes('mlm') && canonical.startsWith('cls.predictions.')) ||
    (layout.omit.includes('nsp') && canonical.startsWith('cls.seq_relationship.'))
  );
}

function checkpointTensors(w: HfWeights, layout: Layout): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of w) {
    if (omitted(name, layout)) continue;
    out.set(fileName(name, layout), { dtype: layout.dtype, shape: t.shape, data: t.data });
  }
  if (layout.decoderWeight && !layout.omit.includes('mlm')) {
    const word = w.get('bert.embeddings.word_embeddings.weight')!;
    out.set('cls.predictions.decoder.weight', { dtype: layout.dtype, shape: word.shape, data: word.data });
  }
  return out;
}

const tmpDirs: string[] = [];
after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function writeCheckpoint(config: Record<string, unknown>, tensors: Map<string, TensorToWrite>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-ckpt-'));
  tmpDirs.push(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  return dir;
}

function readCheckpoint(dir: string): { config: Record<string, unknown>; st: SafeTensors } {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'));
  return { config, st: SafeTensors.parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) };
}

/** The model's own values of a part the checkpoint left out, as HF-named float64 tensors. */
function modelPartAsHf(model: Bert, part: 'pooler' | 'mlm' | 'classifier'): HfWeights {
  const read = (name: string): Float64Array => Float64Array.from(model.variables.get(name)!.dataSync());
  const out: HfWeights = new Map();
  const lin = (ours: string, hf: string): void => {
    const [ins, outs] = model.variables.get(`${ours}/w`)!.shape as [number, number];
    const w = read(`${ours}/w`);
    const t = new Float64Array(ins * outs);
    for (let i = 0; i < ins; i++) for (let o = 0; o < outs; o++) t[o * ins + i] = w[i * outs + o]!;
    out.set(`${hf}.weight`, { shape: [outs, ins], data: t });
    out.set(`${hf}.bias`, { shape: [outs], data: read(`${ours}/b`) });
  };
  if (part === 'pooler') lin('pool', 'bert.pooler.dense');
  if (part === 'classifier') lin('cls', 'classifier');
  if (part === 'mlm') {
    lin('mlm/dense', 'cls.predictions.transform.dense');
    out.set('cls.predictions.transform.LayerNorm.weight', { shape: [8], data: read('mlm/ln/g') });
    out.set('cls.predictions.transform.LayerNorm.bias', { shape: [8], data: read('mlm/ln/b') });
    out.set('cls.predictions.bias', { shape: [model.vocabSize], data: read('mlm/bias') });
  }
  return out;
}

const snapshot = (model: Bert, prefix: RegExp): Map<string, number[]> =>
  new Map([...model.variables].filter(([n]) => prefix.test(n)).map(([n, v]) => [n, Array.from(v.dataSync())]));

const CASES: { title: string; layout: Layout }[] = [
  {
    title: 'F32, BertForSequenceClassification names with an MLM head, the NSP head and a tied decoder copy',
    layout: {
      dtype: 'F32',
      prefix: true,
      oldNorms: false,
      decoderBias: false,
      decoderWeight: true,
      omit: [],
      classifierOutputs: NUM_CLASSES,
    },
  },
  {
    title: 'F16, bare BertModel names, gamma/beta layer norms, decoder.bias, a classifier for 5 labels',
    layout: {
      dtype: 'F16',
      prefix: false,
      oldNorms: true,
      decoderBias: true,
      decoderWeight: false,
      omit: ['nsp'],
      classifierOutputs: 5,
    },
  },
  {
    title: 'BF16, no pooler and no MLM head',
    layout: {
      dtype: 'BF16',
      prefix: true,
      oldNorms: false,
      decoderBias: false,
      decoderWeight: false,
      omit: ['pooler', 'mlm', 'nsp'],
      classifierOutputs: NUM_CLASSES,
    },
  },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`BERT from a Hugging Face checkpoint on ${backend}, against a float64 reference`, () => {
    CASES.forEach(({ title, layout }, caseIndex) => {
      it(title, async () => {
        assert.equal((await chooseBackend([backend])).name, backend);
        const hfConfig = hfConfigJson(layout.classifierOutputs);
        const weights = randomWeights(
          hfShapes(bertConfigFromHf(hfConfig, NUM_CLASSES), layout.classifierOutputs),
          layout.dtype,
          1000 + caseIndex,
        );
        const dir = writeCheckpoint(hfConfig, checkpointTensors(weights, layout));

        const { config: json, st } = readCheckpoint(dir);
        const config = bertConfigFromHf(json, NUM_CLASSES);
        assert.deepEqual(config, {
          vocabSize: 17,
          contextLength: 8,
          typeVocabSize: 2,
          layers: 2,
          dModel: 8,
          heads: 2,
          dFF: 16,
          numClasses: 3,
          dropout: 0.1,
          layerNormEps: 1e-12,
        });
        const model = new Bert(config, SPECIAL, 5);
        try {
          const untouched = snapshot(model, /^(pool|mlm|cls)\//);
          loadBertCheckpoint(model, st);

          // What the file lacks keeps the model's initial values; the reference then uses those.
          const reference: HfWeights = new Map(weights);
          const kept: RegExp[] = [];
          if (layout.omit.includes('pooler')) kept.push(/^pool\//);
          if (layout.omit.includes('mlm')) kept.push(/^mlm\//);
          if (layout.classifierOutputs !== NUM_CLASSES) kept.push(/^cls\//);
          for (const re of kept)
            for (const [name, values] of snapshot(model, re))
              assert.deepEqual(values, untouched.get(name), `${name} stays as initialised`);
          if (layout.omit.includes('pooler')) for (const [n, t] of modelPartAsHf(model, 'pooler')) reference.set(n, t);
          if (layout.omit.includes('mlm')) for (const [n, t] of modelPartAsHf(model, 'mlm')) reference.set(n, t);
          if (layout.classifierOutputs !== NUM_CLASSES)
            for (const [n, t] of modelPartAsHf(model, 'classifier')) reference.set(n, t);
          // Guard against a vacuous pass: what the file has must have replaced the initial values.
          if (!layout.omit.includes('pooler'))
            assert.notDeepEqual(snapshot(model, /^pool\/w$/).get('pool/w'), untouched.get('pool/w'));

          const random = seeded(77 + caseIndex);
          const T = config.contextLength;
          const lengths = [8, 5, 3];
          // Framed as the pipeline frames BERT input: cls, text, sep.
          const sequences = lengths.map((n) => [
            SPECIAL.cls!,
            ...Array.from({ length: n - 2 }, () => 5 + Math.floor(random() * (config.vocabSize - 5))),
            SPECIAL.sep!,
          ]);
          const { ids, mask } = randomlyPadded(sequences, T, config.vocabSize, random);
          try {
            const gotClass = model.classLogits(ids, mask);
            const gotMlm = model.mlmLogits(ids, mask);
            const classRows = gotClass.arraySync();
            const mlmRows = gotMlm.arraySync();
            tf.dispose([gotClass, gotMlm]);

            sequences.forEach((seq, r) => {
              const wantClass = referenceClassLogits(reference, config, seq);
              assertRowNear(classRows[r]!, wantClass, 1e-4, `${backend} class logit [${r}]`);
              const wantMlm = referenceMlmLogits(reference, config, seq);
              for (let t = 0; t < seq.length; t++) {
                const row = wantMlm.data.subarray(t * config.vocabSize, (t + 1) * config.vocabSize);
                assertRowNear(mlmRows[r]![t]!, row, 1e-4, `${backend} MLM logit [${r}][${t}]`);
              }
            });

            // The MLM loss under the model's own fixed (unseeded) masking plan.
            const plan = model.maskingPlan(ids, mask);
            let planNll = 0;
            plan.positions.forEach((at, i) => {
              const r = Math.floor(at / T);
              const corrupted = Array.from(plan.ids.subarray(r * T, r * T + lengths[r]!));
              const logits = referenceMlmLogits(reference, config, corrupted);
              const row = logits.data.subarray((at % T) * config.vocabSize, ((at % T) + 1) * config.vocabSize);
              planNll += logSumExp(row) - row[plan.targets[i]!]!;
            });
            const wantLoss = planNll / plan.positions.length;
            const gotLoss = tf.tidy(() => model.lmLoss(ids, mask).dataSync()[0]!);
            assert.ok(
              relativeError(gotLoss, wantLoss, 1) < 1e-4,
              `${backend} MLM loss ${gotLoss} vs reference ${wantLoss}`,
            );

            // Pseudo-log-likelihood, in one forward pass and in one copy per pass.
            const want = sequences.map((s) => referencePll(reference, config, s, SPECIAL_IDS, SPECIAL.mask!));
            const wantNll = want.reduce((a, p) => a + p.nll, 0);
            const wantTokens = want.reduce((a, p) => a + p.tokens, 0);
            assert.equal(
              wantTokens,
              lengths.reduce((a, n) => a + n - 2, 0),
            );
            for (const tokensPerForward of [undefined, 1]) {
              const got = await model.heldOutNll(ids, mask, { tokensPerForward });
              assert.equal(got.tokens, wantTokens);
              assert.ok(
                relativeError(got.nll, wantNll, 1) < 1e-4,
                `${backend} PLL nll ${got.nll} vs reference ${wantNll} (tokensPerForward ${tokensPerForward})`,
              );
            }
            assert.ok(
              Math.abs(wantNll / wantTokens - Math.log(config.vocabSize)) > 0.1,
              'reference PLL suspiciously close to uniform',
            );
          } finally {
            tf.dispose([ids, mask]);
          }
        } finally {
          model.dispose();
        }
      });
    });
  });
}

describe('BERT checkpoint errors', () => {
  const hfConfig = hfConfigJson(NUM_CLASSES);
  const config = bertConfigFromHf(hfConfig, NUM_CLASSES);
  const weights = randomWeights(hfShapes(config, NUM_CLASSES), 'F32', 9);
  const full: Layout = {
    dtype: 'F32',
    prefix: true,
    oldNorms: false,
    decoderBias: false,
    decoderWeight: false,
    omit: [],
    classifierOutputs: NUM_CLASSES,
  };

  /** Loads a checkpoint written from `tensors`; returns the error message, and checks the model is untouched. */
  async function loadError(
    tensors: Map<string, TensorToWrite>,
    json: Record<string, unknown> = hfConfig,
  ): Promise<string> {
    await chooseBackend(['cpu']);
    const { config: read, st } = readCheckpoint(writeCheckpoint(json, tensors));
    const model = new Bert(bertConfigFromHf(read, NUM_CLASSES), SPECIAL, 1);
    const before = snapshot(model, /./);
    try {
      loadBertCheckpoint(model, st, 'dir/model.safetensors');
      assert.fail('the load should have failed');
    } catch (e) {
      assert.deepEqual(snapshot(model, /./), before, 'a failed load leaves the model untouched');
      return (e as Error).message;
    } finally {
      model.dispose();
    }
  }

  /** The full checkpoint's tensors without `name`. */
  function without(name: string): Map<string, TensorToWrite> {
    const tensors = checkpointTensors(weights, full);
    tensors.delete(name);
    return tensors;
  }

  /** The full checkpoint's tensors with `name` set to an F32 tensor of `shape`, every value `fill`. */
  function replacing(name: string, shape: number[], fill = 0): Map<string, TensorToWrite> {
    const tensors = checkpointTensors(weights, full);
    const size = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { dtype: 'F32', shape, data: new Float32Array(size).fill(fill) });
    return tensors;
  }

  it('a missing tensor is named', async () => {
    const message = await loadError(without('bert.encoder.layer.1.output.dense.bias'));
    assert.equal(message, 'dir/model.safetensors: missing the tensor "bert.encoder.layer.1.output.dense.bias"');
  });

  it('a missing LayerNorm or an incomplete MLM head is named', async () => {
    assert.match(
      await loadError(without('bert.encoder.layer.0.attention.output.LayerNorm.weight')),
      /missing the tensor "bert\.encoder\.layer\.0\.attention\.output\.LayerNorm\.weight"/,
    );
    assert.match(
      await loadError(without('cls.predictions.transform.LayerNorm.bias')),
      /missing the tensor "cls\.predictions\.transform\.LayerNorm\.bias"/,
    );
  });

  it('a tensor of the wrong shape is named with both shapes', async () => {
    const message = await loadError(replacing('bert.encoder.layer.0.intermediate.dense.weight', [15, 8]));
    assert.equal(
      message,
      'dir/model.safetensors: tensor "bert.encoder.layer.0.intermediate.dense.weight" has shape [15, 8] but the config needs [16, 8]',
    );
    assert.ok(!message.includes('\n'));
  });

  it('a tensor of a layer the config does not have is refused', async () => {
    assert.match(
      await loadError(replacing('bert.encoder.layer.2.attention.self.query.weight', [8, 8])),
      /unexpected tensor "bert\.encoder\.layer\.2\.attention\.self\.query\.weight"/,
    );
  });

  it('an untied decoder is refused rather than silently tied', async () => {
    assert.match(
      await loadError(replacing('cls.predictions.decoder.weight', [17, 8], 0.5)),
      /"cls\.predictions\.decoder\.weight" differs from the word embeddings/,
    );
  });

  it('config.json fields it cannot honour are named', () => {
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, hidden_act: 'relu' }, 2, 'ckpt/config.json'),
      /^Error: ckpt\/config\.json: hidden_act is "relu"; this BERT implements only "gelu"/,
    );
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, hidden_act: 'gelu_new' }, 2),
      /config\.json: hidden_act is "gelu_new"/,
    );
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, position_embedding_type: 'relative_key' }, 2),
      /config\.json: position_embedding_type is "relative_key"/,
    );
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, hidden_size: 'big' }, 2),
      /^Error: config\.json: field "hidden_size" must be a positive integer, got "big"$/,
    );
    const { num_hidden_layers: _, ...noLayers } = hfConfig;
    assert.throws(() => bertConfigFromHf(noLayers, 2), /^Error: config\.json: missing field "num_hidden_layers"$/);
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, num_attention_heads: 3 }, 2),
      /config\.json: hidden_size 8 is not divisible by num_attention_heads 3/,
    );
    assert.throws(
      () => bertConfigFromHf({ ...hfConfig, model_type: 'roberta' }, 2),
      /config\.json: model_type is "roberta"/,
    );
    // Old config files without the newer fields take transformers' defaults.
    const { layer_norm_eps: _e, position_embedding_type: _p, ...old } = hfConfig;
    assert.equal(bertConfigFromHf(old, 2).layerNormEps, 1e-12);
  });

  it('the mapping transposes every Linear weight to [in, out]', () => {
    const st = SafeTensors.parse(writeSafetensors(checkpointTensors(weights, full)));
    const mapped = bertTensorsFromHf(st, config);
    const hf = weights.get('bert.encoder.layer.1.intermediate.dense.weight')!; // [16, 8]
    const ours = mapped.get('l1/ffn/in/w')!;
    assert.deepEqual(ours.shape, [8, 16]);
    assert.equal(ours.source, 'bert.encoder.layer.1.intermediate.dense.weight');
    assert.equal(ours.data[3 * 16 + 11], Math.fround(hf.data[11 * 8 + 3]!));
    assert.ok(!mapped.has('nsp') && [...mapped.keys()].every((k) => !k.includes('seq_relationship')));
  });
});
