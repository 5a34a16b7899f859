import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import type { PipelineGraph } from '../graph/build.ts';
import { describeSource, resolveParams } from '../run/params-from.ts';
import type { Lockfile } from '../store/lockfile.ts';
import type { StoreReads } from '../store/store-reads.ts';
import { formatTable } from './table-text.ts';

export interface ParamChange {
  stage: string;
  param: string;
  old: unknown;
  new: unknown;
  /** For a `params_from` value whose source has no recorded result: where it will come from. */
  pending?: string;
}

function flatten(v: unknown, prefix: string, into: Map<string, unknown>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix === '' ? k : `${prefix}.${k}`, into);
  } else into.set(prefix, v);
}

/** A stage's params as they would run now, and the `params_from` params whose value is not known yet. */
interface CurrentParams {
  params: JsonObject;
  pending: Map<string, string>;
}

/**
 * What each stage's params are now: pipeline.yaml's, with every `params_from` value read from its
 * source's recorded result (lockfile.json, then the store), so a changed selection shows as a
 * changed param. A source with no recorded result leaves its params pending.
 */
async function currentParams(graph: PipelineGraph, lock: Lockfile, store: StoreReads | undefined) {
  const current = new Map<string, CurrentParams>();
  for (const name of graph.order) {
    const spec = graph.stages.get(name)!.spec;
    if (spec.paramsFrom === undefined) {
      current.set(name, { params: spec.params, pending: new Map() });
      continue;
    }
    const known = (s: string) => (store === undefined ? undefined : lock.stages[s]?.outputs);
    const r = await resolveParams(spec, known, (h) => store!.readJson(h));
    if (r.kind === 'resolved') current.set(name, { params: r.spec.params, pending: new Map() });
    else {
      const unknown = spec.paramsFrom.filter((p) => known(p.stage) === undefined);
      // A recorded source without the named output or key: shown as what the run would fail with.
      const why = (p: (typeof unknown)[number]) =>
        r.kind === 'failed' ? r.message : `from ${describeSource(p)}, not known until that stage runs`;
      const pending = new Map((unknown.length > 0 ? unknown : spec.paramsFrom).map((p) => [p.param, why(p)]));
      current.set(name, { params: spec.params, pending });
    }
  }
  return current;
}

function valueAt(params: JsonObject, path: string): JsonValue | undefined {
  let v: JsonValue | undefined = params;
  for (const seg of path.split('.')) {
    v = v !== null && typeof v === 'object' && !Array.isArray(v) ? v[seg] : undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/**
 * Params in pipeline.yaml that differ from what lockfile.json recorded (DVC's `params diff`); a
 * `params_from` param is compared by the value its source's recorded result holds now.
 */
export async function paramsDiff(
  graph: PipelineGraph,
  lock: Lockfile,
  store: StoreReads | undefined,
): Promise<ParamChange[]> {
  const changes: ParamChange[] = [];
  const current = await currentParams(graph, lock, store);
  for (const name of graph.order) {
    const { params, pending } = current.get(name)!;
    const recorded = lock.stages[name]?.params ?? {};
    const now = new Map<string, unknown>();
    const before = new Map<string, unknown>();
    flatten(params, '', now);
    flatten(recorded, '', before);
    const isPending = (key: string) => [...pending.keys()].some((p) => key === p || key.startsWith(`${p}.`));
    for (const key of [...new Set([...before.keys(), ...now.keys()])].sort()) {
      if (key === '' || isPending(key)) continue;
      const a = before.get(key);
      const b = now.get(key);
      if (canonicalJson(a) !== canonicalJson(b))
        changes.push({ stage: name, param: key, old: a ?? null, new: b ?? null });
    }
    for (const [param, why] of pending)
      changes.push({ stage: name, param, old: valueAt(recorded, param) ?? null, new: null, pending: why });
  }
  return changes;
}

export function renderParamsDiff(changes: ParamChange[]): string {
  if (changes.length === 0) return 'no params changed since the lockfile';
  return formatTable([
    ['stage', 'param', 'lockfile', 'pipeline.yaml'],
    ...changes.map((c) => [c.stage, c.param, canonicalJson(c.old), c.pending ?? canonicalJson(c.new)]),
  ]);
}
