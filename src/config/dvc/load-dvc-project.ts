import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { err, ok, type Result } from '../../result.ts';
import type { ConfigFailure } from '../failure.ts';
import type { LoadedSpecs } from '../load-project.ts';
import type { SourceMap } from '../source-map.ts';
import type { StageSpec } from '../stage-spec.ts';
import { discoverDvcFiles } from './discover.ts';
import { expandDvcFile, RenderFailure } from './expand-stages.ts';
import { MultiFileLocator } from './multi-file-locator.ts';
import { isMapping, type PyValue } from './py-value.ts';
import { readYaml } from './read-yaml.ts';
import { toStageSpec } from './stage-fields.ts';
import { TemplateError } from './vars-context.ts';

const READABLE = /\.(ya?ml|json)$/i;

/** Reads params/vars files once per load: a project's stages mostly share one params.yaml. */
class ParamsFiles {
  private readonly cache = new Map<string, { data: PyValue } | { missing: string }>();
  constructor(private readonly root: string) {}

  private load(path: string): { data: PyValue } | { missing: string } {
    let hit = this.cache.get(path);
    if (hit !== undefined) return hit;
    const abs = join(this.root, path);
    if (!existsSync(abs)) hit = { missing: `'${path}' does not exist` };
    else if (statSync(abs).isDirectory()) hit = { missing: `'${path}' is a directory` };
    else if (!READABLE.test(path)) hit = { missing: `'${path}': only YAML and JSON params files are read` };
    else {
      const r = readYaml(abs, readFileSync(abs, 'utf8'));
      hit = r.ok
        ? { data: r.value.data }
        : { missing: `'${path}' is not valid YAML/JSON: ${r.error[0]?.diagnostic.message ?? ''}` };
    }
    this.cache.set(path, hit);
    return hit;
  }

  /** For `vars`: a file that cannot be read is an error, as in DVC. */
  readForVars = (path: string): PyValue => {
    const r = this.load(path);
    if ('missing' in r) throw new TemplateError(r.missing);
    return r.data;
  };

  /** For `params:`: an absent file is recorded as missing, so listing still works without it. */
  readForParams = (path: string): PyValue | undefined => {
    const r = this.load(path);
    return 'missing' in r ? undefined : r.data;
  };
}

/** The stage specs of every dvc.yaml under root, each expanded and rendered as DVC does. */
export async function loadDvcSpecs(
  root: string,
  files: string[],
): Promise<Result<{ specs: StageSpec[]; locator: MultiFileLocator }, ConfigFailure[]>> {
  const maps = new Map<string, SourceMap>();
  const specs: StageSpec[] = [];
  const failures: ConfigFailure[] = [];
  const params = new ParamsFiles(root);
  for (const file of files) {
    const abs = join(root, file);
    const read = readYaml(abs, readFileSync(abs, 'utf8'));
    if (!read.ok) {
      failures.push(...read.error);
      continue;
    }
    const { data, map } = read.value;
    maps.set(file, map);
    const dir = posix.dirname(file) === '.' ? '' : posix.dirname(file);
    if (data === null) continue; // an empty dvc.yaml declares nothing
    if (!isMapping(data)) {
      failures.push({
        reason: 'invalid-value',
        diagnostic: { message: 'a dvc.yaml must be a map with `stages:`', location: map.locate([]) },
      });
      continue;
    }
    try {
      const hasDefaultParams = existsSync(join(root, dir, 'params.yaml'));
      const rendered = expandDvcFile({ dir, data, hasDefaultParams, read: params.readForVars });
      for (const stage of rendered) specs.push(toStageSpec(file, dir, stage, params.readForParams));
    } catch (e) {
      if (!(e instanceof RenderFailure)) throw e;
      const reason = /Could not find/.test(e.message) ? 'undefined-variable' : 'invalid-value';
      const location = map.locate(e.yamlPath);
      failures.push(
        reason === 'undefined-variable'
          ? {
              reason,
              variable: /Could not find '([^']*)'/.exec(e.message)?.[1] ?? '',
              diagnostic: { message: e.message, location },
            }
          : { reason, diagnostic: { message: e.message, location } },
      );
    }
  }
  if (failures.length > 0) return err(failures);
  return { ok: true, value: { specs, locator: new MultiFileLocator(maps, join(root, files[0] ?? 'dvc.yaml')) } };
}

/**
 * With no pipeline.yaml: the project of the dvc.yaml files under root, or undefined when there
 * are none (then the missing pipeline.yaml is the error to report).
 */
export async function loadDvcProject(root: string): Promise<Result<LoadedSpecs, ConfigFailure[]> | undefined> {
  const files = await discoverDvcFiles(root);
  if (files.length === 0) return undefined;
  const loaded = await loadDvcSpecs(root, files);
  if (!loaded.ok) return loaded;
  const { specs, locator } = loaded.value;
  // dvc.yaml has no executor block; its locations are known already (the files were parsed).
  return ok({ specs, executor: undefined, locator: () => Promise.resolve(ok(locator)) });
}
