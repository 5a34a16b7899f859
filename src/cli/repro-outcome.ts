import type { Writable } from 'node:stream';
import type { ExecutorKind } from '../run/executor.ts';
import type { StageReport } from '../run/reporter.ts';

/** What `repro` and `status` print at the end: also printed by the no-op's short way, so the two cannot differ. */
export interface Outcome {
  stages: StageReport[];
  executor: ExecutorKind;
  /** Jobs submitted to a cluster in this run. */
  submitted: number;
}

export function summarise(stages: StageReport[]): string {
  const count = (s: StageReport['status']) => stages.filter((r) => r.status === s).length;
  const restored = stages.filter((r) => r.cache === 'store').length;
  const parts = [
    `${count('ran')} ran`,
    `${count('cached')} cached${restored > 0 ? ` (${restored} from the store)` : ''}`,
  ];
  if (count('would-run') > 0) parts.push(`${count('would-run')} would run`);
  if (count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (count('skipped') > 0) parts.push(`${count('skipped')} skipped`);
  return `${stages.length} stages: ${parts.join(', ')}`;
}

/**
 * With `json`, the one JSON object on stdout; else, for `status`, "everything is up to date" when
 * it is, and for `repro` the counts (and the Slurm jobs submitted), on `human`.
 */
export function printOutcome(result: Outcome, o: { json: boolean; status: boolean; human: Writable }): void {
  if (o.json) {
    const stages = result.stages.map((s) => ({
      name: s.name,
      status: s.status,
      fingerprint: s.fingerprint,
      seconds: s.seconds,
      ...(s.reasons.length > 0 ? { reasons: s.reasons } : {}),
      ...(s.cache === undefined ? {} : { cache: s.cache }),
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.job === undefined ? {} : { job: s.job }),
    }));
    process.stdout.write(`${JSON.stringify({ stages, executor: result.executor, submitted: result.submitted })}\n`);
  } else if (o.status) {
    const stale = result.stages.filter((s) => s.status === 'would-run' || s.cache === 'store');
    if (stale.length === 0 && !result.stages.some((s) => s.status === 'failed'))
      o.human.write('everything is up to date\n');
  } else {
    const jobs =
      result.executor === 'slurm'
        ? `; ${result.submitted} Slurm job${result.submitted === 1 ? '' : 's'} submitted`
        : '';
    o.human.write(`${summarise(result.stages)}${jobs}\n`);
  }
}
