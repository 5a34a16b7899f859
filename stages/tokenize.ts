import path from 'node:path';
import { BpeTokenizer } from '../src/ml/bpe.ts';
import { readCheckpointTokenizer } from '../src/ml/checkpoint/hf-checkpoint.ts';
import { defineStage, type JsonObject, type UpstreamStage } from '../src/stage-api.ts';

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
 *
 * With an upstream tokenize stage besides the preprocess stage (the balanced-data branch), its
 * tokenizer and label order are reused instead: a model pre-trained on that vocabulary must be
 * fine-tuned on ids that mean the same, whatever training data this branch has.
 */
export default defineStage<Params>(async (ctx) => {
  const data = ctx.inputs.filter((i) => i.group === 'preprocess');
  const reused = ctx.inputs.filter((i) => i.group === 'tokenize');
  if (data.length !== 1 || reused.length > 1 || ctx.inputs.length !== data.length + reused.length)
    throw new Error(
      'tokenize needs one preprocess stage as input, and at most one tokenize stage whose tokenizer to reuse',
    );
  const [source] = data as [UpstreamStage];
  const { checkpoint, context_length: contextLength } = ctx.params;
  if (!Number.isInteger(contextLength) || contextLength < 3)
    throw new Error(`context_length must be an integer >= 3, got ${contextLength}`);
  const train = await source.table('train');
  const upstream = reused[0];
  const tokenizer =
    upstream !== undefined
      ? BpeTokenizer.fromJson(
          new TextDecoder().decode(await upstream.blob('tokenizer.json')),
          `${upstream.name} blob tokenizer.json`,
        )
      : checkpoint === null || checkpoint === undefined
        ? BpeTokenizer.train(train.text as string[], ctx.params.vocab_size)
        : BpeTokenizer.fromJson(
            readCheckpointTokenizer(path.resolve(ctx.root, checkpoint)),
            path.join(checkpoint, 'tokenizer.json'),
          );
  const labelNames =
    upstream !== undefined
      ? ((await upstream.json('labels')) as string[])
      : [...new Set(train.label as string[])].sort();
  const unknown = (train.label as string[]).find((l) => !labelNames.includes(l));
  if (unknown !== undefined)
    throw new Error(`label "${unknown}" of ${source.name}'s training split is not a label of ${upstream?.name ?? ''}`);
  const tables: Record<string, { ids: number[][]; label: string[]; group: string[] }> = {};
  const metrics: Record<string, number> = { vocab_size: tokenizer.vocabSize, labels: labelNames.length };
  for (const split of ['train', 'validation', 'test'] as const) {
    const t = split === 'train' ? train : await source.table(split);
    const ids = await tokenizer.encodeBatch(t.text as string[], { maxLength: contextLength - 2 });
    tables[`${split}_ids`] = { ids, label: t.label as string[], group: t.group as string[] };
    metrics[`${split}_tokens`] = ids.reduce((n, x) => n + x.length, 0);
  }
  // T5 answers with the label's text: its tokens are the decoder's target.
  const labelTokens = await tokenizer.encodeBatch(labelNames);
  ctx.log(
    `vocabulary of ${tokenizer.vocabSize} tokens${upstream ? ` from ${upstream.name}` : checkpoint ? ` from ${checkpoint}` : ''}; ${metrics.train_tokens} training tokens`,
  );
  return {
    tables,
    json: { labels: labelNames, special: tokenizer.special as unknown as JsonObject, label_tokens: labelTokens },
    blobs: { 'tokenizer.json': new TextEncoder().encode(tokenizer.json) },
    metrics,
  };
});
