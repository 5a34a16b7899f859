import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addedTokens } from '../../src/ml/bpe.ts';
import { type TensorToWrite, writeSafetensors } from '../../src/ml/checkpoint/safetensors.ts';
import { seeded } from './gpt-reference.ts';

/*
 * Tiny Hugging Face checkpoint directories (config.json, model.safetensors, tokenizer.json) with
 * the real models' tensor names and shapes and small random values, for the pipeline-level
 * tests: what a researcher's downloaded checkpoint looks like, at a size that trains in seconds.
 */

type Entry = [name: string, shape: number[]];

function write(
  dir: string,
  config: Record<string, unknown>,
  entries: Entry[],
  tokenizerJson: string,
  seed: number,
  dtype: TensorToWrite['dtype'],
): void {
  const random = seeded(seed);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of entries) {
    const norm = /(ln_[12f]|LayerNorm|layer_norm)\.(weight|gamma)$/.test(name);
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, {
      dtype,
      shape,
      data: Array.from({ length: n }, () => (norm ? 1 : 0) + 0.1 * (2 * random() - 1)),
    });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileSync(join(dir, 'tokenizer.json'), tokenizerJson);
}

export interface TinySizes {
  vocabSize: number;
  positions: number;
  d: number;
  heads: number;
  layers: number;
}

/**
 * A writer for one architecture's layout: the layout names the tensors and the config, the
 * writer fills them with seeded values and adds the tokenizer, the same way for every family.
 */
function checkpointWriter(layout: (s: TinySizes) => { config: Record<string, unknown>; entries: Entry[] }) {
  return (dir: string, s: TinySizes, tokenizerJson: string, seed = 1, dtype: TensorToWrite['dtype'] = 'F32'): void => {
    const { config, entries } = layout(s);
    write(dir, config, entries, tokenizerJson, seed, dtype);
  };
}

/** GPT2LMHeadModel's layout: `transformer.` prefix, Conv1D weights `[in, out]`. */
const writeGpt2Checkpoint = checkpointWriter((s) => {
  const { d } = s;
  const entries: Entry[] = [
    ['transformer.wte.weight', [s.vocabSize, d]],
    ['transformer.wpe.weight', [s.positions, d]],
    ['transformer.ln_f.weight', [d]],
    ['transformer.ln_f.bias', [d]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `transformer.h.${l}.`;
    entries.push(
      [`${p}ln_1.weight`, [d]],
      [`${p}ln_1.bias`, [d]],
      [`${p}attn.c_attn.weight`, [d, 3 * d]],
      [`${p}attn.c_attn.bias`, [3 * d]],
      [`${p}attn.c_proj.weight`, [d, d]],
      [`${p}attn.c_proj.bias`, [d]],
      [`${p}ln_2.weight`, [d]],
      [`${p}ln_2.bias`, [d]],
      [`${p}mlp.c_fc.weight`, [d, 4 * d]],
      [`${p}mlp.c_fc.bias`, [4 * d]],
      [`${p}mlp.c_proj.weight`, [4 * d, d]],
      [`${p}mlp.c_proj.bias`, [d]],
    );
  }
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    n_embd: d,
    n_head: s.heads,
    n_layer: s.layers,
    n_positions: s.positions,
    n_inner: null,
    vocab_size: s.vocabSize,
    resid_pdrop: 0.1,
  };
  return { config, entries };
});

