import type { JsonObject, JsonValue } from '../../stage-api.ts';
import type { OptimizerParams } from '../optimizer-params.ts';
import { SEARCH_METRICS, type SearchMetric } from './ranking.ts';
import { type Rung, parseRungs } from './rungs.ts';
import { type SearchSpace, parseSpace } from './space.ts';

/** The params every search stage of one architecture x variant shares (pipeline.yaml `vars.search`). */
export interface SearchParams extends JsonObject {
  variant: string;
  /** Table 1's optimizer for this variant: the settings not searched, and trial 0's values. */
  optimizer: OptimizerParams;
  space: JsonValue;
  /** Declared number of trials, the same for every variant; 0: no search (Table 1's values). */
  trials: number;
  seed: number;
  metric: string;
  rungs: JsonValue;
}

export interface SearchPlan {
  space: SearchSpace;
  rungs: Rung[];
  metric: SearchMetric;
  trials: number;
  seed: number;
}

/** Checks the shared search params, naming the field at fault. */
export function searchPlan(p: SearchParams): SearchPlan {
  const metric = p.metric as SearchMetric;
  if (!SEARCH_METRICS.includes(metric))
    throw new Error(`search metric must be one of ${SEARCH_METRICS.join(', ')}, got ${JSON.stringify(p.metric)}`);
  if (!(Number.isInteger(p.trials) && p.trials >= 0)) throw new Error(`search trials must be an integer >= 0`);
  if (!Number.isInteger(p.seed)) throw new Error(`search seed must be an integer`);
  return {
    space: parseSpace(p.space, `search space of ${p.variant}`),
    rungs: parseRungs(p.rungs, 'search rungs'),
    metric,
    trials: p.trials,
    seed: p.seed,
  };
}
