import type { JsonObject, JsonValue } from '../../stage-api.ts';
import type { OptimizerParams } from '../optimizer-params.ts';
import { haltonPoints } from './halton.ts';

/** One searched hyperparameter: an optimizer setting's range, sampled uniformly on its scale. */
export interface SearchRange {
  min: number;
  max: number;
  scale: 'log' | 'linear';
}

/** Optimizer setting name (`learning_rate`, `momentum`, ...) -> its range, in declared order. */
export type SearchSpace = Record<string, SearchRange>;

/** Reads a variant's `space` param, naming the offending field. */
export function parseSpace(value: JsonValue | undefined, where: string): SearchSpace {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${where}: a search space is a mapping of optimizer settings to {min, max, scale}`);
  const out: SearchSpace = {};
  for (const [name, r] of Object.entries(value)) {
    const at = `${where}.${name}`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${at}: expected {min, max, scale}`);
    const { min, max, scale } = r as JsonObject;
    for (const k of Object.keys(r))
      if (!['min', 'max', 'scale'].includes(k)) throw new Error(`${at}: unknown field "${k}"`);
    if (typeof min !== 'number' || typeof max !== 'number' || !(min < max))
      throw new Error(`${at}: min and max must be numbers with min < max`);
    if (scale !== 'log' && scale !== 'linear') throw new Error(`${at}.scale: must be log or linear`);
    if (scale === 'log' && !(min > 0)) throw new Error(`${at}: a log scale needs min > 0`);
    out[name] = { min, max, scale };
  }
  if (Object.keys(out).length === 0) throw new Error(`${where}: the search space is empty`);
  return out;
}

/** Position of `x` in its range, 0 at min and 1 at max, measured on the range's scale. */
export function toUnit(range: SearchRange, x: number): number {
  return range.scale === 'log'
    ? (Math.log(x) - Math.log(range.min)) / (Math.log(range.max) - Math.log(range.min))
    : (x - range.min) / (range.max - range.min);
}

/** The value at position `u` in [0, 1) of the range, on its scale, to 4 significant digits. */
export function fromUnit(range: SearchRange, u: number): number {
  const x =
    range.scale === 'log'
      ? Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)))
      : range.min + u * (range.max - range.min);
  // Four digits keep the tables and the fine-tunes' params readable; the rounding cannot leave
  // the range because min and max are clamped to.
  return Math.min(range.max, Math.max(range.min, Number(x.toPrecision(4))));
}

/**
 * Table 1's value of each searched setting; it must be declared and, when it is a trial
 * (`inSpace`), lie inside the range. Table 1's protocol (no trials) searches nothing, so there
 * the space only names the settings and the paper's values stand as declared.
 */
export function table1Values(
  space: SearchSpace,
  table1: OptimizerParams,
  where: string,
  inSpace = true,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, range] of Object.entries(space)) {
    const v = table1[name];
    if (typeof v !== 'number') throw new Error(`${where}: Table 1's optimizer has no numeric "${name}" to search`);
    if (inSpace && !(v >= range.min && v <= range.max))
      throw new Error(`${where}.${name}: Table 1's value ${v} lies outside [${range.min}, ${range.max}]`);
    out[name] = v;
  }
  return out;
}

/**
 * The values of every trial: trial 0 is Table 1's setting, so the paper's choice is always among
 * the candidates; trials 1.. are seeded Halton points mapped onto the ranges.
 */
export function trialValues(
  space: SearchSpace,
  trials: number,
  seed: number,
  table1: OptimizerParams,
  where: string,
): Record<string, number>[] {
  if (!(Number.isInteger(trials) && trials >= 0)) throw new Error(`${where}: trials must be an integer >= 0`);
  if (trials === 0) return [];
  const names = Object.keys(space);
  const points = haltonPoints(trials - 1, names.length, seed);
  return [
    table1Values(space, table1, where),
    ...points.map((p) => Object.fromEntries(names.map((n, d) => [n, fromUnit(space[n]!, p[d]!)]))),
  ];
}

/** Settings whose value lies in the outer 5 % of its range (on its scale): widen the range there. */
export function onEdge(space: SearchSpace, values: Record<string, number>): string[] {
  return Object.entries(space)
    .filter(([name, range]) => {
      const u = toUnit(range, values[name]!);
      return u < 0.05 || u > 0.95;
    })
    .map(([name]) => name);
}
