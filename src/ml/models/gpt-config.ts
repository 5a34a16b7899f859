/** Sizes of a GPT-2-style decoder. */
export interface GptConfig {
  vocabSize: number;
  /** Longest input, in tokens (learned position embeddings exist for this many positions). */
  contextLength: number;
  layers: number;
  dModel: number;
  heads: number;
  /** Width of the MLP's hidden layer; GPT-2 uses 4 x dModel. */
  dFF: number;
  /** Outputs of the classification head. */
  numClasses: number;
  /** Dropout rate on embeddings, attention weights and residual branches; GPT-2 used 0.1. */
  dropout: number;
}

/** GPT-2's shape ratios at a size that trains on a CPU: the benchmark's model. */
export const SMALL_GPT: GptConfig = {
  vocabSize: 2000,
  contextLength: 64,
  layers: 2,
  dModel: 128,
  heads: 4,
  dFF: 512,
  numClasses: 2,
  dropout: 0,
};

export function validateGptConfig(c: GptConfig): void {
  const positive = ['vocabSize', 'contextLength', 'layers', 'dModel', 'heads', 'dFF', 'numClasses'] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] < 1)
      throw new Error(`GPT config: ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.dModel % c.heads !== 0) throw new Error(`GPT config: dModel ${c.dModel} is not divisible by heads ${c.heads}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`GPT config: dropout must be in [0, 1), got ${c.dropout}`);
}
