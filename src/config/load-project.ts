import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { ENGINE_VERSION } from '../fingerprint/fingerprint.ts';
import type { PipelineGraph } from '../graph/build.ts';
import { buildGraph } from '../graph/build.ts';
import { err, type Result } from '../result.ts';
import type { ConfigFailure } from './failure.ts';
import type { ExecutorSettings } from './schema.ts';
import type { StageSpec } from './stage-spec.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/**
 * Bump when parsing, validation or expansion changes what a given pipeline.yaml expands to, so
 * cached expansions made by the old code are not reused.
 */
const EXPANSION_VERSION = 2;

interface CachedExpansion {
  key: string;
  specs: StageSpec[];
  /** pipeline.yaml's `executor:` block, carried beside the stages (it is not per stage). */
  executor?: ExecutorSettings;
}

let toolVersion: Promise<string> | undefined;
function ownVersion(): Promise<string> {
  toolVersion ??= readFile(new URL('../../package.json', import.meta.url), 'utf8').then(
    (t) => String((JSON.parse(t) as { version?: string }).version),
    () => 'unknown',
  );
  return toolVersion;
}

/**
 * pipeline.yaml -> validated, expanded, resolved and ordered stages; or every problem found.
 * With a `profile`, the vars of profiles/PROFILE.yaml replace those of the same name (the paper's
 * sizes on a GPU, a smoke-test size in CI) without a second pipeline definition.
 *
 * The expansion of a valid file is cached (keyed by the file's bytes and this tool's version):
 * parsing, schema validation and matrix expansion of a large pipeline cost more than the rest of
 * a no-op run, and their result depends on nothing else. The YAML parser and the schema library
 * are not even loaded on a cache hit; a later error (a missing file, a cycle) parses the file
 * then, only to point at the offending line.
 */
export async function loadProject(root: string, file: string, cacheFile?: string, profile?: string): Promise<Result<PipelineGraph, ConfigFailure[]>> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return err([{ reason: 'file-not-found', diagnostic: { message: `cannot read ${file}: ${code}` } }]);
  }
  let profileSource = '';
  const profileFile = profile === undefined ? undefined : join(root, 'profiles', `${profile}.yaml`);
  if (profileFile !== undefined) {
    try {
      profileSource = await readFile(profileFile, 'utf8');
    } catch {
      return err([{ reason: 'file-not-found', diagnostic: { message: `no profile "${profile}": ${profileFile} does not exist` } }]);
    }
  }
  const key = sha256Hex(`${EXPANSION_VERSION}\0${ENGINE_VERSION}\0${await ownVersion()}\0${source}\0${profile ?? ''}\0${profileSource}`);
  const cached = cacheFile === undefined ? undefined : await readCache(cacheFile, key);
  if (cached !== undefined) {
    const graph = withExecutor(buildGraph(cached.specs, root, { locate: () => ({ file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }) }), cached.executor);
    if (graph.ok) return graph;
    // Only on an error path: parse the file after all, to point at the offending line.
    const { parsePipeline } = await import('./load.ts');
    const loaded = parsePipeline(file, source);
    return loaded.ok ? buildGraph(cached.specs, root, loaded.value.map) : loaded;
  }
  const { parsePipeline, parseProfile } = await import('./load.ts');
  const loaded = parsePipeline(file, source);
  if (!loaded.ok) return loaded;
  if (profileFile !== undefined) {
    const overlay = parseProfile(profileFile, profileSource);
    if (!overlay.ok) return overlay;
    // A profile replaces whole vars (not merged key by key), so what a profile says is what runs.
    loaded.value.yaml.vars = { ...(loaded.value.yaml.vars ?? {}), ...(overlay.value as NonNullable<typeof loaded.value.yaml.vars>) };
  }
  // zx's quoting is loaded only when some command interpolates a value.
  const needsQuote = Object.values(loaded.value.yaml.stages).some((s) => JSON.stringify(s.cmd ?? '').includes('${'));
  const quote = needsQuote ? (await import('zx/core')).quote : (s: string) => s;
  const { expandStages } = await import('./expand.ts');
  const expanded = expandStages(loaded.value, quote);
  if (!expanded.ok) return err(expanded.error);
  // JSON cannot hold NaN or Infinity (YAML's .nan, .inf): such a pipeline is not cached rather than cached wrong.
  const survivesJson = canonicalJson(expanded.value) === canonicalJson(JSON.parse(JSON.stringify(expanded.value)));
  const executor = loaded.value.yaml.executor;
  if (cacheFile !== undefined && survivesJson) await writeCache(cacheFile, { key, specs: expanded.value, ...(executor === undefined ? {} : { executor }) });
  return withExecutor(buildGraph(expanded.value, root, loaded.value.map), executor);
}

function withExecutor(graph: Result<PipelineGraph, ConfigFailure[]>, executor: ExecutorSettings | undefined): Result<PipelineGraph, ConfigFailure[]> {
  return graph.ok && executor !== undefined ? { ...graph, value: { ...graph.value, executor } } : graph;
}

async function readCache(path: string, key: string): Promise<CachedExpansion | undefined> {
  try {
    const c = JSON.parse(await readFile(path, 'utf8')) as CachedExpansion;
    if (c.key !== key) return undefined;
    return c;
  } catch {
    return undefined;
  }
}

async function writeCache(path: string, c: CachedExpansion): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(c));
  } catch {
    // A cache that cannot be written only costs time on the next run.
  }
}
