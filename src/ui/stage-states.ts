import type { PipelineGraph } from '../graph/build.ts';
import type { LiveSnapshot, LiveStage } from '../live/live-run.ts';
import type { Lockfile } from '../store/lockfile.ts';
import { latestRuns } from '../store/run-queries.ts';
import type { StoreReads } from '../store/store-reads.ts';

export type UiState = 'waiting' | 'running' | 'ran' | 'cached' | 'failed' | 'skipped' | 'recorded' | 'not run';

export interface UiStage {
  name: string;
  group: string;
  upstream: string[];
  state: UiState;
  /** `12/40 loss 0.41` for a running stage. */
  progress: string | null;
  seconds: number | null;
  error: string | null;
}

export interface UiSnapshot {
  /** True while a repro runs and answers through its read socket. */
  running: boolean;
  version: number;
  stages: UiStage[];
}

function progressText(s: LiveStage): string | null {
  const p = s.progress;
  if (p === null) return s.queue;
  const count = p.total === undefined ? `${p.done}` : `${p.done}/${p.total}`;
  return `${count}${p.note === undefined ? '' : ` ${p.note}`}`;
}

/**
 * Each stage's state for the dashboard. During a run it is what the run's reporter was told
 * (stages it has not reached are waiting); otherwise the last stored run of the stage, or
 * `recorded` for a lockfile entry the store has no run for.
 */
export async function stageStates(
  graph: PipelineGraph,
  lock: Lockfile,
  store: StoreReads | undefined,
  live: LiveSnapshot | null,
): Promise<UiSnapshot> {
  const last = live === null && store !== undefined ? await latestRuns(store) : new Map<string, never>();
  const stages = graph.order.map((name): UiStage => {
    const node = graph.stages.get(name)!;
    const base = { name, group: node.spec.group, upstream: node.upstream };
    if (live !== null) {
      const s = live.stages[name];
      if (s === undefined) return { ...base, state: 'waiting', progress: null, seconds: null, error: null };
      const seconds = s.state === 'running' && s.started !== null ? (Date.now() - s.started) / 1000 : s.seconds;
      return {
        ...base,
        state: s.state,
        progress: s.state === 'running' ? progressText(s) : null,
        seconds,
        error: s.error,
      };
    }
    const r = last.get(name);
    if (r !== undefined)
      return { ...base, state: r.status as UiState, progress: null, seconds: r.seconds, error: r.error };
    return {
      ...base,
      state: lock.stages[name] === undefined ? 'not run' : 'recorded',
      progress: null,
      seconds: null,
      error: null,
    };
  });
  return { running: live !== null, version: live?.version ?? 0, stages };
}
