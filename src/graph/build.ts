import { existsSync } from 'node:fs';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import type { ConfigFailure } from '../config/failure.ts';
import { suggest } from '../config/suggest.ts';
import type { Locator } from '../config/source-map.ts';
import type { ExecutorSettings } from '../config/schema.ts';
import type { ParamSource, StageSpec } from '../config/stage-spec.ts';
import { err, ok, type Result } from '../result.ts';
import { PathTrie } from './path-trie.ts';

/** A dependency as the runner needs it: an upstream stage's outputs, or a file's content. */
export type ResolvedDep = { kind: 'stage'; stage: string } | { kind: 'file'; path: string };

export interface StageNode {
  spec: StageSpec;
  deps: ResolvedDep[];
  /** Stages that must finish first: stage deps and producers of file deps. */
  upstream: string[];
}

export interface PipelineGraph {
  root: string;
  stages: Map<string, StageNode>;
  /** Every stage, dependencies before dependents, ties in declaration order. */
  order: string[];
  /** Declared name -> expanded names. */
  groups: Map<string, string[]>;
  downstream: Map<string, string[]>;
  /** pipeline.yaml's `executor:` block (where stages run), when it has one. */
  executor?: ExecutorSettings;
}

/** Project-relative POSIX path, or undefined if it leaves the project. */
export function projectPath(root: string, p: string): string | undefined {
  // Nearly every declared path is already in that form (`out/s1.txt`): it is returned as it is,
  // sparing the thousands of resolve/relative calls a large pipeline's graph would make.
  if (isPlainRelative(p)) return p;
  const abs = resolve(root, p);
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join(posix.sep);
}

/**
 * Whether `p` is a relative POSIX path that resolving against any root and taking it relative
 * to that root again gives back unchanged: no empty, `.` or `..` segment, no leading or
 * trailing slash, and (where the separator is `\`) no backslash.
 */
function isPlainRelative(p: string): boolean {
  if (p === '' || p.charCodeAt(0) === 47 || p.charCodeAt(p.length - 1) === 47) return false;
  if (sep !== '/' && (p.includes('\\') || p.includes(':'))) return false;
  let start = 0;
  for (;;) {
    const end = p.indexOf('/', start);
    const len = (end === -1 ? p.length : end) - start;
    if (len === 0) return false;
    if (p.charCodeAt(start) === 46 && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) return false;
    if (end === -1) return true;
    start = end + 1;
  }
}

/**
 * Resolves every dependency, checks paths and cycles, and orders the stages. `executor` is
 * pipeline.yaml's `executor:` block, carried into the graph as declared.
 */
