import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { PipelineGraph } from '../graph/build.ts';
import type { LockEntry } from '../store/lockfile.ts';
import { ArtifactStore } from '../store/store.ts';

export interface StageDetails {
  name: string;
  kind: string;
  locked: LockEntry | null;
  runs: Array<Record<string, unknown>>;
}

/** A stage's recorded fingerprint fields, outputs and metrics, and its last runs from the store. */
export async function stageDetails(graph: PipelineGraph, name: string, entry: LockEntry | undefined, storePath: string, storeExists: boolean): Promise<StageDetails> {
  const spec = graph.stages.get(name)!.spec;
  let runs: Array<Record<string, unknown>> = [];
  if (storeExists) {
    const store = await ArtifactStore.open(storePath);
    try {
      runs = await store.query(
        `SELECT strftime(started, '%Y-%m-%d %H:%M:%S') AS started, status, cache_hit, round(seconds, 2) AS seconds, left(fingerprint, 12) AS fingerprint, host, node, backend, error
         FROM runs WHERE stage = $s ORDER BY started DESC LIMIT 10`,
        { s: name },
      );
    } finally {
      await store.close();
    }
  }
  return { name, kind: spec.kind, locked: entry ?? null, runs };
}

export function renderStageDetails(d: StageDetails): string {
  const lines = [`stage ${d.name} (${d.kind})`];
  const e = d.locked;
  if (e === null) lines.push('  not run yet (no lockfile entry)');
  else {
    lines.push(`  fingerprint  ${e.fingerprint}`);
    if (e.cmd !== null) lines.push(...e.cmd.map((c) => `  cmd          ${c}`));
    if (e.uses !== null) lines.push(`  uses         ${e.uses}`);
    lines.push(`  params       ${canonicalJson(e.params)}`);
    for (const [k, h] of Object.entries(e.deps)) lines.push(`  dep          ${k}  ${h.slice(0, 12)}`);
    for (const [k, h] of Object.entries(e.code)) lines.push(`  code         ${k}  ${h.slice(0, 12)}`);
    for (const [k, v] of Object.entries(e.packages)) lines.push(`  package      ${k}@${v}`);
    for (const [k, r] of Object.entries(e.outputs)) lines.push(`  output       ${k}  ${r.hash.slice(0, 12)}`);
    for (const [k, v] of Object.entries(e.metrics)) lines.push(`  metric       ${k} = ${v}`);
  }
  if (d.runs.length > 0) {
    lines.push('  last runs:');
    for (const r of d.runs) {
      lines.push(`    ${String(r.started)}  ${String(r.status).padEnd(6)}  ${String(r.seconds)}s  ${String(r.fingerprint)}  ${String(r.host)} node ${String(r.node)}${r.backend ? ` ${String(r.backend)}` : ''}${r.error ? `  error: ${String(r.error)}` : ''}`);
    }
  }
  return lines.join('\n');
}
