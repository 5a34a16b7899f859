import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tokenizers from 'tokenizers';
import type { SpecialTokens } from './models/language-model.ts';

const { BPE, Tokenizer, byteLevelAlphabet, byteLevelPreTokenizer } = tokenizers;
type HfTokenizer = InstanceType<typeof Tokenizer>;

/** T5-style span-corruption sentinels a tokenizer trained here carries: enough for 15% noise in 512-token inputs. */
export const SENTINEL_COUNT = 32;

/**
 * Special tokens of a tokenizer trained here, ids 0.. in this order: every architecture's markers
 * (GPT's end of text, BERT's classification, separator and mask tokens, T5's sentinels), so one
 * vocabulary serves all three models and their pre-training objectives.
 */
export const SPECIAL_TOKENS: readonly string[] = [
  '<pad>',
  '<unk>',
  '<bos>',
  '<eos>',
  '<cls>',
  '<sep>',
  '<mask>',
  ...Array.from({ length: SENTINEL_COUNT }, (_, i) => `<extra_id_${i}>`),
];

/**
 * Where to find each role in a tokenizer.json: ours first, then the names that GPT-2 (`<|endoftext|>`),
 * BERT (`[CLS]`...) and T5 (`</s>`, `<extra_id_N>`) checkpoints use.
 */
const ROLE_NAMES: Record<Exclude<keyof SpecialTokens, 'sentinels'>, readonly string[]> = {
  pad: ['<pad>', '[PAD]'],
  unk: ['<unk>', '[UNK]'],
  bos: ['<bos>', '<s>'],
  eos: ['<eos>', '</s>', '<|endoftext|>'],
  cls: ['<cls>', '[CLS]'],
  sep: ['<sep>', '[SEP]'],
  mask: ['<mask>', '[MASK]'],
};

export interface EncodeOptions {
  /** Prepend the begin-of-sequence token. */
  bos?: boolean;
  /**
   * Append the end-of-sequence token. A causal classifier reads the last token, so ending every
   * text with the same token gives it a consistent place to summarise from (as GPT did).
   */
  eos?: boolean;
  /** Longest result: the text is cut, never the special tokens. */
  maxLength?: number;
}

/**
 * tokenizer.json's `added_tokens` entries for special tokens, with the flags Hugging Face's
 * tokenizers writes for them (matched whole, never normalised or split).
 */
