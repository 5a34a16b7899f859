import { posix } from 'node:path';
import { isMapOrSeq, isMapping, type PyValue } from './py-value.ts';
import { pyStr } from './py-value.ts';
import { renderString, renderValue } from './render.ts';
import { TemplateError, VarsContext, type PyMap } from './vars-context.ts';

/** One stage of a dvc.yaml after foreach/matrix expansion and `${...}` rendering. */
export interface RenderedStage {
  /** As DVC names it inside its file: `train`, `train@3`, `train@adam-0.1`. */
  name: string;
  group: string;
  fields: PyMap;
  /** Project-relative POSIX folder the stage runs in ('' for the root). */
  wdir: string;
  /** Where the definition is in its dvc.yaml (the `do:` block for foreach). */
  yamlPath: Array<string | number>;
  item: PyValue | undefined;
}

/** A refusal located at a field of a definition. */
export class RenderFailure extends Error {
  constructor(
    message: string,
    readonly yamlPath: Array<string | number>,
  ) {
    super(message);
  }
}

/** Reads a params/vars file by project-relative path; throws TemplateError when it cannot. */
export type ParamsReader = (path: string) => PyValue;

export interface DvcFileInput {
  /** Project-relative folder of the dvc.yaml ('' for the root). */
  dir: string;
  data: PyMap;
  /** Whether `dir/params.yaml` exists (it is loaded first when it does). */
  hasDefaultParams: boolean;
  read: ParamsReader;
}

function joinDir(dir: string, rel: string): string {
  const j = posix.normalize(posix.join(dir, rel));
  return j === '.' ? '' : j.replace(/\/$/, '');
}

/** Loads `vars` entries (file paths, `file:k1,k2`, inline maps) into ctx, relative to `dir`. */
function loadVars(ctx: VarsContext, vars: PyValue, dir: string, read: ParamsReader, stage: string | undefined): void {
  if (vars === null || vars === undefined) return;
  if (!Array.isArray(vars)) throw new TemplateError('vars must be a list');
  vars.forEach((entry, i) => {
    if (typeof entry === 'string') {
      if (entry.includes('${')) throw new TemplateError('interpolating is not allowed in vars');
      const colon = entry.indexOf(':');
      const file = colon === -1 ? entry : entry.slice(0, colon);
      const keys =
        colon === -1
          ? null
          : entry
              .slice(colon + 1)
              .split(',')
              .filter((k) => k !== '');
      const path = joinDir(dir, file);
      ctx.mergeFile(path, keys === null || keys.length === 0 ? null : keys, read(path));
    } else if (isMapping(entry)) {
      ctx.mergeInline(entry, `${stage === undefined ? '' : `${stage}.`}vars[${i}]`);
    } else {
      throw new TemplateError(`vars[${i}] must be a file name or a map`);
    }
  });
}

/** The root context of a dvc.yaml: its folder's params.yaml, then its top-level `vars`. */
export function fileContext(input: DvcFileInput): VarsContext {
  const ctx = VarsContext.empty();
  if (input.hasDefaultParams) {
    const path = joinDir(input.dir, 'params.yaml');
    ctx.mergeFile(path, null, input.read(path));
  }
  loadVars(ctx, input.data.vars ?? null, input.dir, input.read, undefined);
  return ctx;
}

/** Renders one stage body (an entry, or a foreach/matrix template) in `ctx`. */
/** Runs `f`, turning a template error into a failure located at the stage's `field`. */
function inField(stage: string, field: string, path: Array<string | number>, f: () => PyValue): PyValue {
  try {
    return f();
  } catch (e) {
    if (e instanceof TemplateError)
      throw new RenderFailure(`stage "${stage}" ${field}: ${e.message}`, [...path, field]);
    throw e;
  }
}

function renderEntry(
  input: DvcFileInput,
  ctx: VarsContext,
  name: string,
  group: string,
  body: PyMap,
  yamlPath: Array<string | number>,
  item: PyValue | undefined,
): RenderedStage {
  const at = (field: string, f: () => PyValue): PyValue => inField(name, field, yamlPath, f);
  let wdir = input.dir;
  if (body.wdir !== undefined && body.wdir !== null && body.wdir !== '') {
    const raw = body.wdir;
    const w = at('wdir', () => (typeof raw === 'string' ? renderString(raw, ctx, undefined) : raw));
    wdir = joinDir(input.dir, pyStr(w));
  }
  let local = ctx;
  if (body.vars !== undefined) {
    const vars = body.vars;
    at('vars', () => {
      local = ctx.clone();
      loadVars(local, vars, wdir, input.read, name);
      return null;
    });
  }
  const fields: PyMap = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'vars') continue;
    fields[key] = at(key, () => renderValue(value, local, key));
  }
  return { name, group, fields, wdir, yamlPath, item };
}

