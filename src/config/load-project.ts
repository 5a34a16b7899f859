import type { PipelineGraph } from '../graph/build.ts';
import { buildGraph } from '../graph/build.ts';
import { err, type Result } from '../result.ts';
import { expandStages } from './expand.ts';
import type { ConfigFailure } from './failure.ts';
import { loadPipelineFile } from './load.ts';

/** pipeline.yaml -> validated, expanded, resolved and ordered stages; or every problem found. */
export async function loadProject(root: string, file: string): Promise<Result<PipelineGraph, ConfigFailure[]>> {
  const loaded = await loadPipelineFile(file);
  if (!loaded.ok) return loaded;
  // zx's quoting is loaded only when some command interpolates a value, to keep no-op runs quick.
  const needsQuote = Object.values(loaded.value.yaml.stages).some((s) => JSON.stringify(s.cmd ?? '').includes('${'));
  const quote = needsQuote ? (await import('zx/core')).quote : (s: string) => s;
  const specs = expandStages(loaded.value, quote);
  if (!specs.ok) return err(specs.error);
  return buildGraph(specs.value, root, loaded.value.map);
}
