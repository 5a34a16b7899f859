import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDiagnostic } from '../../config/diagnostic.ts';
import { loadGraph } from '../../graph/load-graph.ts';
import type { JsonObject, JsonValue } from '../../fingerprint/canonical-json.ts';
import type { PipelineGraph } from '../../graph/build.ts';
import { computeFingerprintRecord } from '../../fingerprint/compute.ts';
import { FileHasher } from '../../fingerprint/file-hasher.ts';
import { explainChange, fingerprintHash, type FingerprintRecord } from '../../fingerprint/fingerprint.ts';
import type { FingerprintHash } from '../../fingerprint/hash-types.ts';
import { ModuleGraph } from '../../fingerprint/module-graph.ts';
import { projectPaths } from '../../project.ts';
import { clearOuts } from '../collect-outputs.ts';
import type { ArtifactReader } from '../run-uses-stage.ts';
import { LocalExecutor } from '../local-executor.ts';
import {
  MANIFEST,
  OUTPUTS,
  readJsonFile,
  readValue,
  REQUEST,
  stagedFileName,
  STAGING_VERSION,
  writeValue,
  type JobManifest,
  type JobRequest,
} from './staging.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { sha256Hex } from '../../util/sha256-hex.ts';

export interface RunStageJobOptions {
  root: string;
  stage: string;
  /** The fingerprint the coordinator submitted the stage with. */
  fingerprint: FingerprintHash;
  /** The job's staging directory: request.json in; outputs and manifest.json out. */
  outDir: string;
  profile?: string;
  /** SIGTERM from Slurm (scancel, the time limit) or Ctrl-C. */
  signal: AbortSignal;
  out: Writable;
}

/** Exit statuses of `pipeline run-stage`; Slurm records them as the job's exit code. */
// 143 = 128 + SIGTERM, the signal Slurm stops a job with (scancel, the time limit).
export const RUN_STAGE_EXIT = { ok: 0, failed: 1, config: 2, changed: 3, interrupted: 143 } as const;

/**
 * `pipeline run-stage`, the body of a Slurm job: recomputes the stage's fingerprint from the
 * project as this node sees it and the upstream results the coordinator named, refuses to run
 * if it differs from the submitted one (code, params or an input changed after submission, or
 * the shared filesystem does not show this node what the coordinator saw), runs the stage as a
 * local run would, and leaves its outputs in the staging directory with a manifest of hashes.
 * The store is never opened: upstream artifacts come from files the coordinator staged, and
 * only the coordinator commits.
 */
