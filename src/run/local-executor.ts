import { workerStart, type ExecutorIO, type StageExecutor, type StageTask } from './executor.ts';
import { runCmdStage } from './run-cmd-stage.ts';
import { runUsesStage } from './run-uses-stage.ts';
import type { StageOutcome } from './stage-outcome.ts';

/**
 * Runs stages on this machine: `cmd:` stages through bash, `uses:` stages in a worker process
 * whose reads of upstream artifacts are served from the store over IPC. A stage's `timeout:` is
 * enforced here. `pipeline run-stage` uses this executor too, inside a Slurm job.
 */
export class LocalExecutor implements StageExecutor {
  readonly kind = 'local' as const;
  readonly submitted = 0;

  async run(task: StageTask, io: ExecutorIO, runSignal: AbortSignal): Promise<StageOutcome> {
    const { spec } = task.node;
    // The run's signal (Ctrl-C) or the stage's own timeout, whichever comes first.
    const signal =
      spec.timeoutMs === undefined ? runSignal : AbortSignal.any([runSignal, AbortSignal.timeout(spec.timeoutMs)]);
    const started = Date.now();
    const outcome =
      spec.kind === 'cmd'
        ? await runCmdStage(spec, task.root, io, signal)
        : await runUsesStage(workerStart(task), io, task.read, signal);
    if (!outcome.ok && outcome.interrupted && !runSignal.aborted) {
      const seconds = (Date.now() - started) / 1000;
      return {
        ...outcome,
        interrupted: false,
        message: `timed out after ${seconds.toFixed(1)}s (timeout: ${spec.timeoutMs! / 1000}s); the stage and its child processes were stopped`,
      };
    }
    return outcome;
  }

  async close(): Promise<void> {}
}
