import type { ScheduleConfig } from './config.ts';

/**
 * The learning rate for update number `step` (1-based) of `totalSteps`. Pure arithmetic, so the
 * curve can be tabulated and plotted without training.
 */
export function learningRateAt(
  baseLearningRate: number,
  schedule: ScheduleConfig | undefined,
  step: number,
  totalSteps: number,
): number {
  if (!(step >= 1)) throw new Error(`steps count from 1, got ${step}`);
  const s = schedule ?? { kind: 'constant' };
  const warmup = s.warmupSteps ?? 0;
  if (warmup > 0 && step <= warmup) return (baseLearningRate * step) / warmup;
  switch (s.kind) {
    case 'constant':
      return baseLearningRate;
    case 'linear':
    case 'cosine': {
      const floor = baseLearningRate * (s.minRatio ?? 0);
      const span = Math.max(1, totalSteps - warmup);
      const progress = Math.min(1, (step - warmup) / span);
      const shape = s.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
      return floor + (baseLearningRate - floor) * shape;
    }
    case 'cyclical': {
      if (!(s.halfCycleSteps >= 1))
        throw new Error(`cyclical schedule needs halfCycleSteps >= 1, got ${s.halfCycleSteps}`);
      // Position within the current cycle measured from the end of warm-up; the rate starts
      // at the base, peaks after halfCycleSteps, and is back at the base after a full cycle.
      const t = step - warmup - 1;
      const x = Math.abs(((t / s.halfCycleSteps) % 2) - 1);
      return baseLearningRate + (s.maxLearningRate - baseLearningRate) * (1 - x);
    }
  }
}
