import { BpeTokenizer } from '../../src/ml/bpe.ts';

export interface LabelledIds {
  ids: number[][];
  labels: number[];
}

/**
 * A labelled text task ready for training: a BPE tokenizer trained on the first `trainSize` texts,
 * every text encoded with an end-of-sequence token, and ids and labels split at `trainSize`.
 */
export async function tokenizedSplit(
  texts: string[],
  labels: number[],
  { trainSize, vocabSize, maxLength }: { trainSize: number; vocabSize: number; maxLength: number },
): Promise<{ tokenizer: BpeTokenizer; train: LabelledIds; validation: LabelledIds }> {
  const tokenizer = BpeTokenizer.train(texts.slice(0, trainSize), vocabSize);
  const ids = await tokenizer.encodeBatch(texts, { eos: true, maxLength });
  return {
    tokenizer,
    train: { ids: ids.slice(0, trainSize), labels: labels.slice(0, trainSize) },
    validation: { ids: ids.slice(trainSize), labels: labels.slice(trainSize) },
  };
}
