import type { JsonValue } from '../../stage-api.ts';

/** One successive-halving rung: train every trial that reached it up to `epochs` in all. */
export interface Rung {
  /** Cumulative budget in epochs; fractional values end mid-epoch. */
  epochs: number;
  /** How many trials continue to the next rung (all but the last rung). */
  promote?: number;
}

/** Reads the `rungs` param: increasing budgets, a promotion count on every rung but the last. */
export function parseRungs(value: JsonValue | undefined, where: string): Rung[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${where}: rungs must be a non-empty list`);
  return value.map((r, i) => {
    const at = `${where}[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${at}: expected {epochs, promote}`);
    const { epochs, promote } = r as Record<string, JsonValue>;
    if (typeof epochs !== 'number' || !(epochs > 0)) throw new Error(`${at}.epochs: must be a positive number`);
    const prev = i > 0 ? (value[i - 1] as Record<string, JsonValue>).epochs : 0;
    if (typeof prev === 'number' && !(epochs > prev)) throw new Error(`${at}.epochs: budgets must increase`);
    const last = i === value.length - 1;
    if (!last && !(typeof promote === 'number' && Number.isInteger(promote) && promote >= 1))
      throw new Error(`${at}.promote: a rung before the last promotes an integer >= 1 of its trials`);
    if (last && promote !== undefined) throw new Error(`${at}.promote: the last rung promotes nothing`);
    return last ? { epochs } : { epochs, promote: promote as number };
  });
}

/** A rung's budget in updates: fractional epochs are rounded to whole steps, at least one. */
export function rungSteps(rung: Rung, stepsPerEpoch: number): number {
  return Math.max(1, Math.round(rung.epochs * stepsPerEpoch));
}
