/**
 * Crash points for the reliability tests. With PIPELINE_FAULT=point:stage set, the coordinator
 * kills its whole process group (SIGKILL, like `kill -9 -PGID` or a power cut) when it reaches
 * that point for that stage: `commit` is inside the store transaction, after the artifacts are
 * written and before COMMIT; `lockfile` is after the new lockfile is written to its temporary
 * file and before the rename. Random-time kills rarely land in these short windows, so the tests
 * aim at them directly. Unset, this costs one comparison.
 */
const spec = process.env.PIPELINE_FAULT;

export function faultPoint(point: 'commit' | 'lockfile', stage: string): void {
  if (spec === undefined || spec !== `${point}:${stage}`) return;
  process.kill(0, 'SIGKILL');
}
