import { isFinal, squeue, type JobStatus } from './slurm-commands.ts';

interface Watch {
  onPoll: (status: JobStatus) => void;
  done: (status: JobStatus) => void;
}

/** How long squeue may keep failing before the jobs it cannot see are given up on. */
const GIVE_UP_AFTER_MS = 5 * 60_000;

/**
 * Follows every job of a run with one squeue call per interval, however many are in flight
 * (one call per job would load slurmctld in proportion to -j). `sbatch --wait` is not used: it
 * backs off to polling every 32 s, far too slow for short stages, and needs a process per job.
 */
export class JobPoller {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private failingSince: number | undefined;
  private stopped = false;

  constructor(private readonly intervalMs: number) {}

  /**
   * Resolves with the job's final status. `onPoll` sees every status read for it, the final one
   * included, so the caller can show state changes and follow the job's log as it grows.
   */
  watch(id: string, onPoll: (status: JobStatus) => void): Promise<JobStatus> {
    return new Promise((done) => {
      this.watches.set(id, { onPoll, done });
      this.schedule(0);
    });
  }

  /** Polls at once instead of at the next interval (after scancel, to see the jobs go). */
  nudge(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer !== undefined || this.polling || this.watches.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, delay);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    const ids = [...this.watches.keys()];
    try {
      const states = await squeue(ids);
      this.failingSince = undefined;
      for (const id of ids) {
        const w = this.watches.get(id);
        if (w === undefined) continue;
        // Not in squeue's answer: slurmctld has already forgotten the job. The caller asks
        // scontrol and sacct, and reads the job's manifest, to learn how it ended.
        const status = states.get(id) ?? { id, state: 'UNKNOWN', reason: 'no longer known to slurmctld', node: null };
        w.onPoll(status);
        if (isFinal(status.state)) {
          this.watches.delete(id);
          w.done(status);
        }
      }
    } catch (e) {
      this.failingSince ??= Date.now();
      if (Date.now() - this.failingSince > GIVE_UP_AFTER_MS) {
        for (const [id, w] of this.watches) {
          this.watches.delete(id);
          w.done({
            id,
            state: 'UNKNOWN',
            reason: `squeue failed for ${GIVE_UP_AFTER_MS / 60_000} minutes: ${(e as Error).message}`,
            node: null,
          });
        }
      }
    } finally {
      this.polling = false;
      this.schedule(this.intervalMs);
    }
  }

  /** No more polls; jobs still watched are left to the caller (close() cancels them). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
