import type { SlurmSettings } from '../config/schema.ts';
import type { ExecutorKind, StageExecutor } from './executor.ts';
import { LocalExecutor } from './local-executor.ts';

export interface ExecutorOptions {
  kind: ExecutorKind;
  /** The project root the executor's jobs run in. */
  root: string;
  /** pipeline.yaml's `executor.slurm` block. */
  slurm: SlurmSettings | undefined;
  /** Names the run's staging directory (Slurm). */
  runId: string;
  signal: AbortSignal;
  profile: string | undefined;
}

/** Which executor a run uses: `--executor`, else Slurm when pipeline.yaml declares it, else this machine. */
export function executorKind(chosen: ExecutorKind | undefined, slurm: SlurmSettings | undefined): ExecutorKind {
  return chosen ?? (slurm !== undefined ? 'slurm' : 'local');
}

/** `-j`, else with Slurm `executor.slurm.jobs`, else 1. */
export function jobSlots(jobs: number | undefined, kind: ExecutorKind, slurm: SlurmSettings | undefined): number {
  return jobs ?? (kind === 'slurm' ? slurm?.jobs : undefined) ?? 1;
}

/**
 * The run's executor, made when the first stage must run, so a run of cache hits never loads
 * the Slurm code or asks the cluster anything. `repro` and `verify --rerun` both get theirs here.
 */
export class ExecutorHandle {
  private executor: Promise<StageExecutor> | undefined;
  private made: StageExecutor | undefined;

  constructor(private readonly o: ExecutorOptions) {}

  get kind(): ExecutorKind {
    return this.o.kind;
  }

  get(): Promise<StageExecutor> {
    this.executor ??= (async () => {
      if (this.o.kind === 'local') return (this.made = new LocalExecutor({ launcher: true }));
      const { SlurmExecutor } = await import('./slurm/slurm-executor.ts');
      return (this.made = new SlurmExecutor({
        root: this.o.root,
        settings: this.o.slurm ?? {},
        runId: this.o.runId,
        signal: this.o.signal,
        ...(this.o.profile === undefined ? {} : { profile: this.o.profile }),
      }));
    })();
    return this.executor;
  }

  /** Jobs handed to an outside scheduler (0 when nothing ran, or locally). */
  get submitted(): number {
    return this.made?.submitted ?? 0;
  }

  async close(): Promise<void> {
    await this.made?.close();
  }
}