/** BertForSequenceClassification's layout: `bert.` prefix, Linear weights `[out, in]`, pooler and MLM head. */
const writeBertCheckpoint = checkpointWriter((s) => {
  const { d } = s;
  const ff = 4 * d;
  const entries: Entry[] = [
    ['bert.embeddings.word_embeddings.weight', [s.vocabSize, d]],
    ['bert.embeddings.position_embeddings.weight', [s.positions, d]],
    ['bert.embeddings.token_type_embeddings.weight', [2, d]],
    ['bert.embeddings.LayerNorm.weight', [d]],
    ['bert.embeddings.LayerNorm.bias', [d]],
    ['bert.pooler.dense.weight', [d, d]],
    ['bert.pooler.dense.bias', [d]],
    ['cls.predictions.bias', [s.vocabSize]],
    ['cls.predictions.transform.dense.weight', [d, d]],
    ['cls.predictions.transform.dense.bias', [d]],
    ['cls.predictions.transform.LayerNorm.weight', [d]],
    ['cls.predictions.transform.LayerNorm.bias', [d]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    for (const m of ['query', 'key', 'value'])
      entries.push([`${p}attention.self.${m}.weight`, [d, d]], [`${p}attention.self.${m}.bias`, [d]]);
    entries.push(
      [`${p}attention.output.dense.weight`, [d, d]],
      [`${p}attention.output.dense.bias`, [d]],
      [`${p}attention.output.LayerNorm.weight`, [d]],
      [`${p}attention.output.LayerNorm.bias`, [d]],
      [`${p}intermediate.dense.weight`, [ff, d]],
      [`${p}intermediate.dense.bias`, [ff]],
      [`${p}output.dense.weight`, [d, ff]],
      [`${p}output.dense.bias`, [d]],
      [`${p}output.LayerNorm.weight`, [d]],
      [`${p}output.LayerNorm.bias`, [d]],
    );
  }
  const config = {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    hidden_act: 'gelu',
    hidden_size: d,
    intermediate_size: ff,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    max_position_embeddings: s.positions,
    type_vocab_size: 2,
    vocab_size: s.vocabSize,
    layer_norm_eps: 1e-12,
    hidden_dropout_prob: 0.1,
    position_embedding_type: 'absolute',
  };
  return { config, entries };
});

/** T5ForConditionalGeneration v1.1's layout: gated-GELU feed-forward, untied `lm_head`, relative bias in block 0. */
const writeT5Checkpoint = checkpointWriter((s) => {
  const { d, heads } = s;
  const dKv = d / heads;
  const inner = heads * dKv;
  const ff = 2 * d;
  const entries: Entry[] = [
    ['shared.weight', [s.vocabSize, d]],
    ['lm_head.weight', [s.vocabSize, d]],
    ['encoder.final_layer_norm.weight', [d]],
    ['decoder.final_layer_norm.weight', [d]],
    ['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', [32, heads]],
    ['decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', [32, heads]],
  ];
  const attention = (p: string): void => {
    for (const m of ['q', 'k', 'v']) entries.push([`${p}.${m}.weight`, [inner, d]]);
    entries.push([`${p}.o.weight`, [d, inner]]);
  };
  const feedForward = (p: string): void => {
    entries.push([`${p}.wi_0.weight`, [ff, d]], [`${p}.wi_1.weight`, [ff, d]], [`${p}.wo.weight`, [d, ff]]);
  };
  for (let l = 0; l < s.layers; l++) {
    const e = `encoder.block.${l}.layer`;
    attention(`${e}.0.SelfAttention`);
    feedForward(`${e}.1.DenseReluDense`);
    entries.push([`${e}.0.layer_norm.weight`, [d]], [`${e}.1.layer_norm.weight`, [d]]);
    const x = `decoder.block.${l}.layer`;
    attention(`${x}.0.SelfAttention`);
    attention(`${x}.1.EncDecAttention`);
    feedForward(`${x}.2.DenseReluDense`);
    entries.push(
      [`${x}.0.layer_norm.weight`, [d]],
      [`${x}.1.layer_norm.weight`, [d]],
      [`${x}.2.layer_norm.weight`, [d]],
    );
  }
  const config = {
    architectures: ['T5ForConditionalGeneration'],
    model_type: 't5',
    d_model: d,
    d_kv: dKv,
    d_ff: ff,
    num_layers: s.layers,
    num_decoder_layers: s.layers,
    num_heads: heads,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    feed_forward_proj: 'gated-gelu',
    tie_word_embeddings: false,
    layer_norm_epsilon: 1e-6,
    dropout_rate: 0.1,
    vocab_size: s.vocabSize,
    decoder_start_token_id: 0,
    pad_token_id: 0,
    eos_token_id: 1,
  };
  return { config, entries };
});

const WRITERS = { gpt2: writeGpt2Checkpoint, bert: writeBertCheckpoint, t5: writeT5Checkpoint };

/**
 * Writes a tiny checkpoint directory of the family that config.json's `model_type` names, with
 * `tokenizerJson` as its tokenizer.json; `seed` draws the weights, stored as `dtype`.
 */
export function writeHfCheckpoint(
  modelType: keyof typeof WRITERS,
  dir: string,
  sizes: TinySizes,
  tokenizerJson: string,
  seed = 1,
  dtype: TensorToWrite['dtype'] = 'F32',
): void {
  WRITERS[modelType](dir, sizes, tokenizerJson, seed, dtype);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

/**
 * A BERT-style WordPiece tokenizer.json: the special tokens, the given whole words, and every
 * letter and digit alone and as a `##` continuation, so that any lowercase text encodes.
 */
export function wordPieceTokenizer(words: readonly string[]): string {
  const vocab: Record<string, number> = {};
  for (const t of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words, ...LETTERS, ...LETTERS.map((c) => `##${c}`)])
    vocab[t] ??= Object.keys(vocab).length;
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content, id) => ({ id, content }))),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  });
}

/**
 * A T5-style Unigram (SentencePiece) tokenizer.json: `<pad>`, `</s>`, `<unk>`, the given words as
 * `▁word` pieces, single characters, then `sentinels` sentinels counted down from the end, as T5 does.
 */
export function unigramTokenizer(words: readonly string[], sentinels: number): string {
  const pieces: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ...words.map((w): [string, number] => [`▁${w}`, -3]),
    ['▁', -4],
    ...LETTERS.map((c): [string, number] => [c, -6]),
  ];
  const extra = Array.from({ length: sentinels }, (_, i) => `<extra_id_${sentinels - 1 - i}>`);
  const special = [
    ...pieces.slice(0, 3).map(([content], id) => ({ id, content })),
    ...extra.map((content, i) => ({ id: pieces.length + i, content })),
  ];
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(special),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
    model: { type: 'Unigram', unk_id: 2, vocab: [...pieces, ...extra.map((s): [string, number] => [s, 0])] },
  });
}