export function addedTokens(tokens: readonly { id: number; content: string }[]) {
  return tokens.map((t) => ({
    ...t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

interface TokenizerJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  model: { type: string; vocab: Record<string, number>; merges: ([string, string] | string)[] };
  [key: string]: unknown;
}

/**
 * Byte-level byte pair encoding (Sennrich et al., 2016; byte-level as in GPT-2), on Hugging Face's
 * `tokenizers` (the Rust library, through its Node bindings): training, encoding and the
 * `tokenizer.json` format are theirs, so a vocabulary trained here loads in Python's tokenizers
 * and transformers, and a Hugging Face tokenizer.json loads here.
 */
export class BpeTokenizer {
  private constructor(
    private readonly tokenizer: HfTokenizer,
    /** The tokenizer.json text this was built from: what to store as the artifact. */
    readonly json: string,
    readonly special: SpecialTokens,
  ) {}

  /**
   * Learns a vocabulary of `vocabSize` tokens: the special tokens (SPECIAL_TOKENS), the 256 byte symbols (so any
   * text encodes, with no unknown token), then merges in the order BPE learns them. A corpus too
   * small to supply that many merges (every word already one token) gives a smaller vocabulary:
   * read the size from `vocabSize` on the result.
   *
   * The library's Node bindings expose training only with the default trainer (30,000 tokens,
   * no options), so we train with it and keep its first merges: BPE is greedy, each merge chosen
   * from the counts left by the earlier ones, so the first k merges of a longer run are exactly
   * what a run asked to stop after k merges learns. Deterministic: same texts, same vocabulary.
   */
  static train(texts: readonly string[], vocabSize: number): BpeTokenizer {
    const alphabet = [...byteLevelAlphabet()].sort();
    const floor = SPECIAL_TOKENS.length + alphabet.length;
    if (!Number.isInteger(vocabSize) || vocabSize < floor)
      throw new Error(`vocabulary size must be an integer >= ${floor} (special tokens and bytes), got ${vocabSize}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-'));
    let learned: TokenizerJson;
    try {
      const corpus = path.join(dir, 'corpus.txt');
      // One text per line: the trainer reads files line by line.
      fs.writeFileSync(corpus, texts.map((t) => t.replace(/[\r\n]+/g, ' ')).join('\n'));
      const trainer = new Tokenizer(BPE.empty());
      trainer.setPreTokenizer(byteLevelPreTokenizer(false, true));
      trainer.train([corpus]);
      const saved = path.join(dir, 'tokenizer.json');
      trainer.save(saved);
      learned = JSON.parse(fs.readFileSync(saved, 'utf8')) as TokenizerJson;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const vocab: Record<string, number> = {};
    let next = 0;
    for (const token of [...SPECIAL_TOKENS, ...alphabet]) vocab[token] = next++;
    const merges: [string, string][] = [];
    for (const merge of learned.model.merges) {
      if (next >= vocabSize) break;
      const [a, b] = typeof merge === 'string' ? (merge.split(' ') as [string, string]) : merge;
      merges.push([a, b]);
      // Two merges can spell the same token ("a"+"bc", "ab"+"c"): it gets one id.
      if (vocab[a + b] === undefined) vocab[a + b] = next++;
    }

    const spec: TokenizerJson = {
      ...learned,
      added_tokens: addedTokens(SPECIAL_TOKENS.map((content, id) => ({ id, content }))),
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { ...learned.model, vocab, merges },
    };
    const json = JSON.stringify(spec);
    return BpeTokenizer.fromJson(json);
  }

  /**
   * Loads a tokenizer.json: one saved by `train`, or a Hugging Face checkpoint's (BPE for GPT-2,
   * WordPiece for BERT, Unigram for T5: the library reads them all). Special tokens are found by
   * their usual names; a tokenizer without a pad token pads with its end-of-text token, as GPT-2
   * does.
   */
  static fromJson(json: string, file = 'tokenizer.json'): BpeTokenizer {
    let tokenizer: HfTokenizer;
    try {
      tokenizer = Tokenizer.fromString(json);
    } catch (e) {
      throw new Error(`${file}: not a tokenizer the tokenizers library can load (${(e as Error).message})`);
    }
    const find = (names: readonly string[]): number | undefined => {
      for (const name of names) {
        const id = tokenizer.tokenToId(name);
        if (id !== null && id !== undefined) return id;
      }
      return undefined;
    };
    const roles = Object.fromEntries(Object.entries(ROLE_NAMES).map(([role, names]) => [role, find(names)])) as Omit<
      SpecialTokens,
      'pad' | 'sentinels'
    > & { pad?: number };
    const pad = roles.pad ?? roles.eos;
    if (pad === undefined) throw new Error(`${file}: no pad token (<pad>, [PAD]) and no end-of-text token to pad with`);
    const sentinels: number[] = [];
    for (let i = 0; ; i++) {
      const id = tokenizer.tokenToId(`<extra_id_${i}>`);
      if (id === null || id === undefined) break;
      sentinels.push(id);
    }
    const special: SpecialTokens = { pad };
    for (const role of ['unk', 'bos', 'eos', 'cls', 'sep', 'mask'] as const)
      if (roles[role] !== undefined) special[role] = roles[role];
    if (sentinels.length > 0) special.sentinels = sentinels;
    return new BpeTokenizer(tokenizer, json, special);
  }

  get vocabSize(): number {
    return this.tokenizer.getVocabSize(true);
  }

  /** Token ids of each text, in order. */
  async encodeBatch(texts: readonly string[], options: EncodeOptions = {}): Promise<number[][]> {
    const head = options.bos ? [this.required('bos')] : [];
    const tail = options.eos ? [this.required('eos')] : [];
    const room = options.maxLength === undefined ? Infinity : options.maxLength - head.length - tail.length;
    if (room < 0) throw new Error(`maxLength ${options.maxLength} leaves no room for the special tokens`);
    const encodings = await this.tokenizer.encodeBatch([...texts], { addSpecialTokens: false });
    return encodings.map((e) => [...head, ...e.getIds().slice(0, room), ...tail]);
  }

  async encode(text: string, options: EncodeOptions = {}): Promise<number[]> {
    return (await this.encodeBatch([text], options))[0]!;
  }

  /** Text of the ids, special tokens left out. */
  decode(ids: readonly number[]): Promise<string> {
    return this.tokenizer.decode([...ids], true);
  }

  /** The token strings of the ids (for inspection). */
  tokens(ids: readonly number[]): string[] {
    return ids.map((i) => this.tokenizer.idToToken(i) ?? '<?>');
  }

  private required(name: 'bos' | 'eos'): number {
    const id = this.special[name];
    if (id === undefined) throw new Error(`this tokenizer has no ${name} token`);
    return id;
  }
}
