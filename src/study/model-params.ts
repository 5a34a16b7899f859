import type { JsonObject } from '../stage-api.ts';
import { validateGptConfig } from '../ml/models/gpt-config.ts';
import { Gpt } from '../ml/models/gpt.ts';
import type { LanguageModel } from '../ml/models/language-model.ts';

/** A model as pipeline.yaml declares it (snake_case, like the rest of the file). */
export interface ModelParams extends JsonObject {
  /** `gpt2` now; `bert` and `t5` slot in behind the same LanguageModel interface. */
  architecture: string;
  layers: number;
  d_model: number;
  heads: number;
  d_ff: number;
  context_length: number;
  dropout: number;
}

/** A freshly initialised model of the declared architecture and size. */
export function buildModel(p: ModelParams, vocabSize: number, numClasses: number, seed: number): LanguageModel {
  if (p.architecture !== 'gpt2') throw new Error(`unknown architecture "${p.architecture}" (this build has: gpt2)`);
  const config = {
    vocabSize,
    contextLength: p.context_length,
    layers: p.layers,
    dModel: p.d_model,
    heads: p.heads,
    dFF: p.d_ff,
    numClasses,
    dropout: p.dropout,
  };
  validateGptConfig(config);
  return new Gpt(config, seed);
}
