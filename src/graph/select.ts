import type { ConfigFailure } from '../config/failure.ts';
import { suggest } from '../config/suggest.ts';
import { err, ok, type Result } from '../result.ts';
import type { PipelineGraph } from './build.ts';

/**
 * The stages a command acts on, in run order: all of them without targets; otherwise each
 * target (a stage, an expanded `name@...` or a matrix name) with everything upstream of it, or,
 * with `downstream`, the targets and everything that depends on them (as DVC's --downstream).
 */
export function selectStages(
  graph: PipelineGraph,
  targets: string[],
  opts: { downstream?: boolean } = {},
): Result<string[], ConfigFailure[]> {
  if (targets.length === 0) return ok(graph.order);
  const failures: ConfigFailure[] = [];
  const roots: string[] = [];
  for (const t of targets) {
    const names = graph.stages.has(t) ? [t] : graph.groups.get(t);
    if (names === undefined) {
      const near = suggest(t, [...graph.stages.keys(), ...graph.groups.keys()]);
      failures.push({
        reason: 'unknown-target',
        target: t,
        diagnostic: { message: `no stage named "${t}"${near === undefined ? '' : ` (did you mean "${near}"?)`}` },
      });
    } else roots.push(...names);
  }
  if (failures.length > 0) return err(failures);
  const chosen = new Set<string>();
  const edges = (n: string): string[] =>
    (opts.downstream ? graph.downstream.get(n) : graph.stages.get(n)?.upstream) ?? [];
  const walk = (n: string): void => {
    if (chosen.has(n)) return;
    chosen.add(n);
    for (const m of edges(n)) walk(m);
  };
  roots.forEach(walk);
  return ok(graph.order.filter((n) => chosen.has(n)));
}
