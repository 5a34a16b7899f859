import path from 'node:path';
import { BpeTokenizer } from '../src/ml/bpe.ts';
import { readCheckpointTokenizer } from '../src/ml/checkpoint/hf-checkpoint.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  /** Target vocabulary: the special tokens, 256 bytes, then learned merges. Unused with a checkpoint. */
  vocab_size: number;
  /** Longest framed text in tokens: the text is cut to leave room for two markers (CLS and SEP, or end of text). */
  context_length: number;
  /**
   * A Hugging Face checkpoint directory (a dependency of the stage, so its bytes are in the
   * fingerprint) whose tokenizer.json to use, so the ids mean what the checkpoint's embeddings
   * learned; null to learn a byte-level BPE on the training split.
   */
  checkpoint: string | null;
}

/**
 * Tokenizes every split. Without a checkpoint, byte-level BPE is trained on the training split
 * only, so nothing about validation or test leaks into the vocabulary. Texts are stored without
 * special tokens: each model family frames them its own way (src/ml/framing.ts).
 */
export default defineStage<Params>(async (ctx) => {
  const [data] = ctx.inputs;
  if (data === undefined || ctx.inputs.length !== 1)
    throw new Error('tokenize needs exactly one stage input: a preprocess stage');
  const { checkpoint, context_length: contextLength } = ctx.params;
  if (!Number.isInteger(contextLength) || contextLength < 3)
    throw new Error(`context_length must be an integer >= 3, got ${contextLength}`);
  const train = await data.table('train');
  const tokenizer =
    checkpoint === null || checkpoint === undefined
      ? BpeTokenizer.train(train.text as string[], ctx.params.vocab_size)
      : BpeTokenizer.fromJson(
          readCheckpointTokenizer(path.resolve(ctx.root, checkpoint)),
          path.join(checkpoint, 'tokenizer.json'),
        );
  const labelNames = [...new Set(train.label as string[])].sort();
  const tables: Record<string, { ids: number[][]; label: string[]; group: string[] }> = {};
  const metrics: Record<string, number> = { vocab_size: tokenizer.vocabSize, labels: labelNames.length };
  for (const split of ['train', 'validation', 'test'] as const) {
    const t = split === 'train' ? train : await data.table(split);
    const ids = await tokenizer.encodeBatch(t.text as string[], { maxLength: contextLength - 2 });
    tables[`${split}_ids`] = { ids, label: t.label as string[], group: t.group as string[] };
    metrics[`${split}_tokens`] = ids.reduce((n, x) => n + x.length, 0);
  }
  // T5 answers with the label's text: its tokens are the decoder's target.
  const labelTokens = await tokenizer.encodeBatch(labelNames);
  ctx.log(
    `vocabulary of ${tokenizer.vocabSize} tokens${checkpoint ? ` from ${checkpoint}` : ''}; ${metrics.train_tokens} training tokens`,
  );
  return {
    tables,
    json: { labels: labelNames, special: tokenizer.special as unknown as JsonObject, label_tokens: labelTokens },
    blobs: { 'tokenizer.json': new TextEncoder().encode(tokenizer.json) },
    metrics,
  };
});
