import type { FingerprintRecord } from '../fingerprint/fingerprint.ts';
import type { FingerprintHash, OutputSetHash } from '../fingerprint/hash-types.ts';
import type { StageNode } from '../graph/build.ts';
import type { ArtifactReader } from './run-uses-stage.ts';
import type { StageIO, StageOutcome } from './stage-outcome.ts';
import type { UpstreamManifest, WorkerStart } from './worker-protocol.ts';

export type ExecutorKind = 'local' | 'slurm';

/**
 * One stage the scheduler has decided to run, with everything an executor needs already
 * resolved. Deciding what runs (fingerprints, cache hits) and committing what came back stay
 * with the scheduler in repro.ts, the only process that opens the store; an executor only turns
 * a task into outputs, on this machine or elsewhere.
 */
export interface StageTask {
  name: string;
  node: StageNode;
  /** Absolute project root; the stage runs there, and its out files are written under it. */
  root: string;
  record: FingerprintRecord;
  /** The hash of `record`: what the result will be stored under. */
  fingerprint: FingerprintHash;
  /** Output-set hash of each upstream stage: with the work tree, what the record was computed from. */
  upstream: ReadonlyMap<string, OutputSetHash>;
  /** For `uses:` stages, the upstream stages as the stage's context sees them, sorted by name. */
  inputs: UpstreamManifest[];
  /** Reads an upstream artifact from the store. */
  read: ArtifactReader;
}

export interface ExecutorIO extends StageIO {
  /** Where the stage stands in an outside queue (a Slurm job's state), for the progress display. */
  state(text: string): void;
}

/** How a stage runs. The scheduler is the same for every executor. */
export interface StageExecutor {
  readonly kind: ExecutorKind;
  /**
   * Runs the stage. On success its out files are in the work tree and its returned outputs in
   * the outcome, exactly as if it had run here; `signal` is the run's (Ctrl-C).
   */
  run(task: StageTask, io: ExecutorIO, signal: AbortSignal): Promise<StageOutcome>;
  /** Jobs handed to an outside scheduler so far (0 for the local executor). */
  readonly submitted: number;
  /** Once, after the run: releases what the executor holds (staged files, pollers). */
  close(): Promise<void>;
}

/** What a `uses:` stage's worker process is started with. */
export function workerStart(task: StageTask): Omit<WorkerStart, 'type'> {
  const { spec, deps } = task.node;
  return {
    module: spec.uses!,
    name: task.name,
    group: spec.group,
    params: spec.params,
    item: spec.item,
    root: task.root,
    files: deps.flatMap((d) => (d.kind === 'file' ? [d.path] : [])).sort(),
    outs: [...spec.outs, ...spec.metrics],
    inputs: task.inputs,
  };
}
