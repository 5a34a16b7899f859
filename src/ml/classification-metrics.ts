export interface ClassificationMetrics {
  accuracy: number;
  /**
   * Unweighted mean of per-class F1 (sklearn's `average="macro"`): over the given classes, or
   * else over the classes present in truth or prediction.
   */
  macroF1: number;
  /**
   * F1 of each averaged class taken as the positive one against the rest: a class's binary F1
   * (the spam class's, for the spam filter).
   */
  classF1: Record<string, number>;
}

/**
 * Accuracy and macro-averaged F1. A class with no true and no predicted instances does not
 * occur in the union and so does not count; a class with precision and recall both zero has
 * F1 = 0, as sklearn defines it (zero_division=0).
 */
export function classificationMetrics(
  truth: readonly string[],
  predicted: readonly string[],
  classes?: readonly string[],
): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new Error(`${truth.length} labels but ${predicted.length} predictions`);
  if (truth.length === 0) throw new Error('no examples to score');
  let correct = 0;
  // Given the model's classes, a prediction outside them (no label at all) is only an error for
  // its true class; it is not a class of its own that would drag the average down twice.
  const averaged = new Set(classes ?? [...truth, ...predicted]);
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (t === p) {
      correct++;
      tp.set(t, (tp.get(t) ?? 0) + 1);
    } else {
      fp.set(p, (fp.get(p) ?? 0) + 1);
      fn.set(t, (fn.get(t) ?? 0) + 1);
    }
  }
  let f1Sum = 0;
  const classF1: Record<string, number> = {};
  for (const c of averaged) {
    const a = tp.get(c) ?? 0;
    const denominator = 2 * a + (fp.get(c) ?? 0) + (fn.get(c) ?? 0);
    classF1[c] = denominator === 0 ? 0 : (2 * a) / denominator;
    f1Sum += classF1[c];
  }
  return { accuracy: correct / truth.length, macroF1: f1Sum / averaged.size, classF1 };
}
