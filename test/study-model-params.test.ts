import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specFromParams, type ModelParams } from '../src/study/model-params.ts';

const base: ModelParams = {
  architecture: 'gpt2',
  layers: 2,
  d_model: 64,
  heads: 4,
  d_ff: 256,
  context_length: 64,
  dropout: 0,
};

describe("pipeline.yaml's model params", () => {
  it('become the full spec of each family, with the published defaults for what is left out', () => {
    assert.deepEqual(specFromParams(base, 1000, 2), {
      family: 'gpt',
      config: {
        vocabSize: 1000,
        contextLength: 64,
        dModel: 64,
        heads: 4,
        dFF: 256,
        numClasses: 2,
        dropout: 0,
        layers: 2,
      },
    });
    const bert = specFromParams({ ...base, architecture: 'bert' }, 1000, 2);
    assert.equal(bert.family, 'bert');
    assert.deepEqual([bert.config.typeVocabSize, bert.config.layerNormEps], [2, 1e-12]);
    const t5 = specFromParams({ ...base, architecture: 't5', decoder_layers: 1, tie_embeddings: true }, 1000, 2);
    assert.equal(t5.family, 't5');
    if (t5.family === 't5')
      assert.deepEqual(
        [
          t5.config.encoderLayers,
          t5.config.decoderLayers,
          t5.config.dKv,
          t5.config.tieEmbeddings,
          t5.config.relativeBuckets,
        ],
        [2, 1, 16, true, 32],
      );
  });

  it('refuse an unknown architecture or a misspelt key, naming it', () => {
    assert.throws(
      () => specFromParams({ ...base, architecture: 'llama' }, 1000, 2),
      /^Error: unknown architecture "llama" \(this build has: gpt2, bert, t5\)$/,
    );
    assert.throws(
      () => specFromParams({ ...base, architecture: 't5', tie_embedding: true }, 1000, 2),
      /^Error: model params: unknown key "tie_embedding" for architecture t5 \(known: .*tie_embeddings/,
    );
    assert.throws(() => specFromParams({ ...base, d_kv: 16 }, 1000, 2), /unknown key "d_kv" for architecture gpt2/);
  });
});
