import { join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { stopTree } from './kill-tree.ts';
import { forwardOutput, Tail, type StageIO, type StageOutcome } from './stage-outcome.ts';

/**
 * Runs a `cmd:` stage: each command line through bash in the project root (or the stage's `cwd`),
 * one after another,
 * stopping at the first failure. Values were shell-quoted when interpolated, so the text is run
 * as it stands.
 */
export async function runCmdStage(spec: StageSpec, root: string, io: StageIO, signal: AbortSignal): Promise<StageOutcome> {
  const { execa } = await import('execa');
  const tail = new Tail();
  for (const line of spec.cmd) {
    if (signal.aborted) return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    const child = execa('bash', ['-c', line], {
      cwd: spec.cwd === undefined ? root : join(root, spec.cwd),
      reject: false,
      stdin: 'ignore',
      env: { PIPELINE_STAGE: spec.name },
      buffer: false,
    });
    let exited = false;
    const onAbort = (): void => {
      if (child.pid !== undefined) stopTree(child.pid, () => exited);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    forwardOutput([child.stdout, child.stderr], tail, io);
    const result = await child;
    exited = true;
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) {
      return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    }
    if (result.failed) {
      const how = result.signal !== undefined ? `was killed by ${result.signal}` : `exited with code ${String(result.exitCode)}`;
      return { ok: false, message: `command ${how}: ${line}`, tail: tail.get(), interrupted: false };
    }
  }
  return { ok: true, outputs: {}, provenance: {} };
}
