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
}
