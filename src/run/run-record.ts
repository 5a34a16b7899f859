import { hostname } from 'node:os';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import type { RunRecord } from '../store/store.ts';
import type { JobReport } from './stage-outcome.ts';

export interface RunFacts {
  invocation: string;
  stage: string;
  fingerprint: FingerprintHash;
  status: RunRecord['status'];
  /** Date.now() when the stage began. */
  started: number;
  provenance: RunRecord['provenance'];
  error: string | null;
  /** Where it ran, when not on this machine (a Slurm node). */
  host?: string | undefined;
}

/** The row of `runs` that records one stage's run (or cache hit, or failure) in an invocation. */
export function runRecord(f: RunFacts): RunRecord {
  const backend = f.provenance.backend;
  return {
    invocation: f.invocation,
    stage: f.stage,
    fingerprint: f.fingerprint,
    status: f.status,
    cacheHit: f.status === 'cached',
    started: new Date(f.started),
    seconds: (Date.now() - f.started) / 1000,
    host: f.host ?? hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: typeof backend === 'string' ? backend : null,
    provenance: f.provenance,
    error: f.error,
  };
}

/** A cluster job's identity and outcome, kept with the run record for audits. */
export function jobProvenance(job: JobReport | undefined): RunRecord['provenance'] {
  if (job === undefined) return {};
  return { slurm_job_id: job.id, slurm_state: job.state, slurm_exit_code: job.exitCode, slurm_node: job.node };
}
