import assert from 'node:assert/strict';
import type { reproJson } from './project.ts';

type ReproRun = Awaited<ReturnType<typeof reproJson>>;

/** Asserts that a `repro --json` run exited 1 with these stage statuses and a stderr matching each pattern. */
export function assertFailedRun(run: ReproRun, statuses: Record<string, string>, stderr: readonly RegExp[]): void {
  assert.equal(run.result.code, 1);
  for (const [stage, status] of Object.entries(statuses)) assert.equal(run.status[stage], status, stage);
  for (const pattern of stderr) assert.match(run.result.stderr, pattern);
}
