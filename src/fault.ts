/**
 * Fault points for the reliability tests, set with PIPELINE_FAULT=point:stage. Unset, each
 * costs one comparison.
 *
 * Crash points: the coordinator kills its whole process group (SIGKILL, like `kill -9 -PGID` or
 * a power cut) when it reaches the point for that stage: `commit` is inside the store
 * transaction, after the artifacts are written and before COMMIT; `lockfile` is after the new
 * lockfile is written to its temporary file and before the rename. Random-time kills rarely
 * land in these short windows, so the tests aim at them directly.
 *
 * Throw points (`throw-lookup`): the engine throws an unexpected error there, as a bug would,
 * so a test can check that it becomes a failure of that stage alone.
 */
const spec = process.env.PIPELINE_FAULT;

export function faultPoint(point: 'commit' | 'lockfile', stages: string | readonly string[]): void {
  if (spec === undefined) return;
  for (const stage of typeof stages === 'string' ? [stages] : stages) {
    if (spec === `${point}:${stage}`) process.kill(0, 'SIGKILL');
  }
}

export function faultThrow(point: 'lookup', stage: string): void {
  if (spec !== undefined && spec === `throw-${point}:${stage}`)
    throw new Error(`injected fault: ${point} of ${stage} threw`);
}
