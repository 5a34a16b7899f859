import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { stopTree } from './kill-tree.ts';
import { forwardOutput, Tail, type StageIO, type StageOutcome } from './stage-outcome.ts';

/**
 * Runs a `cmd:` stage: each command line through bash in the project root (or the stage's `cwd`),
 * one after another,
 * stopping at the first failure. Values were shell-quoted when interpolated, so the text is run
 * as it stands. Node's own spawn rather than execa: starting the process is most of what a
 * trivial stage costs the coordinator, and execa's wrapping about doubled it (measured on the
 * 1000-stage bench); stopping the tree is ours either way.
 */
export async function runCmdStage(
  spec: StageSpec,
  root: string,
  io: StageIO,
  signal: AbortSignal,
): Promise<StageOutcome> {
  const tail = new Tail();
  for (const line of spec.cmd) {
    if (signal.aborted) return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    const child = spawn('bash', ['-c', line], {
      cwd: spec.cwd === undefined ? root : join(root, spec.cwd),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIPELINE_STAGE: spec.name },
    });
    let exited = false;
    const onAbort = (): void => {
      if (child.pid !== undefined) stopTree(child.pid, () => exited);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    forwardOutput([child.stdout, child.stderr], tail, io);
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('close', (code, sig) => resolve({ code, signal: sig }));
      },
    );
    exited = true;
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) {
      return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    }
    if (result.error !== undefined)
      return {
        ok: false,
        message: `command could not start (${result.error.message}): ${line}`,
        tail: tail.get(),
        interrupted: false,
      };
    if (result.code !== 0) {
      const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with code ${String(result.code)}`;
      return { ok: false, message: `command ${how}: ${line}`, tail: tail.get(), interrupted: false };
    }
  }
  return { ok: true, outputs: {}, provenance: {} };
}
