/** A trial's validation scores at one rung; null scores when it diverged. */
export interface TrialScore {
  trial: number;
  diverged: boolean;
  validation_accuracy: number | null;
  validation_loss: number | null;
  validation_macro_f1: number | null;
}

export const SEARCH_METRICS = ['validation_accuracy', 'validation_macro_f1'] as const;
export type SearchMetric = (typeof SEARCH_METRICS)[number];

/**
 * Trials that did not diverge, best first: higher `metric`, then lower validation loss (a
 * model that is as often right but more confident in it), then the lower trial number, so
 * equal scores always rank the same way.
 */
export function rankTrials<T extends TrialScore>(scores: readonly T[], metric: SearchMetric): T[] {
  return scores
    .filter((s) => !s.diverged && s[metric] !== null && Number.isFinite(s.validation_loss))
    .sort((a, b) => b[metric]! - a[metric]! || a.validation_loss! - b.validation_loss! || a.trial - b.trial);
}
