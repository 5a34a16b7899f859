import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpeTokenizer, SENTINEL_COUNT, SPECIAL_TOKENS } from '../src/ml/bpe.ts';
import { wordPieceTokenizer } from './helpers/hf-checkpoints.ts';
import { Rng } from '../src/ml/rng.ts';

/** Pseudo-words from a few syllables: plenty of pairs to merge, deterministic. */
function corpus(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sta', 'pe', 'on', 'the', 'ing', 'ver', 'tio'];
  const word = (): string =>
    Array.from(
      { length: 1 + Math.floor(rng.uniform() * 3) },
      () => syllables[Math.floor(rng.uniform() * syllables.length)],
    ).join('');
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(rng.uniform() * 8) }, word).join(' '));
}

describe('byte pair encoding', () => {
  const texts = corpus(400, 1);
  const tok = BpeTokenizer.train(texts, 600);

  it('learns a vocabulary of the requested size with the special tokens first', () => {
    assert.equal(tok.vocabSize, 600);
    assert.deepEqual(tok.special, {
      pad: 0,
      unk: 1,
      bos: 2,
      eos: 3,
      cls: 4,
      sep: 5,
      mask: 6,
      sentinels: Array.from({ length: SENTINEL_COUNT }, (_, i) => 7 + i),
    });
    assert.deepEqual(tok.tokens(SPECIAL_TOKENS.map((_, i) => i)), [...SPECIAL_TOKENS]);
  });

  it('is deterministic: the same texts give the same tokenizer file', () => {
    assert.equal(BpeTokenizer.train(texts, 600).json, tok.json);
    assert.notEqual(BpeTokenizer.train(corpus(400, 2), 600).json, tok.json);
  });

  it('merges frequent words into single tokens', async () => {
    const ids = await tok.encode('the kaloing');
    assert.ok(ids.length <= 4, `got ${tok.tokens(ids).join('|')}`);
    assert.deepEqual(tok.tokens(await tok.encode('the')), ['the']);
  });

  it('round-trips any text, including characters never seen in training', async () => {
    for (const text of [texts[0]!, 'Zebra! 42 ünïcödé — 日本語 🙂', '  spaces  and\ttabs\nnewline']) {
      const ids = await tok.encode(text);
      assert.ok(ids.every((i) => i >= SPECIAL_TOKENS.length && i < tok.vocabSize));
      assert.equal(await tok.decode(ids), text);
    }
  });

  it('adds special tokens and truncates the text, never the special tokens', async () => {
    const ids = await tok.encode(texts[3]!, { bos: true, eos: true, maxLength: 6 });
    assert.equal(ids.length, 6);
    assert.equal(ids[0], tok.special.bos);
    assert.equal(ids[5], tok.special.eos);
    assert.equal(await tok.decode(ids), await tok.decode((await tok.encode(texts[3]!)).slice(0, 4)));
    const batch = await tok.encodeBatch(['ka', 'lo mi'], { eos: true });
    assert.deepEqual(
      batch.map((b) => b.at(-1)),
      [3, 3],
    );
  });

  it('reloads from its saved JSON and encodes identically', async () => {
    const again = BpeTokenizer.fromJson(tok.json);
    assert.equal(again.vocabSize, tok.vocabSize);
    assert.deepEqual(await again.encodeBatch(texts.slice(0, 20)), await tok.encodeBatch(texts.slice(0, 20)));
  });

  it('gives a smaller vocabulary when the texts cannot supply more merges', () => {
    const small = BpeTokenizer.train(['aa bb aa bb'], 1000);
    assert.ok(small.vocabSize > 295 && small.vocabSize < 1000, `size ${small.vocabSize}`);
    assert.throws(() => BpeTokenizer.train(texts, 100), /vocabulary size must be an integer >= 295/);
  });

  it('loads a Hugging Face tokenizer.json (GPT-2 layout, merges as strings)', async () => {
    const vocab: Record<string, number> = { '<|endoftext|>': 0 };
    for (const ch of [
      'h',
      'e',
      'l',
      'o',
      'Ġ',
      'w',
      'r',
      'd',
      'he',
      'll',
      'hell',
      'hello',
      'Ġw',
      'or',
      'Ġwor',
      'Ġworl',
      'Ġworld',
    ]) {
      vocab[ch] ??= Object.keys(vocab).length;
    }
    const json = JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        {
          id: 0,
          content: '<|endoftext|>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: true,
          special: true,
        },
      ],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        vocab,
        merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'Ġwor l', 'Ġworl d'],
      },
    });
    const hf = BpeTokenizer.fromJson(json);
    assert.deepEqual(hf.special, { pad: 0, eos: 0 });
    const ids = await hf.encode('hello world', { eos: true });
    assert.deepEqual(hf.tokens(ids), ['hello', 'Ġworld', '<|endoftext|>']);
    assert.equal(await hf.decode(ids), 'hello world');
    assert.throws(
      () => BpeTokenizer.fromJson('{"model": {"type": "Nonsense"}}', 'ckpt/tokenizer.json'),
      /^Error: ckpt\/tokenizer.json: not a tokenizer/,
    );
  });

  it('loads a BERT-style WordPiece tokenizer.json and finds its special tokens', async () => {
    const bert = BpeTokenizer.fromJson(wordPieceTokenizer(['hello', 'wor']));
    assert.deepEqual(bert.special, { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 });
    // Lowercased by the normalizer, whole words first, then letter by letter as continuations.
    assert.deepEqual(bert.tokens(await bert.encode('Hello world')), ['hello', 'wor', '##l', '##d']);
  });

  it('loads a T5-style Unigram tokenizer.json with its sentinels', async () => {
    const pieces: [string, number][] = [
      ['<pad>', 0],
      ['</s>', 0],
      ['<unk>', 0],
      ['▁hello', -2],
      ['▁world', -2],
      ['▁', -3],
      ['h', -5],
      ['e', -5],
    ];
    const sentinels = [1, 0].map((i) => `<extra_id_${i}>`);
    const json = JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        ...pieces.slice(0, 3).map(([content], id) => ({ id, content, special: true })),
        ...sentinels.map((content, i) => ({ id: pieces.length + i, content, special: true })),
      ].map((t) => ({ single_word: false, lstrip: false, rstrip: false, normalized: false, ...t })),
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
      post_processor: null,
      decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' },
      model: { type: 'Unigram', unk_id: 2, vocab: [...pieces, ...sentinels.map((s): [string, number] => [s, 0])] },
    });
    const t5 = BpeTokenizer.fromJson(json);
    // T5 counts its sentinels down from the end of the vocabulary: <extra_id_0> has the highest id.
    assert.deepEqual(t5.special, { pad: 0, unk: 2, eos: 1, sentinels: [9, 8] });
    assert.deepEqual(t5.tokens(await t5.encode('hello world', { eos: true })), ['▁hello', '▁world', '</s>']);
  });
});
