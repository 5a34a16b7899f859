import { join } from 'node:path';
import * as aq from 'arquero';
import { cleanText } from '../src/data/clean-text.ts';
import { readLabelledText } from '../src/data/read-labelled-text.ts';
import { stratifiedSplit, type SplitFractions } from '../src/data/split.ts';
import { defineStage, type JsonObject } from '../src/stage-api.ts';

interface Params extends JsonObject {
  corpus: string;
  seed: number;
  split: SplitFractions & JsonObject;
}

/** Clean, lowercase, drop empty and duplicate texts, and split train/validation/test stratified by label. */
export default defineStage<Params>(async (ctx) => {
  const raw = await readLabelledText(join(ctx.root, ctx.params.corpus));
  const cleaned = aq
    .table({ text: raw.text.map(cleanText), label: raw.label, group: raw.group })
    .filter((d: { text: string }) => d.text.length > 0)
    .dedupe('text');
  const labels = cleaned.array('label') as string[];
  const split = stratifiedSplit(labels, ctx.params.split, ctx.params.seed);
  const withSplit = cleaned.assign({ split });
  const part = (name: string) => {
    const t = withSplit.params({ name }).filter((d: { split: string }, $: { name: string }) => d.split === $.name);
    return { text: t.array('text') as string[], label: t.array('label') as string[], group: t.array('group') as string[] };
  };
  const train = part('train');
  const validation = part('validation');
  const test = part('test');
  ctx.log(`${raw.text.length} rows read, ${cleaned.numRows()} kept; split ${train.text.length}/${validation.text.length}/${test.text.length}`);
  return {
    tables: { train, validation, test },
    metrics: {
      rows_read: raw.text.length,
      rows_kept: cleaned.numRows(),
      train: train.text.length,
      validation: validation.text.length,
      test: test.text.length,
    },
  };
});
