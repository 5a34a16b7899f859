import { asFingerprintHash } from '../fingerprint/hash-types.ts';
import { resolve } from 'node:path';
import { runStageJob } from '../run/slurm/run-stage-job.ts';

export interface RunStageCliOptions {
  fingerprint: string;
  out: string;
}

/**
 * `pipeline run-stage STAGE --fingerprint F --out DIR`: what a Slurm job runs. Slurm stops a
 * job with SIGTERM (scancel, the time limit) and SIGKILL after KillWait, so SIGTERM stops the
 * stage and its children at once, and the manifest says it was interrupted.
 */
export async function runStageCommand(
  root: string,
  stage: string,
  o: RunStageCliOptions,
  profile: string | undefined,
): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    return await runStageJob({
      root,
      stage,
      fingerprint: asFingerprintHash(o.fingerprint),
      outDir: resolve(o.out),
      signal: controller.signal,
      out: process.stdout,
      ...(profile === undefined ? {} : { profile }),
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
