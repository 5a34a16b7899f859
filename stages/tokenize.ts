import { BpeTokenizer } from '../src/ml/bpe.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  /** Target vocabulary: 5 special tokens, 256 bytes, then learned merges. */
  vocab_size: number;
  /** Texts are cut to this many tokens (the end-of-text token always kept). */
  context_length: number;
}

/**
 * Byte-level BPE trained on the training split only (so nothing about validation or test leaks
 * into the vocabulary), then every split encoded, each text ending in the end-of-text token
 * that the classifier reads.
 */
export default defineStage<Params>(async (ctx) => {
  const [data] = ctx.inputs;
  if (data === undefined || ctx.inputs.length !== 1) throw new Error('tokenize needs exactly one input: a preprocess stage');
  const train = await data.table('train');
  const tokenizer = BpeTokenizer.train(train.text as string[], ctx.params.vocab_size);
  const labelNames = [...new Set(train.label as string[])].sort();
  const tables: Record<string, { ids: number[][]; label: string[]; group: string[] }> = {};
  const metrics: Record<string, number> = { vocab_size: tokenizer.vocabSize, labels: labelNames.length };
  for (const split of ['train', 'validation', 'test'] as const) {
    const t = split === 'train' ? train : await data.table(split);
    const ids = await tokenizer.encodeBatch(t.text as string[], { eos: true, maxLength: ctx.params.context_length });
    tables[`${split}_ids`] = { ids, label: t.label as string[], group: t.group as string[] };
    metrics[`${split}_tokens`] = ids.reduce((n, x) => n + x.length, 0);
  }
  ctx.log(`vocabulary of ${tokenizer.vocabSize} tokens; ${metrics.train_tokens} training tokens`);
  return {
    tables,
    json: { labels: labelNames, special: tokenizer.special as unknown as JsonObject },
    blobs: { 'tokenizer.json': new TextEncoder().encode(tokenizer.json) },
    metrics,
  };
});
