import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chooseBackend } from '../src/ml/backend.ts';
import { t5ConfigFromHf } from '../src/ml/checkpoint/t5-checkpoint.ts';
import {
  checkpointSpec,
  loadCheckpointWeights,
  readCheckpointTokenizer,
  readHfCheckpoint,
} from '../src/ml/checkpoint/hf-checkpoint.ts';
import { instantiate } from '../src/ml/models/model-spec.ts';
import { unigramTokenizer, wordPieceTokenizer, writeHfCheckpoint } from './helpers/hf-checkpoints.ts';

const SIZES = { vocabSize: 120, positions: 16, d: 8, heads: 2, layers: 1 };
const SPECIAL = { pad: 0, eos: 1, cls: 2, sep: 3, mask: 4, sentinels: [110, 111, 112, 113] };

describe('Hugging Face checkpoint directories', () => {
  it('reads each supported model_type into the matching family and sizes, and loads it', async () => {
    await chooseBackend(['cpu']);
    const root = mkdtempSync(join(tmpdir(), 'hf-'));
    try {
      writeHfCheckpoint('gpt2', join(root, 'gpt2'), SIZES, '{}');
      writeHfCheckpoint('bert', join(root, 'bert'), SIZES, wordPieceTokenizer(['spam']));
      writeHfCheckpoint('t5', join(root, 't5'), SIZES, unigramTokenizer(['spam'], 4));
      const want = { gpt2: 'gpt', bert: 'bert', t5: 't5' } as const;
      for (const [dir, family] of Object.entries(want)) {
        const ckpt = readHfCheckpoint(join(root, dir));
        const spec = checkpointSpec(ckpt, 2, 8);
        assert.equal(spec.family, family);
        assert.equal(spec.config.vocabSize, 120);
        const model = instantiate(
          spec,
          {
            special: SPECIAL,
            labelTargets: [
              [50, 1],
              [51, 1],
            ],
          },
          1,
        );
        try {
          loadCheckpointWeights(model, ckpt);
        } finally {
          model.dispose();
        }
      }
      assert.match(readCheckpointTokenizer(join(root, 'bert')), /WordPiece/);
      // A family the weights do not belong to is refused by name.
      const gpt = instantiate(
        checkpointSpec(readHfCheckpoint(join(root, 'gpt2')), 2, 8),
        { special: SPECIAL, labelTargets: [] },
        1,
      );
      try {
        assert.throws(
          () => loadCheckpointWeights(gpt, readHfCheckpoint(join(root, 'bert'))),
          /holds a bert model, not a gpt one/,
        );
      } finally {
        gpt.dispose();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads T5's output scaling from either transformers 4's or 5's config fields", () => {
    const base = { vocab_size: 50, d_model: 16, d_kv: 8, d_ff: 32, num_layers: 2, num_heads: 2 };
    // transformers 4: tied means scaled (v1.0); untied means a separate, unscaled head (v1.1).
    assert.equal(t5ConfigFromHf({ ...base, tie_word_embeddings: true }, 2, 8).tieEmbeddings, true);
    assert.equal(t5ConfigFromHf({ ...base, tie_word_embeddings: false }, 2, 8).tieEmbeddings, false);
    // transformers 5 writes v1.1 as tied but unscaled: loaded as a separate head copied from the embeddings.
    assert.equal(
      t5ConfigFromHf({ ...base, tie_word_embeddings: true, scale_decoder_outputs: false }, 2, 8).tieEmbeddings,
      false,
    );
    assert.throws(
      () =>
        t5ConfigFromHf({ ...base, tie_word_embeddings: false, scale_decoder_outputs: true }, 2, 8, 'ckpt/config.json'),
      /^Error: ckpt\/config\.json: field "scale_decoder_outputs" is true with a separate lm_head/,
    );
  });

  it('refuses an unknown architecture, a missing file and a config that is not JSON, in one line', () => {
    const root = mkdtempSync(join(tmpdir(), 'hf-'));
    try {
      writeHfCheckpoint('gpt2', join(root, 'llama'), SIZES, '{}');
      writeFileSync(join(root, 'llama/config.json'), JSON.stringify({ model_type: 'llama' }));
      assert.throws(
        () => readHfCheckpoint(join(root, 'llama')),
        /^Error: .*llama\/config\.json: model_type "llama" is not one this pipeline loads \(gpt2, bert, t5\)$/,
      );
      rmSync(join(root, 'llama/model.safetensors'));
      writeFileSync(join(root, 'llama/config.json'), JSON.stringify({ model_type: 'gpt2' }));
      assert.throws(
        () => readHfCheckpoint(join(root, 'llama')),
        /^Error: checkpoint .*llama: cannot read model\.safetensors \(no such file\)$/,
      );
      writeFileSync(join(root, 'llama/config.json'), '{"model_type": gpt2');
      assert.throws(() => readHfCheckpoint(join(root, 'llama')), /^Error: .*llama\/config\.json: not JSON/);
      assert.throws(
        () => readCheckpointTokenizer(join(root, 'nowhere')),
        /^Error: checkpoint .*nowhere: cannot read tokenizer\.json \(no such file\)$/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
