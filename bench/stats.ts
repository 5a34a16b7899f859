/**
 * Time per call of tukeyHsd (which dominates: each pair needs a studentized
 * range p-value, a double integral, plus one quantile for the intervals).
 *
 *   node --import tsx bench/stats.ts
 */
import os from 'node:os';

import { oneWayAnova, tukeyHsd } from '../src/stats/index.ts';

/** Deterministic pseudo-normal data (xorshift + Box-Muller), so runs are comparable. */
function makeGroups(k: number, n: number, seed: number): number[][] {
  let state = seed >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return Array.from({ length: k }, (_, g) => Array.from({ length: n }, () => 10 + 0.3 * g + normal()));
}

function timePerCall(fn: () => unknown, minMs = 1500): { ms: number; calls: number } {
  fn(); // warm up (JIT, and the studentized range's one-off lattice)
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs || calls < 5) {
    fn();
    calls += 1;
    elapsed = performance.now() - start;
  }
  return { ms: elapsed / calls, calls };
}

console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical CPUs), node ${process.version}, ${os.platform()} ${os.arch()}`,
);
for (const [k, n] of [
  [5, 5],
  [8, 100],
] as const) {
  const groups = makeGroups(k, n, 12345 + k * n);
  const tukey = timePerCall(() => tukeyHsd(groups));
  const anova = timePerCall(() => oneWayAnova(groups), 300);
  console.log(
    `${k} groups of ${n}: tukeyHsd ${tukey.ms.toFixed(2)} ms/call (${tukey.calls} calls), ` +
      `oneWayAnova ${(anova.ms * 1000).toFixed(1)} us/call`,
  );
}
