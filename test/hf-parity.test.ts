import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { checkpointSpec, loadCheckpointWeights, readHfCheckpoint } from '../src/ml/checkpoint/hf-checkpoint.ts';
import type { Bert } from '../src/ml/models/bert.ts';
import type { Gpt } from '../src/ml/models/gpt.ts';
import type { LanguageModel } from '../src/ml/models/language-model.ts';
import { instantiate } from '../src/ml/models/model-spec.ts';
import type { T5 } from '../src/ml/models/t5.ts';

/*
 * Parity with Hugging Face transformers itself. test/fixtures/hf holds tiny checkpoints that
 * transformers 5.17 (PyTorch 2.11) made and saved with save_pretrained, with weights spread far
 * from their initial values, and what transformers computed from them on a right-padded batch
 * (scripts/make-hf-fixtures.py, run where transformers is installed). Here the pipeline's own
 * loader reads each directory as a researcher's downloaded checkpoint, and our models must give
 * the same numbers: GPT-2's LM loss and classification logits, BERT's masked-LM and
 * classification logits, and T5 v1.0's and v1.1's decoder logits.
 */

const FIXTURES = fileURLToPath(new URL('./fixtures/hf/', import.meta.url));

interface Expected {
  ids: number[][];
  mask: number[][];
  dec_ids?: number[][];
  dec_mask?: number[][];
  lm_loss?: number;
  class_logits?: number[][];
  mlm_logits?: number[][][];
  logits?: number[][][];
  transformers: string;
}

function load(name: string, numClasses: number): { model: LanguageModel; expected: Expected } {
  const dir = FIXTURES + name;
  const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Expected;
  const ckpt = readHfCheckpoint(dir);
  const spec = checkpointSpec(ckpt, numClasses, 12);
  const special = { pad: 0, eos: 1, mask: 2, cls: 3 };
  const model = instantiate(
    spec,
    {
      special,
      labelTargets: [
        [5, 1],
        [6, 1],
      ],
    },
    1,
  );
  loadCheckpointWeights(model, ckpt);
  return { model, expected };
}

const tensors = (e: Expected, ids = e.ids, mask = e.mask) => ({
  ids: tf.tensor2d(ids, undefined, 'int32'),
  mask: tf.tensor2d(mask, undefined, 'float32'),
});

/** Each real position's row of values against transformers', relative to the row's largest value. */
function assertRows(got: number[][][], want: number[][][], mask: number[][], what: string): void {
  let worst = 0;
  want.forEach((rows, b) =>
    rows.forEach((row, t) => {
      if (mask[b]![t] === 0) return;
      const scale = Math.max(1e-3, ...row.map(Math.abs));
      row.forEach((w, v) => (worst = Math.max(worst, Math.abs(got[b]![t]![v]! - w) / scale)));
    }),
  );
  assert.ok(worst < 1e-4, `${what}: worst relative difference ${worst}`);
}

type Batch = ReturnType<typeof tensors>;

/** Loads a fixture, runs `check` on its model and its batch as tensors, and frees both after. */
function withFixture(
  name: string,
  numClasses: number,
  check: (model: LanguageModel, expected: Expected, batch: Batch) => void,
): void {
  const { model, expected } = load(name, numClasses);
  try {
    const batch = tensors(expected);
    try {
      check(model, expected, batch);
    } finally {
      tf.dispose([batch.ids, batch.mask]);
    }
  } finally {
    model.dispose();
  }
}

/** GPT2ForSequenceClassification and BertForSequenceClassification: the logits of the whole batch. */
function assertClassLogits(model: LanguageModel, expected: Expected, { ids, mask }: Batch): void {
  const logits = (model as Gpt | Bert).classLogits(ids, mask).arraySync();
  assertRows([logits], [expected.class_logits!], [[1, 1]], 'class logits');
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`checkpoints saved by transformers, loaded and run on ${backend}`, () => {
    it('GPT-2: the LM loss of GPT2LMHeadModel and the logits of GPT2ForSequenceClassification', async () => {
      await chooseBackend([backend]);
      withFixture('gpt2-lm', 2, (model, expected, { ids, mask }) => {
        const loss = model.lmLoss(ids, mask).dataSync()[0]!;
        assert.ok(
          Math.abs(loss - expected.lm_loss!) / expected.lm_loss! < 1e-5,
          `LM loss ${loss} vs transformers ${expected.lm_loss}`,
        );
      });
      withFixture('gpt2-cls', 3, assertClassLogits);
    });

    it('BERT: the logits of BertForMaskedLM and BertForSequenceClassification', async () => {
      await chooseBackend([backend]);
      withFixture('bert-mlm', 2, (model, expected, { ids, mask }) => {
        const logits = (model as Bert).mlmLogits(ids, mask).arraySync();
        assertRows(logits, expected.mlm_logits!, expected.mask, 'masked-LM logits');
      });
      withFixture('bert-cls', 2, assertClassLogits);
    });

    for (const name of ['t5-v1_0', 't5-v1_1']) {
      it(`T5 (${name}): the decoder logits of T5ForConditionalGeneration`, async () => {
        await chooseBackend([backend]);
        const { model, expected } = load(name, 2);
        try {
          const enc = tensors(expected);
          const dec = tensors(expected, expected.dec_ids!, expected.dec_mask!);
          const logits = (model as T5).logits(enc.ids, enc.mask, dec.ids, dec.mask).arraySync();
          tf.dispose([enc.ids, enc.mask, dec.ids, dec.mask]);
          assertRows(logits, expected.logits!, expected.dec_mask!, `${name} logits`);
        } finally {
          model.dispose();
        }
      });
    }
  });
}
