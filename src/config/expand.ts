import { basename } from 'node:path';
import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigFailure } from './failure.ts';
import { interpolate, resolveDefinitions, type DefinitionError, type Scope } from './interpolate.ts';
import type { LoadedPipeline } from './load.ts';
import {
  durationMs,
  MAX_MATRIX_STAGES,
  resolvedResourcesSchema,
  resourceExpectation,
  type Resources,
  type StageYaml,
} from './schema.ts';
import type { YamlPath } from './source-map.ts';
import type { ParamSource, StageSpec } from './stage-spec.ts';

type Scalar = string | number | boolean;

/**
 * Turns declarations into runnable stages: expands each `matrix:` into one stage per
 * combination (named `name@v1-v2`, as DVC does) and resolves `${...}` in params, deps, outs,
 * uses and cmd. `shellQuote` is applied to every value interpolated into a command.
 */
export function expandStages(
  loaded: LoadedPipeline,
  shellQuote: (s: string) => string,
): Result<StageSpec[], ConfigFailure[]> {
  const failures: ConfigFailure[] = [];
  const specs: StageSpec[] = [];
  const seen = new Set<string>();
  const fail = (f: ConfigFailure): void => void failures.push(f);
  const at = (path: YamlPath, key = false) => loaded.map.locate(path, { key });
  // Vars may refer to vars; resolved once, up front, so a cycle is one error and not one per use.
  const resolvedVars = resolveDefinitions(loaded.yaml.vars ?? {}, {}, 'vars');
  if (!resolvedVars.ok) {
    const e = resolvedVars.error;
    const locator = loaded.varSources?.[e.definition] ?? loaded.map;
    const hint =
      e.chain === undefined && e.variable.split('.')[0] === 'item'
        ? ' (a var cannot use ${item.*}: matrix items exist only inside a stage)'
        : '';
    return err([definitionFailure(e, hint, locator.locate(['vars', e.definition]))]);
  }
  const vars = resolvedVars.value as Scope;

  for (const [group, decl] of Object.entries(loaded.yaml.stages)) {
    const base: YamlPath = ['stages', group];
    if ((decl.cmd === undefined) === (decl.uses === undefined)) {
      fail({
        reason: 'invalid-value',
        diagnostic: { message: `stage "${group}" must have exactly one of "cmd" or "uses"`, location: at(base, true) },
      });
      continue;
    }
    const combos = matrixCombinations(decl, vars, base, at);
    if (!combos.ok) {
      failures.push(...combos.error);
      continue;
    }
    for (const item of combos.value) {
      const name = item === undefined ? group : `${group}@${Object.values(item).map(String).join('-')}`;
      if (item !== undefined && /[\s/\\]/.test(name)) {
        fail({
          reason: 'invalid-value',
          diagnostic: {
            message: `matrix of "${group}" gives the stage name "${name}", which has a space or slash`,
            location: at([...base, 'matrix']),
          },
        });
        continue;
      }
      if (seen.has(name)) {
        fail({
          reason: 'duplicate-stage',
          stage: name,
          diagnostic: {
            // Declared names cannot contain "@", so only two expansions of one matrix can collide.
            message: `matrix of "${group}" gives two stages named "${name}": make the matrix values distinct`,
            location: at(item === undefined ? base : [...base, 'matrix'], item === undefined),
          },
        });
        continue;
      }
      seen.add(name);
      const spec = resolveStage({ group, name, decl, vars, item, base, at, shellQuote });
      if (spec.ok) specs.push(spec.value);
      else failures.push(...spec.error);
    }
  }
  return failures.length > 0 ? err(failures) : ok(specs);
}

function matrixCombinations(
  decl: StageYaml,
  vars: Scope,
  base: YamlPath,
  at: (p: YamlPath, key?: boolean) => ReturnType<LoadedPipeline['map']['locate']>,
): Result<Array<Record<string, Scalar> | undefined>, ConfigFailure[]> {
  if (decl.matrix === undefined) return ok([undefined]);
  const axes: Array<[string, Scalar[]]> = [];
  let size = 1;
  for (const [axis, raw] of Object.entries(decl.matrix)) {
    const path = [...base, 'matrix', axis];
    const r = interpolate(raw, vars);
    if (!r.ok) return err([undefinedVar(r.error.variable, r.error.message, at(path))]);
    const values = r.value;
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => v === null || typeof v === 'object')) {
      return err([
        {
          reason: 'invalid-value',
          diagnostic: { message: `matrix axis "${axis}" must be a non-empty list of scalars`, location: at(path) },
        },
      ]);
    }
    axes.push([axis, values as Scalar[]]);
    size *= values.length;
  }
  // Counted before expanding, so a runaway matrix is an error and not an out-of-memory crash.
  if (size > MAX_MATRIX_STAGES) {
    return err([
      {
        reason: 'invalid-value',
        diagnostic: {
          message: `matrix would expand to ${size} stages (the limit is ${MAX_MATRIX_STAGES})`,
          location: at([...base, 'matrix'], true),
        },
      },
    ]);
  }
  let combos: Array<Record<string, Scalar>> = [{}];
  for (const [axis, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })));
  return ok(combos);
}

