/**
 * The contract every `uses:` stage is written to. A stage module's default export is a
 * `StageFunction`; it receives a `StageContext` and returns `StageOutputs`. Stages run in their
 * own process, so they never touch the store: inputs arrive through the context and outputs go
 * back as the return value, and the coordinator commits them in one transaction.
 */
import type { JsonObject, JsonValue } from './fingerprint/canonical-json.ts';

export type { JsonObject, JsonValue };

/** Scalar cell values a table column may hold; lists of numbers hold token ids and the like. */
export type Cell = string | number | boolean | null | readonly number[];

/** One column: plain arrays, or typed arrays for large numeric columns. */
export type Column = readonly Cell[] | Float64Array | Float32Array | Int32Array;

/**
 * A table in columnar form: column name -> values, all columns the same length. Stored as a real
 * DuckDB table (so a reviewer can query it with SQL); `arquero`'s `table(columns)` reads it as is.
 */
export type Table = Readonly<Record<string, Column>>;

/** A table as a stage reads it back: plain arrays, one per column. */
export type TableData = Record<string, Cell[]>;

export interface StageOutputs {
  /** Tables, each stored as a DuckDB table. */
  tables?: Record<string, Table>;
  /** Small structured values (configs, curves, summaries). */
  json?: Record<string, JsonValue>;
  /** Binary payloads such as model weights. */
  blobs?: Record<string, Uint8Array>;
  /** Scalar results, stored in the long-format metrics table and in lockfile.json. */
  metrics?: Record<string, number>;
  /**
   * Facts about this run that differ from run to run on the same inputs: wall time, tokens per
   * second. Stored with the result (table `measurements`) and handed to downstream stages, but
   * kept out of the output-set hash and lockfile.json, so they never trigger reruns and never
   * make a reproduced result look different.
   */
  measurements?: Record<string, number>;
}

/** An upstream stage's results, read on demand (a stage that needs one table pays for one table). */
export interface UpstreamStage {
  /** Expanded name, e.g. `train@adam-2`. */
  name: string;
  /** Declared name, e.g. `train`. */
  group: string;
  params: JsonObject;
  /** The matrix combination of the upstream stage, if it came from a matrix. */
  item: Record<string, JsonValue> | undefined;
  metrics: Record<string, number>;
  /** The measurements recorded when the upstream result was computed (see StageOutputs). */
  measurements: Record<string, number>;
  /** Output names: `table:x`, `json:x`, `blob:x`, `file:path`. */
  outputs: string[];
  /** Output name -> content hash: what a report cites as the source of a number. */
  outputHashes: Record<string, string>;
  /** The fingerprint of the upstream result: `pipeline lineage FINGERPRINT` traces it. */
  fingerprint: string;
  table(name: string): Promise<TableData>;
  json(name: string): Promise<JsonValue>;
  blob(name: string): Promise<Uint8Array>;
}

export interface StageProgress {
  done: number;
  total?: number;
  note?: string;
  /** Named numbers at this point (`{loss: 0.41}`): `pipeline ui` draws each as a curve over `done`. */
  values?: Record<string, number>;
}

export interface StageContext<P extends JsonObject = JsonObject> {
  name: string;
  group: string;
  params: P;
  item: Record<string, JsonValue> | undefined;
  /** Absolute path of the project root; file deps and outs are relative to it. */
  root: string;
  /** Project-relative paths of the file and directory deps, sorted. */
  files: string[];
  /** Every upstream stage, sorted by name (an order that the recorded fingerprint alone determines). */
  inputs: UpstreamStage[];
  /** One upstream stage by expanded name; throws if it is not a dependency. */
  input(name: string): UpstreamStage;
  /** Project-relative paths the stage must write (its `outs:` and `metrics:`). */
  outs: string[];
  log(message: string): void;
  progress(progress: StageProgress): void;
  /** Records a fact about how the stage ran (e.g. `backend`) in the run's provenance. */
  provenance(key: string, value: JsonValue): void;
  /** Aborted on Ctrl-C or a timeout; long loops should check it. */
  signal: AbortSignal;
}

export type StageFunction<P extends JsonObject = JsonObject> = (
  ctx: StageContext<P>,
) => Promise<StageOutputs | void> | StageOutputs | void;

/** Identity, for type inference: `export default defineStage<{ lr: number }>(async (ctx) => ...)`. */
export function defineStage<P extends JsonObject = JsonObject>(fn: StageFunction<P>): StageFunction<P> {
  return fn;
}
