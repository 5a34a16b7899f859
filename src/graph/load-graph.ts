import { loadStageSpecs, type LoadOptions } from '../config/load-project.ts';
import type { ConfigFailure } from '../config/failure.ts';
import type { Location } from '../config/diagnostic.ts';
import type { Result } from '../result.ts';
import { buildGraph, type PipelineGraph } from './build.ts';

/**
 * pipeline.yaml -> the stage graph: the config layer yields the stage specs, this builds the
 * graph on them. A graph error after a cached expansion (a deleted input file, say) has no
 * parsed file to point into, so the file is parsed then, only to locate the error.
 */
export async function loadGraph(
  root: string,
  file: string,
  o: LoadOptions = {},
): Promise<Result<PipelineGraph, ConfigFailure[]>> {
  const loaded = await loadStageSpecs(root, file, o);
  if (!loaded.ok) return loaded;
  const { specs, executor } = loaded.value;
  const nowhere: Location = { file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
  const graph = buildGraph(specs, root, { locate: () => nowhere }, executor);
  if (graph.ok) return graph;
  const map = await loaded.value.locator();
  return map.ok ? buildGraph(specs, root, map.value, executor) : map;
}