interface StageDeclaration {
  group: string;
  name: string;
  decl: StageYaml;
  vars: Scope;
  item: Record<string, Scalar> | undefined;
  base: YamlPath;
  at: (p: YamlPath, key?: boolean) => ReturnType<LoadedPipeline['map']['locate']>;
  shellQuote: (s: string) => string;
}

function resolveStage({
  group,
  name,
  decl,
  vars,
  item,
  base,
  at,
  shellQuote,
}: StageDeclaration): Result<StageSpec, ConfigFailure[]> {
  const failures: ConfigFailure[] = [];
  const paramScope: Scope = item === undefined ? vars : { ...vars, item };
  // A param may use vars, the matrix item, and the stage's other params (vars first).
  const p = resolveDefinitions(decl.params ?? {}, paramScope, `params of stage "${name}"`);
  if (!p.ok) return err([definitionFailure(p.error, '', at([...base, 'params', p.error.definition]))]);
  const params = p.value as JsonObject;
  const scope: Scope = { ...vars, ...params, ...(item === undefined ? {} : { item }) };

  const strings = (field: 'deps' | 'outs' | 'metrics', quote?: (s: string) => string): string[] =>
    (decl[field] ?? []).flatMap((raw, i) => {
      const r = interpolate(raw, scope, quote);
      if (!r.ok) {
        failures.push(undefinedVar(r.error.variable, r.error.message, at([...base, field, i])));
        return [];
      }
      // A dependency that a variable sets to null is no dependency: a profile can switch an
      // optional input (a checkpoint directory) on and off without a second stage declaration.
      if (field === 'deps' && r.value === null) return [];
      return [String(r.value)];
    });

  const deps = strings('deps');
  const outs = strings('outs');
  const metrics = strings('metrics');
  let uses: string | undefined;
  if (decl.uses !== undefined) {
    const r = interpolate(decl.uses, scope);
    if (r.ok) uses = String(r.value);
    else failures.push(undefinedVar(r.error.variable, r.error.message, at([...base, 'uses'])));
  }
  const cmd: string[] = [];
  const rawCmd = decl.cmd === undefined ? [] : Array.isArray(decl.cmd) ? decl.cmd : [decl.cmd];
  rawCmd.forEach((line, i) => {
    const r = interpolate(line, scope, shellQuote);
    if (r.ok) cmd.push(String(r.value));
    else
      failures.push(
        undefinedVar(r.error.variable, r.error.message, at([...base, 'cmd', ...(Array.isArray(decl.cmd) ? [i] : [])])),
      );
  });
  const resources = resolveResources(decl, scope, base, at, failures);
  const paramsFrom = resolveParamSources(decl, name, params, scope, base, at, failures);
  if (failures.length > 0) return err(failures);
  return ok({
    name,
    group,
    kind: decl.cmd === undefined ? 'uses' : 'cmd',
    cmd,
    uses,
    deps,
    params,
    outs,
    metrics,
    item: item as Record<string, JsonValue> | undefined,
    alwaysChanged: decl.always_changed ?? false,
    timeoutMs: decl.timeout === undefined ? undefined : durationMs(decl.timeout),
    desc: decl.desc,
    yamlPath: base,
    // Only when declared, so specs without resources stay as they were (and cached ones match).
    ...(resources === undefined ? {} : { resources }),
    ...(paramsFrom === undefined ? {} : { paramsFrom }),
  });
}

/**
 * `params_from:` with `${...}` resolved in each source, and each param path checked against the
 * declared params: it may replace a declared value or add one, but not reach through a value that
 * is not an object. Only `uses:` stages take it: a command's `${...}` values are interpolated
 * into its text when the file is loaded, before any stage has run.
 */
