import type { UpstreamStage } from '../stage-api.ts';

export interface Run {
  arch: string;
  variant: string;
  seed: number;
  input: UpstreamStage;
}

/** The evaluate (or finetune) inputs of a stage, with the matrix item that says which run each is. */
export function runsOf(inputs: readonly UpstreamStage[], group: string): Run[] {
  return inputs
    .filter((i) => i.group === group)
    .map((input) => {
      const item = input.item ?? {};
      if (typeof item.arch !== 'string' || typeof item.variant !== 'string')
        throw new Error(`${input.name} has no arch/variant in its matrix item`);
      return { arch: item.arch, variant: item.variant, seed: Number(item.seed), input };
    });
}

/**
 * Whether a run's fine-tune diverged (a non-finite training loss). Such a run is an outcome of
 * its optimizer and learning rate, recorded with the step it happened at, but it has no model:
 * it is counted and listed, and left out of means and tests, which would otherwise average a
 * number that does not exist.
 */
export function diverged(run: Run): boolean {
  return run.input.metrics.diverged === 1;
}

/** Distinct values in first-seen order of a sorted list: a stable order for tables. */
export function distinct<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1), as the paper's "mean ± std over seeds" implies; 0 for one value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}
