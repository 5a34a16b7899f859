import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import type { StageOutputs, StageProgress, TableData } from '../stage-api.ts';
import type { ContentHash, FingerprintHash } from '../fingerprint/hash-types.ts';
import type { OutputRef } from '../store/store.ts';

/** An upstream stage as the worker knows it: names and hashes; contents are fetched on demand. */
export interface UpstreamManifest {
  name: string;
  fingerprint: FingerprintHash;
  group: string;
  params: JsonObject;
  item: Record<string, JsonValue> | undefined;
  metrics: Record<string, number>;
  measurements: Record<string, number>;
  outputs: Record<string, OutputRef>;
}

export interface WorkerStart {
  type: 'start';
  /** Absolute path of the stage module. */
  module: string;
  name: string;
  group: string;
  params: JsonObject;
  item: Record<string, JsonValue> | undefined;
  root: string;
  files: string[];
  outs: string[];
  inputs: UpstreamManifest[];
}

export type ReadKind = 'table' | 'json' | 'blob';

/** Coordinator -> worker. */
export type ToWorker =
  | WorkerStart
  | { type: 'read-result'; id: number; value: TableData | JsonValue | Uint8Array }
  | { type: 'read-error'; id: number; message: string }
  | { type: 'abort' };

/** Worker -> coordinator. */
export type FromWorker =
  | { type: 'log'; message: string }
  | { type: 'progress'; progress: StageProgress }
  | { type: 'provenance'; key: string; value: JsonValue }
  | { type: 'read'; id: number; kind: ReadKind; hash: ContentHash }
  | { type: 'result'; outputs: StageOutputs }
  | { type: 'error'; message: string; stack?: string };