export async function runStageJob(o: RunStageJobOptions): Promise<number> {
  const say = (line: string): void => void o.out.write(`${line}\n`);
  const manifestPath = join(o.outDir, MANIFEST);
  const host = hostname();
  const failed = async (
    reason: 'changed' | 'failed' | 'interrupted',
    message: string,
    code: number,
  ): Promise<number> => {
    say(`pipeline run-stage: ${o.stage}: ${message}`);
    const m: JobManifest = {
      version: STAGING_VERSION,
      ok: false,
      stage: o.stage,
      fingerprint: o.fingerprint,
      reason,
      message,
      host,
    };
    await writeFileAtomic(manifestPath, `${JSON.stringify(m)}\n`).catch(() => undefined);
    return code;
  };

  const paths = projectPaths(o.root);
  // No expansion cache: the coordinator owns .pipeline/, and this node parses the file it sees.
  const loaded = await loadGraph(o.root, paths.pipelineFile, { profile: o.profile });
  if (!loaded.ok) {
    for (const f of loaded.error) say(formatDiagnostic(f.diagnostic).split('\n')[0]!);
    return failed('changed', `${paths.pipelineFile} does not load here (see above)`, RUN_STAGE_EXIT.config);
  }
  const graph = loaded.value;
  const node = graph.stages.get(o.stage);
  if (node === undefined) return failed('changed', `pipeline.yaml has no stage "${o.stage}"`, RUN_STAGE_EXIT.config);
  const request = await readJsonFile<JobRequest>(join(o.outDir, REQUEST));
  if (request !== undefined && (request.version !== STAGING_VERSION || request.stage !== o.stage)) {
    return failed(
      'failed',
      `${join(o.outDir, REQUEST)} is not a request for this stage from this version of pipeline`,
      RUN_STAGE_EXIT.config,
    );
  }
  const upstream = new Map(Object.entries(request?.upstream ?? {}));
  if (request !== undefined) adoptResolvedParams(graph, o.stage, request);

  // Fresh hashes, no caches: the point is to see the files as this node sees them.
  const hasher = await FileHasher.open(o.root, undefined);
  const modules = await ModuleGraph.open(o.root, hasher, undefined);
  let record: FingerprintRecord;
  try {
    record = await computeFingerprintRecord(graph, o.stage, upstream, hasher, modules);
  } catch (e) {
    const hint =
      request === undefined
        ? ` (no ${REQUEST} in ${o.outDir}: a stage with upstream stages runs only as submitted by \`pipeline repro --executor slurm\`)`
        : '';
    return failed('changed', `cannot compute the fingerprint: ${(e as Error).message}${hint}`, RUN_STAGE_EXIT.changed);
  }
  const fingerprint = fingerprintHash(record);
  if (fingerprint !== o.fingerprint) {
    const why = request === undefined ? [] : explainChange(request.record, record);
    return failed(
      'changed',
      `the stage changed between submission and run (fingerprint ${fingerprint.slice(0, 12)} here, ${o.fingerprint.slice(0, 12)} submitted${why.length > 0 ? `: ${why.join('; ')}` : ''}); it was not run`,
      RUN_STAGE_EXIT.changed,
    );
  }
  say(
    `pipeline run-stage: ${o.stage} on ${host}${process.env.SLURM_JOB_ID === undefined ? '' : ` (Slurm job ${process.env.SLURM_JOB_ID})`}, fingerprint ${fingerprint.slice(0, 12)} checked`,
  );

  const { spec } = node;
  await clearOuts(o.root, spec);
  const read: ArtifactReader = async (kind, h) => {
    const staged = request?.artifacts[`${kind}:${h}`];
    if (staged === undefined) throw new Error(`${kind} ${h.slice(0, 12)} was not staged for this job`);
    return readValue(staged);
  };
  const started = Date.now();
  const printed = new Set<string>();
  const outcome = await new LocalExecutor().run(
    { name: o.stage, node, root: o.root, record, fingerprint, upstream, inputs: request?.inputs ?? [], read },
    {
      log: (line) => {
        printed.add(line);
        say(line);
      },
      progress: () => undefined,
      state: () => undefined,
    },
    o.signal,
  );
  if (!outcome.ok) {
    // The tail of a local failure also holds the error's stack, which was never printed: the
    // job log is all the coordinator will show of it.
    for (const line of outcome.tail) if (!printed.has(line)) say(line);
    // Slurm signals every process of the job at once (scancel, the time limit), so the stage's
    // processes may die of it before this process has handled its own SIGTERM, and report a
    // command killed by a signal. Give that SIGTERM a moment to arrive: being stopped is what
    // happened, not a failed command.
    if (!o.signal.aborted && /killed by SIG/.test(outcome.message)) await sleep(500);
    return outcome.interrupted || o.signal.aborted
      ? failed('interrupted', 'stopped by a signal before it finished', RUN_STAGE_EXIT.interrupted)
      : failed('failed', outcome.message, RUN_STAGE_EXIT.failed);
  }

  try {
    const files: Extract<JobManifest, { ok: true }>['files'] = [];
    for (const [i, path] of [...spec.outs, ...spec.metrics].entries()) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(o.root, path));
      } catch {
        return failed('failed', `stage did not write its declared output "${path}"`, RUN_STAGE_EXIT.failed);
      }
      await writeFileAtomic(join(o.outDir, stagedFileName(i)), bytes);
      files.push({ path, staged: stagedFileName(i), sha256: sha256Hex(bytes) });
    }
    const outputs = await writeValue(join(o.outDir, OUTPUTS), outcome.outputs);
    const provenance: Record<string, JsonValue> = {
      ...outcome.provenance,
      job_node_version: process.version,
      job_platform: `${process.platform}-${process.arch}`,
    };
    const manifest: JobManifest = {
      version: STAGING_VERSION,
      ok: true,
      stage: o.stage,
      fingerprint,
      files,
      outputs: { file: OUTPUTS, sha256: outputs.sha256 },
      provenance,
      host,
      seconds: (Date.now() - started) / 1000,
    };
    // Last, and atomically: its presence says everything else is in place.
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest)}\n`);
  } catch (e) {
    return failed('failed', `could not stage the outputs: ${(e as Error).message}`, RUN_STAGE_EXIT.failed);
  }
  say(
    `pipeline run-stage: ${o.stage} done in ${((Date.now() - started) / 1000).toFixed(1)}s; outputs staged in ${o.outDir}`,
  );
  return RUN_STAGE_EXIT.ok;
}

/**
 * `params_from` values were resolved by the coordinator from the store, which a node does not
 * open: they are taken from the request (this stage's record, and the upstream stages as its
 * context sees them), so the fingerprint is checked on everything else.
 */
function adoptResolvedParams(graph: PipelineGraph, stage: string, request: JobRequest): void {
  const adopt = (name: string, params: JsonObject | undefined): void => {
    const node = graph.stages.get(name);
    if (node?.spec.paramsFrom === undefined || params === undefined) return;
    const merged = structuredClone(node.spec.params);
    for (const { param } of node.spec.paramsFrom) {
      const segments = param.split('.');
      let from: JsonValue | undefined = params;
      for (const seg of segments) from = isObject(from) ? from[seg] : undefined;
      if (from === undefined) continue;
      let into = merged;
      for (const seg of segments.slice(0, -1)) {
        if (!isObject(into[seg])) into[seg] = {};
        into = into[seg] as JsonObject;
      }
      into[segments.at(-1)!] = from;
    }
    graph.stages.set(name, { ...node, spec: { ...node.spec, params: merged } });
  };
  adopt(stage, request.record.params);
  for (const input of request.inputs) adopt(input.name, input.params);
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
