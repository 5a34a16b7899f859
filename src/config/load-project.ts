import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { profileFile as profileOf } from '../project.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { ENGINE_VERSION } from '../fingerprint/fingerprint.ts';
import { err, ok, type Result } from '../result.ts';
import type { ConfigFailure } from './failure.ts';
import type { ExecutorSettings } from './schema.ts';
import type { Locator } from './source-map.ts';
import type { StageSpec } from './stage-spec.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/**
 * Bump when parsing, validation or expansion changes what a given pipeline.yaml expands to, so
 * cached expansions made by the old code are not reused.
 */
const EXPANSION_VERSION = 3;

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

/** What pipeline.yaml declares, expanded: the stage specs the graph is built from. */
export interface LoadedSpecs {
  specs: StageSpec[];
  /** pipeline.yaml's `executor:` block (it is not per stage). */
  executor: ExecutorSettings | undefined;
  /**
   * Where each part of the file is written, for errors found after loading. A cached expansion
   * did not parse the file, so it is parsed only when an error needs a location.
   */
  locator(): Promise<Result<Locator, ConfigFailure[]>>;
}

export interface LoadOptions {
  /** The expansion cache; none: always parse. */
  cacheFile?: string;
  /** profiles/NAME.yaml whose vars replace pipeline.yaml's. */
  profile?: string;
  /** Read the cache but never write it (`status`, `repro --dry` write nothing). */
  readOnlyCache?: boolean;
}

/**
 * pipeline.yaml -> validated, expanded and interpolated stage specs; or every problem found.
 * With a `profile`, the vars of profiles/PROFILE.yaml replace those of the same name (the paper's
 * sizes on a GPU, a smoke-test size in CI) without a second pipeline definition.
 *
 * The expansion of a valid file is cached (keyed by the file's bytes and this tool's version):
 * parsing, schema validation and matrix expansion of a large pipeline cost more than the rest of
 * a no-op run, and their result depends on nothing else. The YAML parser and the schema library
 * are not even loaded on a cache hit; a later error (a missing file, a cycle) parses the file
 * then, only to point at the offending line.
 */
export async function loadStageSpecs(
  root: string,
  file: string,
  o: LoadOptions = {},
): Promise<Result<LoadedSpecs, ConfigFailure[]>> {
  const { cacheFile, profile } = o;
  let source: string;
  try {
    // The files of a no-op run's start are read synchronously: one call each, where an
    // asynchronous read of a large file is a chain of thread-pool round trips.
    source = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (code === 'ENOENT') {
      // No pipeline.yaml: a DVC project is run as it is, from its dvc.yaml files.
      const dvc = await (await import('./dvc/load-dvc-project.ts')).loadDvcProject(root);
      if (dvc !== undefined) return dvc;
    }
    return err([{ reason: 'file-not-found', diagnostic: { message: `cannot read ${file}: ${code}` } }]);
  }
  let profileSource = '';
  const profileFile = profile === undefined ? undefined : profileOf(root, profile);
  if (profileFile !== undefined) {
    try {
      profileSource = await readFile(profileFile, 'utf8');
    } catch {
      return err([
        { reason: 'file-not-found', diagnostic: { message: `no profile "${profile}": ${profileFile} does not exist` } },
      ]);
    }
  }
  const key = sha256Hex(
    `${EXPANSION_VERSION}\0${ENGINE_VERSION}\0${await ownVersion()}\0${source}\0${profile ?? ''}\0${profileSource}`,
  );
  const cached = cacheFile === undefined ? undefined : await readCache(cacheFile, key);
  if (cached !== undefined) {
    const locator = async (): Promise<Result<Locator, ConfigFailure[]>> => {
      const { parsePipeline } = await import('./load.ts');
      const loaded = parsePipeline(file, source);
      return loaded.ok ? ok(loaded.value.map) : loaded;
    };
    return ok({ specs: cached.specs, executor: cached.executor, locator });
  }
  const { parsePipeline, parseProfileWithMap } = await import('./load.ts');
  const loaded = parsePipeline(file, source);
  if (!loaded.ok) return loaded;
  if (profileFile !== undefined) {
    const overlay = parseProfileWithMap(profileFile, profileSource);
    if (!overlay.ok) return overlay;
    // A profile replaces whole vars (not merged key by key), so what a profile says is what runs.
    loaded.value.yaml.vars = {
      ...(loaded.value.yaml.vars ?? {}),
      ...(overlay.value.vars as NonNullable<typeof loaded.value.yaml.vars>),
    };
    loaded.value.varSources = Object.fromEntries(
      Object.keys(overlay.value.vars).map((name) => [name, overlay.value.map]),
    );
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
  if (cacheFile !== undefined && survivesJson && o.readOnlyCache !== true) {
    await writeCache(cacheFile, { key, specs: expanded.value, ...(executor === undefined ? {} : { executor }) });
  }
  const map = loaded.value.map;
  return ok({ specs: expanded.value, executor, locator: async () => ok(map) });
}

async function readCache(path: string, key: string): Promise<CachedExpansion | undefined> {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as CachedExpansion;
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
