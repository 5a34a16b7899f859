import type { BertConfig } from './bert-config.ts';
import { validateBertConfig } from './bert-config.ts';
import { Bert } from './bert.ts';
import { type GptConfig, validateGptConfig } from './gpt-config.ts';
import { Gpt } from './gpt.ts';
import type { LanguageModel, SpecialTokens } from './language-model.ts';
import type { T5Config } from './t5-config.ts';
import { validateT5Config } from './t5-config.ts';
import { T5 } from './t5.ts';

/**
 * A model's architecture and every size, as JSON: what the pre-training stage stores beside the
 * weights, so that fine-tuning and evaluation rebuild exactly the model the weights belong to
 * (from a checkpoint's config.json or from pipeline.yaml alike).
 */
export type ModelSpec =
  { family: 'gpt'; config: GptConfig } | { family: 'bert'; config: BertConfig } | { family: 't5'; config: T5Config };

/** What a model needs from the tokenizer besides the vocabulary size. */
export interface ModelVocabulary {
  special: SpecialTokens;
  /** T5's decoder target per class: the label text's tokens and `</s>`. Unused by the others. */
  labelTargets: readonly (readonly number[])[];
}

/** Checks a spec read from JSON (an artifact, a config file) before building from it. */
export function validateSpec(spec: ModelSpec): void {
  if (spec.family === 'gpt') validateGptConfig(spec.config);
  else if (spec.family === 'bert') validateBertConfig(spec.config);
  else if (spec.family === 't5') validateT5Config(spec.config);
  else throw new Error(`unknown model family "${(spec as { family: unknown }).family}" (gpt, bert, t5)`);
}

/** A freshly initialised model of the spec; `seed` draws its initial weights. */
export function instantiate(spec: ModelSpec, vocabulary: ModelVocabulary, seed: number): LanguageModel {
  validateSpec(spec);
  switch (spec.family) {
    case 'gpt':
      return new Gpt(spec.config, seed);
    case 'bert':
      return new Bert(spec.config, vocabulary.special, seed);
    case 't5':
      return new T5(spec.config, vocabulary.special, vocabulary.labelTargets, seed);
  }
}