function resolveParamSources(
  decl: StageYaml,
  name: string,
  params: JsonObject,
  scope: Scope,
  base: YamlPath,
  at: StageDeclaration['at'],
  failures: ConfigFailure[],
): ParamSource[] | undefined {
  if (decl.params_from === undefined) return undefined;
  const invalid = (message: string, path: YamlPath, key = false): void =>
    void failures.push({ reason: 'invalid-value', diagnostic: { message, location: at(path, key) } });
  if (decl.uses === undefined) {
    invalid(
      `params_from of stage "${name}" needs a \`uses:\` stage: a command's \`\${...}\` values are set when pipeline.yaml is loaded, before any stage runs`,
      [...base, 'params_from'],
      true,
    );
    return undefined;
  }
  const sources: ParamSource[] = [];
  const paths = Object.keys(decl.params_from);
  for (const [param, raw] of Object.entries(decl.params_from)) {
    const path: YamlPath = [...base, 'params_from', param];
    const overlap = paths.find((other) => other !== param && param.startsWith(`${other}.`));
    if (overlap !== undefined) {
      invalid(`params_from of stage "${name}" sets both "${overlap}" and "${param}", which is inside it`, path, true);
      continue;
    }
    const segments = param.split('.');
    let value: JsonValue | undefined = params;
    for (let i = 0; i < segments.length - 1 && value !== undefined; i++) {
      value = (value as JsonObject)[segments[i]!];
      if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
        const prefix = segments.slice(0, i + 1).join('.');
        invalid(
          `params_from.${param} of stage "${name}": param ${prefix} is ${JSON.stringify(value)}, not an object, so ${param} cannot be set inside it`,
          path,
          true,
        );
        value = undefined;
      }
    }
    const fields: Partial<Record<'stage' | 'json' | 'key', string>> = {};
    for (const field of ['stage', 'json', 'key'] as const) {
      const text = raw[field];
      if (text === undefined) continue;
      const r = interpolate(text, scope);
      if (!r.ok) failures.push(undefinedVar(r.error.variable, r.error.message, at([...path, field])));
      else if (typeof r.value !== 'string' || r.value === '')
        invalid(
          `params_from.${param}.${field} of stage "${name}": expected a non-empty string, got ${JSON.stringify(r.value)}`,
          [...path, field],
        );
      else fields[field] = r.value;
    }
    if (fields.stage === undefined || fields.json === undefined) continue;
    const where = at(path, true);
    sources.push({
      param,
      stage: fields.stage,
      json: fields.json,
      ...(fields.key === undefined ? {} : { key: fields.key }),
      at: `${basename(where.file)}:${where.start.line}:${where.start.column}`,
    });
  }
  return sources;
}

/** `resources:` with `${...}` resolved, each value checked again now that it is known. */
function resolveResources(
  decl: StageYaml,
  scope: Scope,
  base: YamlPath,
  at: StageDeclaration['at'],
  failures: ConfigFailure[],
): Resources | undefined {
  if (decl.resources === undefined) return undefined;
  const resolved: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(decl.resources)) {
    if (raw === undefined) continue;
    const r = interpolate(raw, scope);
    if (!r.ok) {
      failures.push(undefinedVar(r.error.variable, r.error.message, at([...base, 'resources', key])));
      continue;
    }
    resolved[key] = r.value;
  }
  const checked = resolvedResourcesSchema.safeParse(resolved);
  if (checked.success) return checked.data;
  for (const issue of checked.error.issues) {
    const key = String(issue.path[0]);
    const expected = resourceExpectation(key);
    failures.push({
      reason: 'invalid-value',
      diagnostic: {
        message: `stages.${String(base[1])}.resources.${key}: ${expected === undefined ? issue.message : `expected ${expected}`}, got ${JSON.stringify(resolved[key])}`,
        location: at([...base, 'resources', key]),
      },
    });
  }
  return undefined;
}

function definitionFailure(
  e: DefinitionError,
  hint: string,
  location: ReturnType<LoadedPipeline['map']['locate']>,
): ConfigFailure {
  if (e.chain !== undefined)
    return { reason: 'reference-cycle', cycle: e.chain, diagnostic: { message: e.message, location } };
  return undefinedVar(e.variable, `${e.message}${hint}`, location);
}

function undefinedVar(
  variable: string,
  message: string,
  location: ReturnType<LoadedPipeline['map']['locate']>,
): ConfigFailure {
  return { reason: 'undefined-variable', variable, diagnostic: { message, location } };
}
