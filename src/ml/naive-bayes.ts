/**
 * Multinomial naive Bayes over word counts with Lidstone smoothing (`alpha` = 1 is Laplace).
 * The study's baseline: a model with no optimizer, against which fine-tuned models are judged.
 */
export class NaiveBayes {
  private readonly logPrior = new Map<string, number>();
  private readonly logLikelihood = new Map<string, Map<string, number>>();
  private readonly logUnseen = new Map<string, number>();

  constructor(readonly alpha: number) {
    if (!(alpha > 0)) throw new Error(`alpha must be positive, got ${alpha}`);
  }

  fit(documents: readonly string[][], labels: readonly string[]): this {
    const vocabulary = new Set<string>();
    const counts = new Map<string, Map<string, number>>();
    const totals = new Map<string, number>();
    const docsPerClass = new Map<string, number>();
    documents.forEach((doc, i) => {
      const label = labels[i]!;
      docsPerClass.set(label, (docsPerClass.get(label) ?? 0) + 1);
      const c = counts.get(label) ?? new Map<string, number>();
      counts.set(label, c);
      for (const w of doc) {
        vocabulary.add(w);
        c.set(w, (c.get(w) ?? 0) + 1);
        totals.set(label, (totals.get(label) ?? 0) + 1);
      }
    });
    const v = vocabulary.size;
    // Classes in sorted order so that ties in `predict` break the same way on every run.
    for (const label of [...docsPerClass.keys()].sort()) {
      this.logPrior.set(label, Math.log(docsPerClass.get(label)! / documents.length));
      const denominator = (totals.get(label) ?? 0) + this.alpha * v;
      const ll = new Map<string, number>();
      for (const [w, n] of counts.get(label)!) ll.set(w, Math.log((n + this.alpha) / denominator));
      this.logLikelihood.set(label, ll);
      this.logUnseen.set(label, Math.log(this.alpha / denominator));
    }
    return this;
  }

  predict(doc: readonly string[]): string {
    let best = '';
    let bestScore = -Infinity;
    for (const [label, prior] of this.logPrior) {
      const ll = this.logLikelihood.get(label)!;
      const unseen = this.logUnseen.get(label)!;
      let score = prior;
      for (const w of doc) score += ll.get(w) ?? unseen;
      if (score > bestScore) {
        bestScore = score;
        best = label;
      }
    }
    return best;
  }
}
