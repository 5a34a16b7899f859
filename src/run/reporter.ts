import type { Writable } from 'node:stream';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import type { StageProgress } from '../stage-api.ts';
import type { JobReport } from './stage-outcome.ts';

export type StageStatus = 'ran' | 'cached' | 'failed' | 'skipped' | 'would-run';

export interface StageReport {
  name: string;
  status: StageStatus;
  fingerprint: FingerprintHash | null;
  seconds: number;
  /** Why it ran (or would run), or why it was skipped. */
  reasons: string[];
  /** How a cached stage was satisfied: already in the work tree, or brought back from the store. */
  cache?: 'lockfile' | 'store' | 'dvc.lock';
  /** Decided but not done (`repro --dry`, `status`): a `cached` stage would be restored from the store. */
  planned?: boolean;
  /** `verify --rerun`: whether the rerun reproduced the recorded outputs bit for bit. */
  verdict?: 'reproduced' | 'differs';
  error?: string;
  tail?: string[];
  /** The cluster job that ran it (Slurm executor). */
  job?: JobReport;
}

/** What the scheduler tells the user while it works. */
export interface Reporter {
  stageStarted(name: string, reasons: string[]): void;
  stageLog(name: string, line: string): void;
  stageProgress(name: string, progress: StageProgress): void;
  /** Where a running stage stands in an outside queue: `Slurm job 812 PENDING (Priority)`, `Slurm job 812 RUNNING on gpu03`. */
  stageState(name: string, state: string): void;
  stageFinished(report: StageReport): void;
  close(): void;
}

function finishedLine(r: StageReport): string[] {
  const lines: string[] = [];
  switch (r.status) {
    case 'ran':
      if (r.verdict !== undefined) {
        lines.push(`${r.verdict === 'reproduced' ? '✓' : '≠'} ${r.verdict} ${r.name} (${r.seconds.toFixed(1)}s)`);
        break;
      }
      lines.push(
        `✓ ran ${r.name} (${r.seconds.toFixed(1)}s${r.job === undefined ? '' : `, Slurm job ${r.job.id}${r.job.node === null ? '' : ` on ${r.job.node}`}`})`,
      );
      break;
    case 'cached':
      if (r.cache === 'store' && r.planned)
        lines.push(`would restore ${r.name} from the store: ${r.reasons.join('; ') || 'cached'}`);
      else if (r.cache === 'store')
        lines.push(`↺ ${r.name}: restored from the store (${r.reasons.join('; ') || 'cached'})`);
      if (r.cache === 'dvc.lock') lines.push(`↺ ${r.name}: adopted from dvc.lock (its outputs in the work tree match)`);
      break;
    case 'would-run':
      lines.push(`would run ${r.name}: ${r.reasons.join('; ')}`);
      break;
    case 'skipped':
      lines.push(`- skipped ${r.name}: ${r.reasons.join('; ')}`);
      break;
    case 'failed':
      lines.push(`✗ ${r.name} failed: ${r.error ?? 'unknown error'}`);
      for (const t of r.tail ?? []) lines.push(`    ${t}`);
      break;
  }
  return lines;
}

function progressText(p: StageProgress | undefined): string {
  if (p === undefined) return '';
  const count = p.total === undefined ? `${p.done}` : `${p.done}/${p.total}`;
  return ` ${count}${p.note === undefined ? '' : ` ${p.note}`}`;
}

/** Line-per-event output for logs and pipes. */
export class PlainReporter implements Reporter {
  constructor(
    private readonly out: Writable,
    private readonly verbose = true,
  ) {}
  stageStarted(name: string, reasons: string[]): void {
    this.out.write(`▶ running ${name}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}\n`);
  }
  stageLog(name: string, line: string): void {
    if (this.verbose) this.out.write(`  ${name} | ${line}\n`);
  }
  stageProgress(): void {}
  stageState(name: string, state: string): void {
    this.out.write(`◦ ${name}: ${state}\n`);
  }
  stageFinished(r: StageReport): void {
    for (const l of finishedLine(r)) this.out.write(`${l}\n`);
  }
  close(): void {}
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A live line per running stage (elapsed time and its own progress), finished stages above. */
export class LiveReporter implements Reporter {
  private readonly running = new Map<string, { started: number; progress?: StageProgress; state?: string }>();
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private update: ((text: string) => void) & { clear(): void; done(): void } = Object.assign(() => {}, {
    clear() {},
    done() {},
  });

  private constructor(private readonly out: NodeJS.WriteStream) {}

  static async create(out: NodeJS.WriteStream): Promise<LiveReporter> {
    const r = new LiveReporter(out);
    const { createLogUpdate } = await import('log-update');
    r.update = createLogUpdate(out);
    return r;
  }

  private render(): void {
    const now = Date.now();
    const s = SPINNER[this.frame++ % SPINNER.length] ?? '*';
    const lines = [...this.running].map(
      ([name, r]) =>
        `${s} ${name} ${((now - r.started) / 1000).toFixed(0)}s${r.state === undefined ? '' : ` [${r.state}]`}${progressText(r.progress)}`,
    );
    this.update(lines.join('\n'));
  }

  private print(lines: string[]): void {
    if (lines.length === 0) return;
    this.update.clear();
    this.out.write(`${lines.join('\n')}\n`);
    this.render();
  }

  stageStarted(name: string): void {
    this.running.set(name, { started: Date.now() });
    this.timer ??= setInterval(() => this.render(), 100).unref();
    this.render();
  }
  stageLog(): void {}
  stageProgress(name: string, progress: StageProgress): void {
    const r = this.running.get(name);
    if (r !== undefined) r.progress = progress;
  }
  stageState(name: string, state: string): void {
    const r = this.running.get(name);
    if (r !== undefined) r.state = state;
  }
  stageFinished(report: StageReport): void {
    this.running.delete(report.name);
    this.print(finishedLine(report));
  }
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.update.clear();
    this.update.done();
  }
}
