import type { z } from 'zod';
import { err, ok, type Result } from '../result.ts';
import { largestAliasRange } from './alias-expansion.ts';
import type { ConfigFailure } from './failure.ts';
import {
  EXECUTOR_KEYS,
  PARAM_SOURCE_KEYS,
  pipelineSchema,
  profileSchema,
  RESOURCE_ALIASES,
  RESOURCE_KEYS,
  SLURM_KEYS,
  STAGE_KEYS,
  TOP_KEYS,
  type PipelineYaml,
} from './schema.ts';
import { SourceMap, type YamlPath } from './source-map.ts';
import { suggest } from './suggest.ts';
import { MAX_ALIAS_COUNT, parseLocatedDocument } from './yaml-document.ts';

export interface LoadedPipeline {
  file: string;
  yaml: PipelineYaml;
  map: SourceMap;
  /** Where a var is written when not in `file`: the profile whose vars replaced pipeline.yaml's. */
  varSources?: Readonly<Record<string, SourceMap>>;
}

/**
 * `{seed: ${item.seed}}` is how DVC users write references, but in a YAML flow map the braces of
 * `${...}` are syntax. Each reference is swapped for a same-length stand-in before parsing (so
 * every reported line:column still matches the file) and swapped back in the parsed values.
 */
const OPEN = '$\u27e8';
const CLOSE = '\u27e9';
function protectReferences(source: string): string {
  // Innermost first, so a nested reference ends up wholly protected.
  let out = source;
  for (let prev = ''; prev !== out;) {
    prev = out;
    out = out.replace(/\$\{([^{}\n]*)\}/g, (_m, inner: string) => `${OPEN}${inner}${CLOSE}`);
  }
  return out;
}
function restoreReferences(value: unknown): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (let prev = ''; prev !== out;) {
      prev = out;
      out = out.replace(/\$\u27e8([^\u27e8\u27e9]*)\u27e9/g, '${$1}');
    }
    return out;
  }
  if (Array.isArray(value)) return value.map(restoreReferences);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [restoreReferences(k) as string, restoreReferences(v)]),
    );
  }
  return value;
}

/** Parses a YAML file of ours (pipeline or profile) with positions kept and `${...}` restored. */
function parseYaml(file: string, source: string): Result<{ data: unknown; map: SourceMap }, ConfigFailure[]> {
  const parsed = parseLocatedDocument(file, source, protectReferences(source));
  if (!parsed.ok) return parsed;
  const { doc, map } = parsed.value;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // Thrown while converting, without a position: an alias bomb, or an alias that cannot resolve.
    const message = (e as Error).message.split('\n')[0] ?? String(e);
    const at = /alias/i.test(message) ? largestAliasRange(doc) : undefined;
    const what = /excessive alias count/i.test(message)
      ? `aliases here expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias expansions; ${message})`
      : message;
    return err([
      {
        reason: 'invalid-yaml',
        diagnostic: { message: `invalid YAML: ${what}`, location: map.range(at?.[0] ?? 0, at?.[1] ?? 0) },
      },
    ]);
  }
  return ok({ data: restoreReferences(data), map });
}

export function parsePipeline(file: string, source: string): Result<LoadedPipeline, ConfigFailure[]> {
  const parsedYaml = parseYaml(file, source);
  if (!parsedYaml.ok) return parsedYaml;
  const { data, map } = parsedYaml.value;
  if (data === null || data === undefined) {
    return err([
      {
        reason: 'invalid-value',
        diagnostic: { message: 'the file is empty: expected a `stages:` map', location: map.range(0, 0) },
      },
    ]);
  }
  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) {
    // An unknown key is usually the cause of a "missing key" report beside it, so it goes first.
    const failures = parsed.error.issues.flatMap((issue) => describeIssue(issue, map));
    return err([
      ...failures.filter((f) => f.reason === 'unknown-key'),
      ...failures.filter((f) => f.reason !== 'unknown-key'),
    ]);
  }
  return ok({ file, yaml: parsed.data, map });
}

function describeIssue(issue: z.core.$ZodIssue, map: SourceMap): ConfigFailure[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const { known, where } = keysAt(path);
    return issue.keys.map((key) => {
      const alias = RESOURCE_ALIASES[key.toLowerCase()];
      const suggestion = alias !== undefined && known.includes(alias) ? alias : suggest(key, known);
      const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
      return {
        reason: 'unknown-key' as const,
        key,
        ...(suggestion === undefined ? {} : { suggestion }),
        diagnostic: {
          message: `unknown key "${key}"${where}${hint}`,
          location: map.locate([...path, key], { key: true }),
        },
      };
    });
  }
  if (issue.code === 'invalid_key') {
    const name = String(path.at(-1));
    return [
      {
        reason: 'invalid-value',
        diagnostic: {
          message: `${describePath(path.slice(0, -1))}: invalid name "${name}": use letters, digits, "_", "." and "-" (a stage name may not contain "@", which marks matrix expansions)`,
          location: map.locate(path as YamlPath, { key: true }),
        },
      },
    ];
  }
  const keyLevel = issue.code === 'invalid_format' && isRecordKey(path);
  return [
    {
      reason: 'invalid-value',
      diagnostic: {
        message: `${describePath(path)}: ${issue.message}`,
        location: map.locate(path as YamlPath, { key: keyLevel }),
      },
    },
  ];
}

/** The keys allowed where an unknown one was found, and how to name that place in the message. */
function keysAt(path: Array<string | number>): { known: string[]; where: string } {
  const [first, second, third] = path;
  if (path.length === 0) return { known: TOP_KEYS, where: '' };
  if (first === 'stages' && path.length === 2) return { known: STAGE_KEYS, where: ` in stage "${String(second)}"` };
  if (first === 'stages' && path.length === 3 && third === 'resources')
    return { known: RESOURCE_KEYS, where: ` in resources of stage "${String(second)}"` };
  if (first === 'stages' && path.length === 4 && third === 'params_from')
    return { known: PARAM_SOURCE_KEYS, where: ` in params_from.${String(path[3])} of stage "${String(second)}"` };
  if (first === 'executor' && path.length === 1) return { known: EXECUTOR_KEYS, where: ' in executor' };
  if (first === 'executor' && path.length === 2 && second === 'slurm')
    return { known: SLURM_KEYS, where: ' in executor.slurm' };
  return { known: [], where: '' };
}

function isRecordKey(path: Array<string | number>): boolean {
  return (
    (path.length === 2 && (path[0] === 'stages' || path[0] === 'vars')) || (path.length === 4 && path[2] === 'matrix')
  );
}

function describePath(path: Array<string | number>): string {
  if (path.length === 0) return 'pipeline';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** profiles/NAME.yaml: `vars:` that replace pipeline.yaml's vars of the same name. */
export function parseProfile(file: string, source: string): Result<Record<string, unknown>, ConfigFailure[]> {
  const parsed = parseProfileWithMap(file, source);
  return parsed.ok ? ok(parsed.value.vars) : parsed;
}

/** parseProfile, with the profile's source map, so an error in one of its vars points into it. */
export function parseProfileWithMap(
  file: string,
  source: string,
): Result<{ vars: Record<string, unknown>; map: SourceMap }, ConfigFailure[]> {
  const parsedYaml = parseYaml(file, source);
  if (!parsedYaml.ok) return parsedYaml;
  const { data, map } = parsedYaml.value;
  const parsed = profileSchema.safeParse(data ?? {});
  if (!parsed.success) return err(parsed.error.issues.flatMap((issue) => describeIssue(issue, map)));
  return ok({ vars: parsed.data.vars ?? {}, map });
}
