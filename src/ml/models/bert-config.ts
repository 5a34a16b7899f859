/** Sizes of a BERT-style encoder (Devlin et al., 2019), named after Hugging Face's BertConfig where they differ. */
export interface BertConfig {
  vocabSize: number;
  /** Longest input, in tokens: `max_position_embeddings` (learned position embeddings exist for this many). */
  contextLength: number;
  /** Rows of the token-type (segment) embedding: `type_vocab_size`, 2 in BERT. Every input is type 0 here. */
  typeVocabSize: number;
  layers: number;
  dModel: number;
  heads: number;
  /** Width of the feed-forward layer (`intermediate_size`); BERT uses 4 x dModel. */
  dFF: number;
  /** Outputs of the classification head. */
  numClasses: number;
  /**
   * Dropout rate on the embeddings, attention weights, residual branches and the pooled output
   * before the classifier; BERT used 0.1 for all of them (`hidden_dropout_prob`).
   */
  dropout: number;
  /** Epsilon of every layer norm: BERT's is 1e-12 (`layer_norm_eps`), not the 1e-5 of GPT-2. */
  layerNormEps: number;
}

/** BERT's shape ratios at a size that trains on a CPU: the benchmark's model. */
export const SMALL_BERT: BertConfig = {
  vocabSize: 2000,
  contextLength: 64,
  typeVocabSize: 2,
  layers: 2,
  dModel: 64,
  heads: 4,
  dFF: 256,
  numClasses: 2,
  dropout: 0,
  layerNormEps: 1e-12,
};

export function validateBertConfig(c: BertConfig): void {
  const positive = [
    'vocabSize',
    'contextLength',
    'typeVocabSize',
    'layers',
    'dModel',
    'heads',
    'dFF',
    'numClasses',
  ] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] < 1)
      throw new Error(`BERT config: ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.dModel % c.heads !== 0) throw new Error(`BERT config: dModel ${c.dModel} is not divisible by heads ${c.heads}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`BERT config: dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.layerNormEps > 0 && Number.isFinite(c.layerNormEps)))
    throw new Error(`BERT config: layerNormEps must be a positive number, got ${c.layerNormEps}`);
}
