import * as aq from 'arquero';
import { cleanText } from '../src/data/clean-text.ts';
import { balanceGroups } from '../src/data/balance.ts';
import { stratifiedSplit, type SplitFractions } from '../src/data/split.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  seed: number;
  split: SplitFractions & JsonObject;
  /**
   * `balanced`: downsample the training split so every group has as many texts as the smallest
   * (validation and test stay as they are); `as-is`: keep it.
   */
  training_groups: 'as-is' | 'balanced';
}

/**
 * Clean (remove special characters and extra whitespace, lowercase), drop empty and duplicate
 * texts, and split train/validation/test stratified by label, from the ingest stage's corpus.
 */
export default defineStage<Params>(async (ctx) => {
  const [source] = ctx.inputs;
  if (source === undefined || ctx.inputs.length !== 1)
    throw new Error('preprocess needs exactly one input: the ingest stage');
  const raw = await source.table('corpus');
  const cleaned = aq
    .table({ text: (raw.text as string[]).map(cleanText), label: raw.label as string[], group: raw.group as string[] })
    .filter((d: { text: string }) => d.text.length > 0)
    .dedupe('text');
  const labels = cleaned.array('label') as string[];
  const split = stratifiedSplit(labels, ctx.params.split, ctx.params.seed);
  const withSplit = cleaned.assign({ split });
  const part = (name: string) => {
    const t = withSplit.params({ name }).filter((d: { split: string }, $: { name: string }) => d.split === $.name);
    return {
      text: t.array('text') as string[],
      label: t.array('label') as string[],
      group: t.array('group') as string[],
    };
  };
  let train = part('train');
  if (ctx.params.training_groups !== 'as-is' && ctx.params.training_groups !== 'balanced') {
    throw new Error(`training_groups must be "as-is" or "balanced", got ${JSON.stringify(ctx.params.training_groups)}`);
  }
  if (ctx.params.training_groups === 'balanced') {
    const keep = balanceGroups(train.group, ctx.params.seed);
    train = {
      text: train.text.filter((_, i) => keep[i]),
      label: train.label.filter((_, i) => keep[i]),
      group: train.group.filter((_, i) => keep[i]),
    };
  }
  const validation = part('validation');
  const test = part('test');
  ctx.log(
    `${raw.text!.length} rows read, ${cleaned.numRows()} kept; split ${train.text.length}/${validation.text.length}/${test.text.length}`,
  );
  return {
    tables: { train, validation, test },
    metrics: {
      rows_read: raw.text!.length,
      rows_kept: cleaned.numRows(),
      train: train.text.length,
      validation: validation.text.length,
      test: test.text.length,
    },
  };
});
