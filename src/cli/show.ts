import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { PipelineGraph } from '../graph/build.ts';
import type { LockEntry } from '../store/lockfile.ts';
import { invocationDetails, recentRuns } from '../store/run-queries.ts';
import type { StoreReads } from '../store/store-reads.ts';

export interface StageDetails {
  name: string;
  kind: string;
  locked: LockEntry | null;
  runs: Array<Record<string, unknown>>;
}

/** A stage's recorded fingerprint fields, outputs and metrics, and its last runs from the store. */
export async function stageDetails(
  graph: PipelineGraph,
  name: string,
  entry: LockEntry | undefined,
  store: StoreReads | undefined,
): Promise<StageDetails> {
  const spec = graph.stages.get(name)!.spec;
  const runs = store === undefined ? [] : await recentRuns(store, name);
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
    for (const [param, o] of Object.entries(e.paramsFrom ?? {}))
      lines.push(`  param from   ${param} <- ${o.stage} json:${o.json}${o.key === undefined ? '' : ` key ${o.key}`}`);
    for (const [k, h] of Object.entries(e.deps)) lines.push(`  dep          ${k}  ${h.slice(0, 12)}`);
    for (const [k, h] of Object.entries(e.code)) lines.push(`  code         ${k}  ${h.slice(0, 12)}`);
    for (const [k, v] of Object.entries(e.packages)) lines.push(`  package      ${k}@${v}`);
    for (const [k, r] of Object.entries(e.outputs)) lines.push(`  output       ${k}  ${r.hash.slice(0, 12)}`);
    for (const [k, v] of Object.entries(e.metrics)) lines.push(`  metric       ${k} = ${v}`);
  }
  if (d.runs.length > 0) {
    lines.push('  last runs:');
    for (const r of d.runs) {
      lines.push(
        `    ${String(r.started)}  ${String(r.status).padEnd(6)}  ${String(r.seconds)}s  ${String(r.fingerprint)}  ${String(r.host)} node ${String(r.node)}${r.backend ? ` ${String(r.backend)}` : ''}${r.error ? `  error: ${String(r.error)}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

/** An invocation's provenance and the stage runs it made; `id` is a prefix of its id, or `last`. */
export function runDetails(
  store: StoreReads,
  id: string,
): Promise<{ invocation: Record<string, unknown>; runs: Array<Record<string, unknown>> } | undefined> {
  return invocationDetails(store, id);
}

export function renderRunDetails(d: {
  invocation: Record<string, unknown>;
  runs: Array<Record<string, unknown>>;
}): string {
  const lines = [`run ${String(d.invocation.invocation)}`];
  for (const [k, v] of Object.entries(d.invocation))
    if (k !== 'invocation') lines.push(`  ${k.padEnd(18)} ${v === null ? '-' : String(v)}`);
  lines.push(`  stages (${d.runs.length}):`);
  for (const r of d.runs) {
    const prov = r.provenance === '{}' || r.provenance === null ? '' : `  ${String(r.provenance)}`;
    lines.push(
      `    ${String(r.stage).padEnd(24)} ${String(r.status).padEnd(6)} ${String(r.seconds).padStart(8)}s  ${String(r.fingerprint)}${prov}${r.error ? `  error: ${String(r.error)}` : ''}`,
    );
  }
  return lines.join('\n');
}
