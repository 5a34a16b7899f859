import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tokenizers from 'tokenizers';

const { BPE, Tokenizer, byteLevelAlphabet, byteLevelPreTokenizer } = tokenizers;
type HfTokenizer = InstanceType<typeof Tokenizer>;

/** Special tokens of a tokenizer trained here; they take ids 0..4 in this order. */
export const SPECIAL_TOKENS = ['<pad>', '<unk>', '<bos>', '<eos>', '<cls>'] as const;

export interface SpecialIds {
  pad: number;
  unk?: number;
  bos?: number;
  eos?: number;
  cls?: number;
}

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
    readonly special: SpecialIds,
  ) {}

  /**
   * Learns a vocabulary of `vocabSize` tokens: the 5 special tokens, the 256 byte symbols (so any
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
    if (!Number.isInteger(vocabSize) || vocabSize < floor) throw new Error(`vocabulary size must be an integer >= ${floor} (special tokens and bytes), got ${vocabSize}`);
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
      added_tokens: SPECIAL_TOKENS.map((content, id) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { ...learned.model, vocab, merges },
    };
    const json = JSON.stringify(spec);
    const ids = { pad: 0, unk: 1, bos: 2, eos: 3, cls: 4 };
    return new BpeTokenizer(Tokenizer.fromString(json), json, ids);
  }

  /** Loads a tokenizer saved by `train` (its `json`). */
  static fromJson(json: string): BpeTokenizer {
    const tokenizer = Tokenizer.fromString(json);
    const id = (t: string): number | undefined => tokenizer.tokenToId(t) ?? undefined;
    const pad = id('<pad>');
    if (pad === undefined) throw new Error('tokenizer has no <pad> token: load a Hugging Face file with fromHuggingFace');
    return new BpeTokenizer(tokenizer, json, { pad, unk: id('<unk>'), bos: id('<bos>'), eos: id('<eos>'), cls: id('<cls>') });
  }

  /**
   * Loads a Hugging Face `tokenizer.json` with a BPE model (GPT-2's, RoBERTa's, ...). Such files
   * name their special tokens differently (GPT-2 has only `<|endoftext|>`), so say which to use;
   * `pad` defaults to `eos`, the usual choice for GPT-2.
   */
  static fromHuggingFace(json: string, special: { pad?: string; unk?: string; bos?: string; eos?: string; cls?: string } = {}): BpeTokenizer {
    const parsed = JSON.parse(json) as TokenizerJson;
    if (parsed.model?.type !== 'BPE') throw new Error(`expected a BPE tokenizer.json, got model type ${String(parsed.model?.type)}`);
    const tokenizer = Tokenizer.fromString(json);
    const id = (name: string, token: string | undefined): number | undefined => {
      if (token === undefined) return undefined;
      const found = tokenizer.tokenToId(token);
      if (found === null || found === undefined) throw new Error(`tokenizer has no token "${token}" for ${name}`);
      return found;
    };
    const eos = id('eos', special.eos);
    const pad = id('pad', special.pad) ?? eos;
    if (pad === undefined) throw new Error('name a pad token (or an eos token to pad with)');
    return new BpeTokenizer(tokenizer, json, { pad, unk: id('unk', special.unk), bos: id('bos', special.bos), eos, cls: id('cls', special.cls) });
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
