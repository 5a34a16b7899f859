import { stratifiedSplit } from './split.ts';

/**
 * Which rows to keep so that every group is equally represented: each group is cut to the size
 * of the smallest by a seeded draw (the fairness analysis compares a model trained on the data
 * as it is with one trained on data balanced this way).
 */
export function balanceGroups(groups: readonly string[], seed: number): boolean[] {
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const smallest = Math.min(...sizes.values());
  const keep = groups.map(() => false);
  for (const [group, n] of sizes) {
    const members = groups.flatMap((g, i) => (g === group ? [i] : []));
    const picked = stratifiedSplit(
      members.map(() => group),
      { train: smallest / n, validation: 0, test: 1 - smallest / n },
      seed,
    );
    members.forEach((row, k) => (keep[row] = picked[k] === 'train'));
  }
  return keep;
}
