import { Semaphore } from './semaphore.ts';

/** How a stage ended, as the stages that depend on it see it. */
export type Settled<T> =
  | { ok: true; value: T }
  /** `failed` stops the run (without --keep-going); `skipped` and `would-run` only block dependents. */
  | { ok: false; kind: 'failed' | 'skipped' | 'would-run'; reason: string };

/** What the scheduler hands a stage's handler once every upstream stage succeeded. */
export interface Visit<T> {
  /** Each upstream stage's value. */
  upstream: ReadonlyMap<string, T>;
  /**
   * Waits for one of the `-j` slots; the returned function frees it. Undefined when the run began
   * stopping (Ctrl-C, or a failure without --keep-going) while it waited.
   */
  slot(): Promise<(() => void) | undefined>;
  /** Whether the run is stopping: a stage that has not started should not start. */
  readonly stopping: boolean;
}

/** One kind of run over the stage graph: `repro` (and its dry run) or `verify --rerun`. */
export interface StageHandler<T> {
  /** Decides what to do with a stage and does it. */
  visit(name: string, v: Visit<T>): Promise<Settled<T>>;
  /** A stage not selected but depended on (`--downstream`): its recorded result, without running it. */
  outside(name: string): Settled<T>;
  /** An upstream stage did not succeed, so this one is not visited: report it, say how it settles. */
  blocked(name: string, upstream: string, why: Extract<Settled<T>, { ok: false }>): Settled<T>;
  /**
   * An exception escaped `visit`: the engine failed while handling this stage (a store lookup,
   * restoring a file, a bug). Report it as this stage's failure; the run goes on around it.
   */
  crashed(name: string, error: unknown): Promise<Settled<T>>;
}

export interface SchedulerOptions {
  /** Stages running at once (`-j`). */
  jobs: number;
  /** Keep starting independent stages after one fails. */
  keepGoing: boolean;
  /** Ctrl-C: no new stage starts; running ones are stopped by their executor. */
  signal: AbortSignal;
}

/**
 * Walks the stage graph, dependencies first and as many at once as their dependencies allow,
 * with at most `jobs` stages holding a slot. Every stage has one failure boundary: whatever its
 * handler throws becomes that stage's failure, never a rejection of the run, so `run` returns
 * only when every stage it started has settled, and what the run holds (the store, the
 * executor) can be closed safely after it.
 */
export class Scheduler<T> {
  private readonly settled = new Map<string, Promise<Settled<T>>>();
  private readonly slots: Semaphore;
  private stop = false;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly handler: StageHandler<T>,
  ) {
    this.slots = new Semaphore(opts.jobs);
    if (opts.signal.aborted) this.stop = true;
    opts.signal.addEventListener('abort', () => (this.stop = true), { once: true });
  }

  get stopping(): boolean {
    return this.stop;
  }

  /** Starts no more stages; running ones finish. For a failure of the run as a whole. */
  halt(): void {
    this.stop = true;
  }

  /**
   * Settles every stage of `selected` (and whatever they depend on, outside the selection, as
   * recorded). `upstreamOf` names the stages each must wait for.
   */
  async run(
    selected: readonly string[],
    upstreamOf: (name: string) => readonly string[],
  ): Promise<Map<string, Settled<T>>> {
    const chosen = new Set(selected);
    const settle = (name: string): Promise<Settled<T>> => {
      let p = this.settled.get(name);
      if (p === undefined) {
        p = chosen.has(name)
          ? this.guarded(name, () => this.process(name, upstreamOf(name), settle))
          : this.guarded(name, async () => this.handler.outside(name));
        this.settled.set(name, p);
      }
      return p;
    };
    const results = await Promise.all(selected.map(async (n) => [n, await settle(n)] as const));
    return new Map(results);
  }

  private async process(
    name: string,
    upstream: readonly string[],
    settle: (n: string) => Promise<Settled<T>>,
  ): Promise<Settled<T>> {
    const values = new Map<string, T>();
    for (const u of upstream) {
      const s = await settle(u);
      if (!s.ok) return this.handler.blocked(name, u, s);
      values.set(u, s.value);
    }
    const slot = async (): Promise<(() => void) | undefined> => {
      if (this.stop) return undefined;
      const release = await this.slots.acquire();
      if (!this.stop) return release;
      release();
      return undefined;
    };
    // A getter, so a handler that checks late sees the run's current state.
    const isStopping = (): boolean => this.stop;
    return this.handler.visit(name, {
      upstream: values,
      slot,
      get stopping() {
        return isStopping();
      },
    });
  }

  /** The failure boundary: a throw becomes the stage's failure, and a failure may stop the run. */
  private async guarded(name: string, fn: () => Promise<Settled<T>>): Promise<Settled<T>> {
    let s: Settled<T>;
    try {
      s = await fn();
    } catch (e) {
      try {
        s = await this.handler.crashed(name, e);
      } catch {
        s = { ok: false, kind: 'failed', reason: `${name} failed` };
      }
    }
    if (!s.ok && s.kind === 'failed' && !this.opts.keepGoing) this.stop = true;
    return s;
  }
}
