import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { PipelineGraph } from '../graph/build.ts';
import type { Lockfile } from '../store/lockfile.ts';
import { formatTable } from './table-text.ts';

export interface ParamChange {
  stage: string;
  param: string;
  old: unknown;
  new: unknown;
}

function flatten(v: unknown, prefix: string, into: Map<string, unknown>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix === '' ? k : `${prefix}.${k}`, into);
  } else into.set(prefix, v);
}

/** Params in pipeline.yaml that differ from what lockfile.json recorded (DVC's `params diff`). */
export function paramsDiff(graph: PipelineGraph, lock: Lockfile): ParamChange[] {
  const changes: ParamChange[] = [];
  for (const name of graph.order) {
    const now = new Map<string, unknown>();
    const before = new Map<string, unknown>();
    flatten(graph.stages.get(name)!.spec.params, '', now);
    flatten(lock.stages[name]?.params ?? {}, '', before);
    for (const key of [...new Set([...before.keys(), ...now.keys()])].sort()) {
      if (key === '') continue;
      const a = before.get(key);
      const b = now.get(key);
      if (canonicalJson(a) !== canonicalJson(b))
        changes.push({ stage: name, param: key, old: a ?? null, new: b ?? null });
    }
  }
  return changes;
}

export function renderParamsDiff(changes: ParamChange[]): string {
  if (changes.length === 0) return 'no params changed since the lockfile';
  return formatTable([
    ['stage', 'param', 'lockfile', 'pipeline.yaml'],
    ...changes.map((c) => [c.stage, c.param, canonicalJson(c.old), canonicalJson(c.new)]),
  ]);
}
