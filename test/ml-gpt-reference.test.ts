import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';
import { type Weights, referenceClassLogits, referenceNll, seeded } from './helpers/gpt-reference.ts';

/*
 * The GPT forward pass against a flat-array float64 reference (test/helpers/gpt-reference.ts),
 * run on both the pure-JS cpu and the wasm backend. Unlike the model, the reference only ever sees
 * each sequence's real tokens: if padding leaked into real positions (through attention, the
 * loss weights or the classification pooling), the two would disagree. The pad slots hold random
 * ids rather than 0 so that such a leak would change the numbers.
 */

const CONFIG: GptConfig = {
  vocabSize: 11,
  contextLength: 6,
  layers: 2,
  dModel: 8,
  heads: 2,
  dFF: 16,
  numClasses: 3,
  dropout: 0,
};

function expectedNames(config: GptConfig): string[] {
  const names = ['wte', 'wpe', 'lnf/g', 'lnf/b', 'cls/w', 'cls/b'];
  for (let l = 0; l < config.layers; l++) {
    for (const n of [
      'ln1/g',
      'ln1/b',
      'attn/qkv/w',
      'attn/qkv/b',
      'attn/proj/w',
      'attn/proj/b',
      'ln2/g',
      'ln2/b',
      'mlp/fc/w',
      'mlp/fc/b',
      'mlp/proj/w',
      'mlp/proj/b',
    ])
      names.push(`h${l}/${n}`);
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
    const values = Float32Array.from(
      { length: variable.size },
      () => (isGain ? 1 : 0) + (isGain ? 0.5 : 1) * (2 * random() - 1),
    );
    const t = tf.tensor(values, variable.shape, 'float32');
    variable.assign(t);
    t.dispose();
    const read = (variable.arraySync() as number[] | number[][]).flat();
    assert.deepEqual(read, Array.from(values), `variable "${name}" holds what was assigned`);
    out.set(name, { shape: [...variable.shape], data: Float64Array.from(read) });
  }
  return out;
}

const relativeError = (got: number, want: number, scale: number): number =>
  Math.abs(got - want) / Math.max(Math.abs(want), scale);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`GPT forward pass on ${backend} against a flat float64 reference`, () => {
    it('matches the LM loss (batch and per row) and the class logits, with random weights and random padding ids', async () => {
      const choice = await chooseBackend([backend]);
      assert.equal(choice.name, backend);
      const model = new Gpt(CONFIG, 3);
      try {
        assert.deepEqual(
          [...model.variables.keys()].sort(),
          expectedNames(CONFIG),
          'the reference covers every parameter',
        );
        const w = perturb(model, 20261127);

        const random = seeded(99);
        const lengths = [6, 4, 2];
        const T = CONFIG.contextLength;
        const sequences = lengths.map((n) => Array.from({ length: n }, () => Math.floor(random() * CONFIG.vocabSize)));
        // Pad slots get random ids too: the mask alone must keep them out.
        const padded = sequences.map((s) => [
          ...s,
          ...Array.from({ length: T - s.length }, () => Math.floor(random() * CONFIG.vocabSize)),
        ]);
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
        assert.ok(
          relativeError(gotLoss, wantLoss, 1e-3) < 1e-4,
          `${backend} LM loss ${gotLoss} vs reference ${wantLoss}`,
        );
        sequences.forEach((s, i) => {
          const rowIds = tf.tensor2d([padded[i]!], [1, T], 'int32');
          const rowMask = tf.tensor2d([maskRows[i]!], [1, T], 'float32');
          const got = model.lmLoss(rowIds, rowMask).dataSync()[0]!;
          rowIds.dispose();
          rowMask.dispose();
          const want = perRow[i]!.sum / perRow[i]!.count;
          assert.ok(
            relativeError(got, want, 1e-3) < 1e-4,
            `${backend} row ${i} (length ${s.length}) LM loss ${got} vs reference ${want}`,
          );
        });

        // Logits near zero would make a plain relative error meaningless: scale by the row's size.
        wantLogits.forEach((row, i) => {
          const scale = Math.max(...row.map(Math.abs));
          row.forEach((want, c) => {
            const got = gotLogits[i]![c]!;
            assert.ok(
              relativeError(got, want, scale) < 1e-4,
              `${backend} class logit [${i}][${c}] ${got} vs reference ${want}`,
            );
          });
        });
        // Guard against a vacuous pass: the perturbed model must be far from uniform predictions.
        assert.ok(
          Math.abs(wantLoss - Math.log(CONFIG.vocabSize)) > 0.05,
          `reference loss ${wantLoss} is suspiciously close to log(vocab)`,
        );
      } finally {
        model.dispose();
      }
    });
  });
}
