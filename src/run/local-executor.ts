import { workerStart, type ExecutorIO, type StageExecutor, type StageTask } from './executor.ts';
import { LauncherClient } from './launcher/launcher-client.ts';
import { runCmdStage, type CommandStarter } from './run-cmd-stage.ts';
import { runUsesStage } from './run-uses-stage.ts';
import { spawnCommand } from './spawn-command.ts';
import type { StageOutcome } from './stage-outcome.ts';

/**
 * Runs stages on this machine: `cmd:` stages through bash, `uses:` stages in a worker process
 * whose reads of upstream artifacts are served from the store over IPC. A stage's `timeout:` is
 * enforced here. `pipeline run-stage` uses this executor too, inside a Slurm job.
 *
 * With `launcher`, `cmd:` lines are started by a small long-lived launcher process instead of
 * by this one: a run of many short stages spends most of its time starting them, and a start
 * (a fork) from the coordinator, large with DuckDB loaded, costs several times as much. A
 * single-stage use (a Slurm job) starts its one command directly.
 */
export class LocalExecutor implements StageExecutor {
  readonly kind = 'local' as const;
  readonly submitted = 0;
  private readonly launcher: LauncherClient | undefined;
  private readonly start: CommandStarter;

  constructor(opts: { launcher?: boolean } = {}) {
    const launcher = opts.launcher === true ? new LauncherClient() : undefined;
    this.launcher = launcher;
    this.start = launcher === undefined ? spawnCommand : (...args) => launcher.run(...args);
  }

  async run(task: StageTask, io: ExecutorIO, runSignal: AbortSignal): Promise<StageOutcome> {
    const { spec } = task.node;
    // The run's signal (Ctrl-C) or the stage's own timeout, whichever comes first.
    const signal =
      spec.timeoutMs === undefined ? runSignal : AbortSignal.any([runSignal, AbortSignal.timeout(spec.timeoutMs)]);
    const started = Date.now();
    const outcome =
      spec.kind === 'cmd'
        ? await runCmdStage(spec, task.root, io, signal, this.start)
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

  async close(): Promise<void> {
    await this.launcher?.close();
  }
}
