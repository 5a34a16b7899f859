import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import type { Resources } from './schema.ts';
import type { YamlPath } from './source-map.ts';

/** One runnable stage after matrix expansion and interpolation: what the graph and runner see. */
export interface StageSpec {
  /** Unique name: the declared name, or `name@v1-v2` for a matrix expansion. */
  name: string;
  /** The declared name; equals `name` unless the stage came from a matrix. */
  group: string;
  kind: 'cmd' | 'uses';
  /** Interpolated command lines (cmd stages); run one after another with bash. */
  cmd: string[];
  /** Project-relative module path (uses stages). */
  uses: string | undefined;
  deps: string[];
  params: JsonObject;
  outs: string[];
  metrics: string[];
  /** The matrix combination this stage is, keyed by axis. */
  item: Record<string, JsonValue> | undefined;
  alwaysChanged: boolean;
  /** From `timeout:`; the stage is stopped (with its children) when it runs longer. */
  timeoutMs: number | undefined;
  desc: string | undefined;
  /**
   * From `resources:`, `${...}` resolved: what a cluster job for this stage asks for. Absent when
   * not declared. Not part of the fingerprint (see src/fingerprint/fingerprint.ts).
   */
  resources?: Resources;
  /** Where the declaration is in pipeline.yaml, for errors found after loading. */
  yamlPath: YamlPath;
  /** Project-relative folder the command runs in (a dvc.yaml's `wdir`); the root when absent. */
  cwd?: string;
  /** Outs kept in place while the stage runs (`persist: true`) instead of removed first. */
  persist?: string[];
  /**
   * From `params_from:`, interpolated: params whose values are read from an upstream stage's json
   * output once it is done. Absent when not declared.
   */
  paramsFrom?: ParamSource[];
  /** Set for stages read from a dvc.yaml: what only DVC's semantics need. */
  dvc?: DvcStageInfo;
}

/** What a dvc.yaml stage declares beyond what every stage has. */
export interface DvcStageInfo {
  /** The dvc.yaml it came from, project-relative. */
  file: string;
  /** Its name inside that file (`train@3`), as dvc.lock keys it. */
  localName: string;
  /** `frozen: true`: never run, not even with --force; its recorded or present outputs stand. */
  frozen: boolean;
  /** Per out path, the flags it was declared with (cache, persist, push, remote, checkpoint, ...). */
  outFlags: Record<string, JsonObject>;
  /** Which field each out came from: outs, metrics or plots. */
  outKinds: Record<string, 'outs' | 'metrics' | 'plots'>;
  meta?: JsonValue;
  /** Tracked params that could not be read (file or key absent): the stage cannot run until they are. */
  missingParams: string[];
}

/** One `params_from:` entry: the param it sets and where its value is read. */
export interface ParamSource {
  /** The param path, dotted for a nested value (`optimizer.learning_rate`). */
  param: string;
  /** The upstream stage, by expanded name. */
  stage: string;
  /** The name of one of that stage's json outputs. */
  json: string;
  /** A dotted path inside that JSON value; absent: the whole value. */
  key?: string;
  /** Where the entry is written (`pipeline.yaml:12:7`, relative to the project root), for failures at run time. */
  at: string;
}
