import type { StageProgress } from '../stage-api.ts';
import type { Reporter, StageReport } from '../run/reporter.ts';

export type LiveStageState = 'running' | 'ran' | 'cached' | 'failed' | 'skipped';

/** One progress report, with the seconds since the stage started. */
export interface ProgressPoint {
  t: number;
  done: number;
  total?: number;
  values?: Record<string, number>;
}

export interface LiveStage {
  state: LiveStageState;
  started: number | null;
  seconds: number | null;
  progress: StageProgress | null;
  /** Where it stands in an outside queue (Slurm), as the reporter was told. */
  queue: string | null;
  /** Every progress report that carried values (the curves), in order. */
  points: ProgressPoint[];
  log: string[];
  error: string | null;
  reasons: string[];
}

export interface LiveSnapshot {
  pid: number;
  started: number;
  /** Bumped by every event, so a page can tell whether anything changed. */
  version: number;
  stages: Record<string, LiveStage>;
}

const LOG_LINES = 200;
const MAX_POINTS = 20_000;

/**
 * What a running repro has told its reporter so far, kept for the read socket and the dashboard:
 * which stages are running (with their progress and the values they report, the training
 * curves), which finished and how, and each one's last log lines.
 */
export class LiveRun implements Reporter {
  private readonly stages = new Map<string, LiveStage>();
  private readonly started = Date.now();
  private version = 0;

  private stage(name: string): LiveStage {
    let s = this.stages.get(name);
    if (s === undefined) {
      s = {
        state: 'running',
        started: null,
        seconds: null,
        progress: null,
        queue: null,
        points: [],
        log: [],
        error: null,
        reasons: [],
      };
      this.stages.set(name, s);
    }
    this.version++;
    return s;
  }

  stageStarted(name: string, reasons: string[]): void {
    const s = this.stage(name);
    Object.assign(s, {
      state: 'running',
      started: Date.now(),
      reasons,
      points: [],
      log: [],
      error: null,
      progress: null,
    });
  }
  stageLog(name: string, line: string): void {
    const s = this.stage(name);
    s.log.push(line);
    if (s.log.length > LOG_LINES) s.log.splice(0, s.log.length - LOG_LINES);
  }
  stageProgress(name: string, progress: StageProgress): void {
    const s = this.stage(name);
    s.progress = progress;
    if (progress.values !== undefined && s.points.length < MAX_POINTS) {
      const t = s.started === null ? 0 : (Date.now() - s.started) / 1000;
      s.points.push({
        t,
        done: progress.done,
        ...(progress.total === undefined ? {} : { total: progress.total }),
        values: progress.values,
      });
    }
  }
  stageState(name: string, state: string): void {
    this.stage(name).queue = state;
  }
  stageFinished(r: StageReport): void {
    if (r.status === 'would-run') return;
    const s = this.stage(r.name);
    s.state = r.status;
    s.seconds = r.seconds;
    s.error = r.error ?? null;
    if (r.reasons.length > 0) s.reasons = r.reasons;
    for (const line of r.tail ?? []) if (!s.log.includes(line)) s.log.push(line);
  }
  close(): void {}

  snapshot(): LiveSnapshot {
    return { pid: process.pid, started: this.started, version: this.version, stages: Object.fromEntries(this.stages) };
  }
}

/** Sends every event to each reporter in turn (the terminal's and the live state). */
export function teeReporter(...reporters: Reporter[]): Reporter {
  return {
    stageStarted: (n, r) => reporters.forEach((x) => x.stageStarted(n, r)),
    stageLog: (n, l) => reporters.forEach((x) => x.stageLog(n, l)),
    stageProgress: (n, p) => reporters.forEach((x) => x.stageProgress(n, p)),
    stageState: (n, s) => reporters.forEach((x) => x.stageState(n, s)),
    stageFinished: (r) => reporters.forEach((x) => x.stageFinished(r)),
    close: () => reporters.forEach((x) => x.close()),
  };
}
