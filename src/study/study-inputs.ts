import { frameTarget, frameText } from '../ml/framing.ts';
import type { ModelFamily, SpecialTokens } from '../ml/models/language-model.ts';
import type { ModelVocabulary } from '../ml/models/model-spec.ts';
import type { TableData, UpstreamStage } from '../stage-api.ts';

export type SplitName = 'train' | 'validation' | 'test';

export interface FramedSplit {
  /** Token ids per text, framed for the model family. */
  ids: number[][];
  /** Class index per text, in the order of `labelNames`. */
  labels: number[];
  groups: string[];
}

/** What the tokenize stage hands every model stage. */
export interface TokenizedInputs extends ModelVocabulary {
  labelNames: string[];
  vocabSize: number;
  /** The checkpoint whose tokenizer was used, or null for one trained on the data. */
  checkpoint: string | null;
  /** Longest framed text, in tokens (tokenize's context_length). */
  contextLength: number;
  split(name: SplitName): Promise<FramedSplit>;
}

/** The tokenize stage's outputs, framed for `family` (see frameText). */
export async function readTokenized(tokenize: UpstreamStage, family: ModelFamily): Promise<TokenizedInputs> {
  const labelNames = (await tokenize.json('labels')) as string[];
  const special = (await tokenize.json('special')) as unknown as SpecialTokens;
  const labelTokens = (await tokenize.json('label_tokens')) as number[][];
  const contextLength = Number(tokenize.params.context_length);
  const labelTargets = family === 't5' ? labelTokens.map((l) => frameTarget(l, special)) : [];
  return {
    labelNames,
    special,
    labelTargets,
    vocabSize: tokenize.metrics.vocab_size!,
    checkpoint: (tokenize.params.checkpoint ?? null) as string | null,
    contextLength,
    async split(name) {
      const t: TableData = await tokenize.table(`${name}_ids`);
      const labels = (t.label as string[]).map((l) => {
        const i = labelNames.indexOf(l);
        if (i < 0) throw new Error(`label "${l}" in ${name} is not among the training labels ${labelNames.join(', ')}`);
        return i;
      });
      const ids = (t.ids as number[][]).map((text) => frameText(family, text, special, contextLength));
      return { ids, labels, groups: t.group as string[] };
    },
  };
}

/**
 * The one upstream stage of a group (`tokenize`, `pretrain`), by declared name; failing that, of
 * one branch of it (`tokenize-balanced`, `finetune-balanced`), so that a branch reuses a stage
 * module unchanged.
 */
export function inputOf(inputs: readonly UpstreamStage[], group: string): UpstreamStage {
  const exact = inputs.filter((i) => i.group === group);
  const found = exact.length > 0 ? exact : inputs.filter((i) => i.group.startsWith(`${group}-`));
  if (found.length !== 1) throw new Error(`expected exactly one "${group}" input, found ${found.length}`);
  return found[0]!;
}