export function buildGraph(
  specs: StageSpec[],
  root: string,
  map: Locator,
  executor?: ExecutorSettings,
): Result<PipelineGraph, ConfigFailure[]> {
  const failures: ConfigFailure[] = [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const groups = new Map<string, string[]>();
  for (const s of specs) {
    const members = groups.get(s.group);
    if (members === undefined) groups.set(s.group, [s.name]);
    else members.push(s.name);
  }

  const producers = new Map<string, string>();
  const outputs = new PathTrie();
  for (const s of specs) {
    for (const [field, list] of [
      ['outs', s.outs],
      ['metrics', s.metrics],
    ] as const) {
      list.forEach((out, i) => {
        const location = () => map.locate([...s.yamlPath, field, i]);
        const rel = projectPath(root, out);
        if (rel === undefined) {
          failures.push({
            reason: 'path-outside-project',
            path: out,
            diagnostic: {
              message: `${field} path "${out}" of stage "${s.name}" is outside the project`,
              location: location(),
            },
          });
          return;
        }
        const other = producers.get(rel);
        if (other !== undefined && other !== s.name) {
          failures.push({
            reason: 'invalid-value',
            diagnostic: { message: `"${rel}" is an output of both "${other}" and "${s.name}"`, location: location() },
          });
          return;
        }
        producers.set(rel, s.name);
        outputs.add(rel, s.name);
      });
    }
  }

  const stages = new Map<string, StageNode>();
  // Matrix expansions share their declaration: report a bad dep or module once per declaration.
  const reported = new Set<string>();
  const report = (key: string, f: ConfigFailure): void => {
    if (reported.has(key)) return;
    reported.add(key);
    failures.push(f);
  };
  for (const s of specs) {
    const deps: ResolvedDep[] = [];
    const upstream = new Set<string>();
    if (s.uses !== undefined) {
      const rel = projectPath(root, s.uses);
      const location = () => map.locate([...s.yamlPath, 'uses']);
      if (rel === undefined)
        report(`${s.group}|uses|${s.uses}`, {
          reason: 'path-outside-project',
          path: s.uses,
          diagnostic: { message: `module "${s.uses}" is outside the project`, location: location() },
        });
      else if (!existsSync(resolve(root, rel)))
        report(`${s.group}|uses|${s.uses}`, {
          reason: 'missing-dependency',
          dependency: s.uses,
          diagnostic: { message: `stage "${s.group}" uses "${s.uses}", which does not exist`, location: location() },
        });
    }
    s.deps.forEach((dep, i) => {
      // A dvc.yaml dep is always a path, even when a stage has the same name.
      const named = s.dvc !== undefined ? undefined : byName.has(dep) ? [dep] : groups.get(dep);
      if (named !== undefined) {
        for (const n of named) {
          deps.push({ kind: 'stage', stage: n });
          upstream.add(n);
        }
        return;
      }
      const location = () => map.locate([...s.yamlPath, 'deps', i]);
      const rel = projectPath(root, dep);
      if (rel === undefined && s.dvc !== undefined) {
        // DVC allows an external dependency: it is hashed where it is, and no stage produces it.
        deps.push({ kind: 'file', path: relative(root, resolve(root, dep)).split(sep).join(posix.sep) });
        return;
      }
      if (rel === undefined) {
        report(`${s.group}|dep|${dep}`, {
          reason: 'path-outside-project',
          path: dep,
          diagnostic: {
            message: `dependency "${dep}" of stage "${s.group}" is outside the project`,
            location: location(),
          },
        });
        return;
      }
      // Linked to every output equal to the dep, holding it, or inside it (DVC's rule).
      const linked = outputs.overlapping(rel).filter((n) => n !== s.name);
      if (linked.length > 0) for (const n of linked) upstream.add(n);
      else if (s.dvc === undefined && !existsSync(resolve(root, rel))) {
        const near = suggest(dep, [...byName.keys(), ...groups.keys()]);
        report(`${s.group}|dep|${dep}`, {
          reason: 'missing-dependency',
          dependency: dep,
          diagnostic: {
            message: `stage "${s.group}" depends on "${dep}", which is neither a stage nor an existing file${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
            location: location(),
          },
        });
        return;
      }
      deps.push({ kind: 'file', path: rel });
    });
    for (const source of s.paramsFrom ?? []) {
      const failure = sourceFailure(s, source, byName, groups);
      if (failure === undefined) upstream.add(source.stage);
      else
        report(`${s.group}|params_from|${source.param}`, {
          ...failure,
          diagnostic: {
            message: failure.diagnostic.message,
            location: map.locate([...s.yamlPath, 'params_from', source.param], { key: true }),
          },
        });
    }
    stages.set(s.name, { spec: s, deps, upstream: [...upstream] });
  }
  if (failures.length > 0) return err(failures);

  const cycle = findCycle(
    specs.map((s) => s.name),
    stages,
  );
  if (cycle !== undefined) {
    const first = stages.get(cycle[0] ?? '');
    // An edge made by params_from alone is pointed at where it is written, not at `deps:`.
    const viaParams = cycle.slice(0, -1).flatMap((n, i) => {
      const node = stages.get(n);
      if (node === undefined || node.deps.some((d) => d.kind === 'stage' && d.stage === cycle[i + 1])) return [];
      const source = node.spec.paramsFrom?.find((p) => p.stage === cycle[i + 1]);
      return source === undefined ? [] : [{ spec: node.spec, param: source.param }];
    })[0];
    return err([
      {
        reason: 'cycle',
        cycle,
        diagnostic: {
          message: `dependency cycle: ${cycle.join(' -> ')} (each stage depends on the next${viaParams === undefined ? '' : `; ${viaParams.spec.name} through params_from.${viaParams.param}`})`,
          location:
            viaParams === undefined
              ? map.locate([...(first?.spec.yamlPath ?? []), 'deps'])
              : map.locate([...viaParams.spec.yamlPath, 'params_from', viaParams.param], { key: true }),
        },
      },
    ]);
  }

  const downstream = new Map<string, string[]>(specs.map((s) => [s.name, []]));
  for (const [name, node] of stages) for (const u of node.upstream) downstream.get(u)?.push(name);
  const order = topologicalOrder(
    specs.map((s) => s.name),
    stages,
  );
  return ok({ root, stages, order, groups, downstream, ...(executor === undefined ? {} : { executor }) });
}

/** Why a params_from entry names no stage it can read from, if it does not; located by the caller. */
function sourceFailure(
  s: StageSpec,
  source: ParamSource,
  byName: ReadonlyMap<string, StageSpec>,
  groups: ReadonlyMap<string, string[]>,
): ConfigFailure | undefined {
  const what = `params_from.${source.param} of stage "${s.name}"`;
  const nowhere = { message: '' };
  if (source.stage === s.name)
    return {
      reason: 'cycle',
      cycle: [s.name, s.name],
      diagnostic: { ...nowhere, message: `${what} names the stage itself` },
    };
  if (byName.has(source.stage)) return undefined;
  const members = groups.get(source.stage);
  if (members !== undefined)
    return {
      reason: 'invalid-value',
      diagnostic: {
        message: `${what} names the matrix "${source.stage}" (${members.length} stages): name one expansion, such as "${members[0]}"`,
      },
    };
  const near = suggest(source.stage, [...byName.keys()]);
  return {
    reason: 'missing-dependency',
    dependency: source.stage,
    diagnostic: {
      message: `${what} reads from "${source.stage}", which is not a stage${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
    },
  };
}

function findCycle(names: string[], stages: Map<string, StageNode>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const st = state.get(n);
    if (st === 'done') return undefined;
    if (st === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const u of stages.get(n)?.upstream ?? []) {
      const c = visit(u);
      if (c !== undefined) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of names) {
    const c = visit(n);
    if (c !== undefined) return c;
  }
  return undefined;
}

function topologicalOrder(names: string[], stages: Map<string, StageNode>): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (n: string): void => {
    if (done.has(n)) return;
    done.add(n);
    for (const u of stages.get(n)?.upstream ?? []) visit(u);
    order.push(n);
  };
  for (const n of names) visit(n);
  return order;
}
