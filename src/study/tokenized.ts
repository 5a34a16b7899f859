import type { TableData, UpstreamStage } from '../stage-api.ts';

export interface TokenizedSplit {
  ids: number[][];
  /** Class index per text, in the order of `labelNames`. */
  labels: number[];
  groups: string[];
}

/** A split as the tokenize stage stored it, with labels as class indices. */
export async function readTokenizedSplit(tokenize: UpstreamStage, split: 'train' | 'validation' | 'test', labelNames: readonly string[]): Promise<TokenizedSplit> {
  const t: TableData = await tokenize.table(`${split}_ids`);
  const labels = (t.label as string[]).map((l) => {
    const i = labelNames.indexOf(l);
    if (i < 0) throw new Error(`label "${l}" in ${split} is not among the training labels ${labelNames.join(', ')}`);
    return i;
  });
  return { ids: t.ids as number[][], labels, groups: t.group as string[] };
}

/** The one upstream stage of a group (`tokenize`, `pretrain@gpt2`), by declared name. */
export function inputOf(inputs: readonly UpstreamStage[], group: string): UpstreamStage {
  const found = inputs.filter((i) => i.group === group);
  if (found.length !== 1) throw new Error(`expected exactly one "${group}" input, found ${found.length}`);
  return found[0]!;
}