/**
 * Every stage of one dvc.yaml, in DVC's order and with DVC's names: foreach over a list of
 * scalars names by value, over a list holding lists or maps by index, over a map by key; matrix
 * joins one fragment per axis with `-`, a scalar by its text and a list or map as axis+index.
 */
export function expandDvcFile(input: DvcFileInput): RenderedStage[] {
  let ctx: VarsContext;
  try {
    ctx = fileContext(input);
  } catch (e) {
    if (e instanceof TemplateError) throw new RenderFailure(`vars: ${e.message}`, ['vars']);
    throw e;
  }
  const stages = input.data.stages ?? {};
  if (!isMapping(stages)) throw new RenderFailure('stages must be a map of stage names to definitions', ['stages']);
  const out: RenderedStage[] = [];
  for (const [group, def] of Object.entries(stages)) {
    const path = ['stages', group];
    if (!isMapping(def)) throw new RenderFailure(`stage "${group}" must be a map`, path);
    if (def.matrix !== undefined) {
      out.push(...expandMatrix({ input, ctx, group, def, path }));
    } else if (def.foreach !== undefined) {
      out.push(...expandForeach({ input, ctx, group, def, path }));
    } else {
      out.push(renderEntry(input, ctx, group, group, def, path, undefined));
    }
  }
  return out;
}

/** One stage as dvc.yaml declares it, with what its names and values are rendered against. */
interface StageDeclaration {
  input: DvcFileInput;
  ctx: VarsContext;
  group: string;
  def: PyMap;
  path: Array<string | number>;
}

function expandForeach({ input, ctx, group, def, path }: StageDeclaration): RenderedStage[] {
  const body = def.do;
  if (!isMapping(body)) throw new RenderFailure(`stage "${group}": foreach needs a \`do:\` map`, path);
  const data = inField(group, 'foreach', path, () => renderValue(def.foreach ?? null, ctx, undefined));
  if (!isMapOrSeq(data))
    throw new RenderFailure(`stage "${group}" foreach: expected list/dictionary, got ${pyTypeName(data)}`, [
      ...path,
      'foreach',
    ]);
  const entries = new Map<string, PyValue>();
  const byKey = isMapping(data);
  if (isMapping(data)) for (const [k, v] of Object.entries(data)) entries.set(k, v);
  else if (Array.isArray(data) && data.some(isMapOrSeq)) data.forEach((v, i) => entries.set(String(i), v));
  else if (Array.isArray(data)) for (const v of data) entries.set(pyStr(v), v);
  const out: RenderedStage[] = [];
  for (const [key, item] of entries) {
    const name = `${group}@${key}`;
    const iter = ctx.withIteration(byKey ? { item, key } : { item });
    out.push(renderEntry(input, iter, name, group, body, [...path, 'do'], item));
  }
  return out;
}

function expandMatrix({ input, ctx, group, def, path }: StageDeclaration): RenderedStage[] {
  const data = inField(group, 'matrix', path, () => renderValue(def.matrix ?? null, ctx, undefined));
  if (!isMapping(data))
    throw new RenderFailure(`stage "${group}" matrix: expected a map of axis names to lists`, [...path, 'matrix']);
  const axes = Object.entries(data).map(([axis, values]) => {
    if (!Array.isArray(values))
      throw new RenderFailure(`stage "${group}" matrix: axis "${axis}" must be a list`, [...path, 'matrix', axis]);
    return { axis, values };
  });
  const body: PyMap = { ...def };
  delete body.matrix;
  const combos: Array<{ fragments: string[]; item: PyMap }> = [{ fragments: [], item: {} }];
  for (const { axis, values } of axes) {
    const next: typeof combos = [];
    for (const c of combos) {
      values.forEach((v, i) =>
        next.push({
          fragments: [...c.fragments, isMapOrSeq(v) ? `${axis}${i}` : pyStr(v)],
          item: { ...c.item, [axis]: v },
        }),
      );
    }
    combos.splice(0, combos.length, ...next);
  }
  const seen = new Map<string, PyMap>();
  for (const c of combos) seen.set(c.fragments.join('-'), c.item);
  const out: RenderedStage[] = [];
  for (const [key, item] of seen) {
    const iter = ctx.withIteration({ key, item });
    out.push(renderEntry(input, iter, `${group}@${key}`, group, body, path, item));
  }
  return out;
}

function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return 'int';
  return 'float';
}
