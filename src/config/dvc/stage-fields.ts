import { posix } from 'node:path';
import type { JsonObject, JsonValue } from '../../fingerprint/canonical-json.ts';
import type { StageSpec } from '../stage-spec.ts';
import { suggest } from '../suggest.ts';
import type { RenderedStage } from './expand-stages.ts';
import { RenderFailure } from './expand-stages.ts';
import { isMapping, pyStr, toPlain, type PyValue } from './py-value.ts';

/** The stage keys dvc.yaml allows (vars, foreach, do and matrix are consumed by expansion). */
const STAGE_FIELDS = [
  'cmd',
  'wdir',
  'deps',
  'params',
  'outs',
  'metrics',
  'plots',
  'frozen',
  'always_changed',
  'desc',
  'meta',
  'vars',
];

/** Reads a params file by project-relative path; undefined when it does not exist. */
export type ParamsLookup = (path: string) => PyValue | undefined;

function joinDir(dir: string, rel: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rel) || posix.isAbsolute(rel)) return rel;
  const j = posix.normalize(posix.join(dir, rel));
  return j === '.' ? '' : j.replace(/\/$/, '');
}

/** dpath-style lookup of `a.b.c` in a params file's data. */
function lookupKey(data: PyValue, key: string): { found: boolean; value: PyValue } {
  if (isMapping(data) && Object.hasOwn(data, key)) return { found: true, value: data[key] as PyValue };
  let v: PyValue = data;
  for (const part of key.split('.')) {
    if (isMapping(v) && Object.hasOwn(v, part)) v = v[part] as PyValue;
    else if (Array.isArray(v) && /^\d+$/.test(part) && Number(part) < v.length) v = v[Number(part)] as PyValue;
    else return { found: false, value: null };
  }
  return { found: true, value: v };
}

/**
 * A rendered dvc.yaml stage as a StageSpec. Paths are made project-relative through the stage's
 * wdir; params are looked up key by key, so the fingerprint holds only the values the stage
 * tracks (another key of the same file changing reruns nothing).
 */
export function toStageSpec(file: string, fileDir: string, stage: RenderedStage, readParams: ParamsLookup): StageSpec {
  const f = stage.fields;
  const prefix = fileDir === '' ? '' : `${file}:`;
  const at = (field: string | number, ...more: Array<string | number>) => [...stage.yamlPath, field, ...more];
  for (const key of Object.keys(f)) {
    if (!STAGE_FIELDS.includes(key)) {
      const near = suggest(key, STAGE_FIELDS);
      throw new RenderFailure(
        `unknown key "${key}" in stage "${stage.name}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
        at(key),
      );
    }
  }
  const cmdValue = f.cmd;
  if (cmdValue === undefined || cmdValue === null)
    throw new RenderFailure(`stage "${stage.name}" has no cmd`, stage.yamlPath);
  const cmd = Array.isArray(cmdValue) ? cmdValue.map((c) => pyStr(c)) : [pyStr(cmdValue)];

  const list = (field: string): PyValue[] => {
    const v = f[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new RenderFailure(`stage "${stage.name}": ${field} must be a list`, at(field));
    return v;
  };

  const deps = list('deps').map((d, i) => {
    if (typeof d !== 'string' || d === '')
      throw new RenderFailure(`stage "${stage.name}": deps[${i}] must be a path`, at('deps', i));
    return joinDir(stage.wdir, d);
  });

  const params: JsonObject = {};
  const missingParams: string[] = [];
  const track = (fileRel: string, keys: string[] | null): void => {
    const path = joinDir(stage.wdir, fileRel);
    const data = readParams(path);
    const into = (params[path] ?? {}) as JsonObject;
    params[path] = into;
    if (data === undefined) {
      missingParams.push(keys === null ? path : `${path}: ${keys.join(', ')}`);
      return;
    }
    if (keys === null) {
      if (isMapping(data)) for (const [k, v] of Object.entries(data)) into[k] = toPlain(v) as JsonValue;
      return;
    }
    for (const k of keys) {
      const { found, value } = lookupKey(data, k);
      if (found) into[k] = toPlain(value) as JsonValue;
      else missingParams.push(`${path}: ${k}`);
    }
  };
  list('params').forEach((p, i) => {
    if (typeof p === 'string') track('params.yaml', [p]);
    else if (isMapping(p)) {
      for (const [pf, keys] of Object.entries(p)) {
        if (keys === null || (Array.isArray(keys) && keys.length === 0)) track(pf, null);
        else if (Array.isArray(keys))
          track(
            pf,
            keys.map((k) => pyStr(k)),
          );
        else
          throw new RenderFailure(`stage "${stage.name}": params[${i}].${pf} must be a list of keys`, at('params', i));
      }
    } else
      throw new RenderFailure(
        `stage "${stage.name}": params[${i}] must be a key or a map of file to keys`,
        at('params', i),
      );
  });

  const outs: string[] = [];
  const metrics: string[] = [];
  const persist: string[] = [];
  const outFlags: Record<string, JsonObject> = {};
  const outKinds: Record<string, 'outs' | 'metrics' | 'plots'> = {};
  for (const field of ['outs', 'metrics', 'plots'] as const) {
    list(field).forEach((o, i) => {
      let path: string;
      let flags: JsonObject = {};
      if (typeof o === 'string') path = o;
      else if (isMapping(o) && Object.keys(o).length === 1) {
        const [k, v] = Object.entries(o)[0] as [string, PyValue];
        path = k;
        if (v !== null && !isMapping(v))
          throw new RenderFailure(`stage "${stage.name}": ${field}[${i}] flags must be a map`, at(field, i));
        // Recorded as declared (cache, persist, push, remote, checkpoint, plot properties, ...); only persist
        // changes how the stage runs here, the rest concern DVC remotes and plots.
        flags = (toPlain(v ?? {}) as JsonObject) ?? {};
      } else
        throw new RenderFailure(
          `stage "${stage.name}": ${field}[${i}] must be a path or a map of one path to its flags`,
          at(field, i),
        );
      const rel = joinDir(stage.wdir, path);
      outFlags[rel] = flags;
      outKinds[rel] = field;
      if (flags.persist === true) persist.push(rel);
      // Our metrics are JSON read into the store; a DVC metrics file in another format is kept as a plain out.
      if (field === 'metrics' && rel.endsWith('.json')) metrics.push(rel);
      else outs.push(rel);
    });
  }

  const desc = f.desc;
  return {
    name: `${prefix}${stage.name}`,
    group: `${prefix}${stage.group}`,
    kind: 'cmd',
    cmd,
    uses: undefined,
    deps,
    params,
    outs,
    metrics,
    item: stage.item === undefined ? undefined : { item: toPlain(stage.item) as JsonValue },
    alwaysChanged: f.always_changed === true,
    timeoutMs: undefined,
    desc: typeof desc === 'string' ? desc : undefined,
    yamlPath: [file, ...stage.yamlPath],
    ...(stage.wdir === '' ? {} : { cwd: stage.wdir }),
    ...(persist.length === 0 ? {} : { persist }),
    dvc: {
      file,
      localName: stage.name,
      frozen: f.frozen === true,
      outFlags,
      outKinds,
      ...(f.meta === undefined ? {} : { meta: toPlain(f.meta) as JsonValue }),
      missingParams,
    },
  };
}
