import type { LanguageModel, ParamSubset } from '../../src/ml/models/language-model.ts';

/** The names (keys of `model.variables`) of the variables that `subset` trains, in the order the model gives them. */
export const subsetNames = (model: LanguageModel, subset: ParamSubset): string[] =>
  model.trainableVariables(subset).map((v) => [...model.variables].find(([, w]) => w === v)![0]);
