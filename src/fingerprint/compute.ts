import { UserError } from '../errors.ts';
import type { PipelineGraph } from '../graph/build.ts';
import type { FileHasher } from './file-hasher.ts';
import { ENGINE_VERSION, stageDepHash, type FingerprintRecord } from './fingerprint.ts';
import type { OutputSetHash } from './hash-types.ts';
import type { ModuleGraph } from './module-graph.ts';

/**
 * Builds a stage's fingerprint record. `upstream` gives the output-set hash of each upstream
 * stage, known only once that stage is done, which is why fingerprints are computed as the run
 * proceeds rather than all up front.
 */
export async function computeFingerprintRecord(
  graph: PipelineGraph,
  name: string,
  upstream: ReadonlyMap<string, OutputSetHash>,
  hasher: FileHasher,
  modules: ModuleGraph,
): Promise<FingerprintRecord> {
  const node = graph.stages.get(name);
  if (node === undefined) throw new Error(`unknown stage ${name}`);
  const { spec } = node;
  if (spec.dvc !== undefined && spec.dvc.missingParams.length > 0) {
    throw new Error(`stage ${name}: params missing: ${spec.dvc.missingParams.join('; ')}`);
  }
  const deps: Record<string, string> = {};
  for (const d of node.deps) {
    if (d.kind === 'stage') {
      const h = upstream.get(d.stage);
      const up = graph.stages.get(d.stage)?.spec;
      if (h === undefined || up === undefined) throw new UserError(`stage ${name}: upstream ${d.stage} has no result`);
      deps[d.stage] = stageDepHash(h, up.params, up.item);
    } else {
      const h = await hasher.hash(d.path);
      if (h === undefined) throw new UserError(`stage ${name}: dependency ${d.path} does not exist`);
      deps[d.path] = h;
    }
  }
  const closure = spec.uses === undefined ? { files: {}, packages: {} } : await modules.closure(spec.uses);
  return {
    engine: ENGINE_VERSION,
    kind: spec.kind,
    cmd: spec.kind === 'cmd' ? spec.cmd : null,
    uses: spec.uses ?? null,
    params: spec.params,
    deps,
    code: closure.files,
    packages: closure.packages,
    outs: spec.outs,
    metric_files: spec.metrics,
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
  };
}
