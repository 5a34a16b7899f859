import { join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { spawnCommand, type CommandExit, type CommandSettings, type OutputSink } from './spawn-command.ts';
import { lineSplitter, Tail, type StageIO, type StageOutcome } from './stage-outcome.ts';

/** Starts one command line and settles with how it ended: directly (spawnCommand) or through the launcher. */
export type CommandStarter = (
  line: string,
  settings: CommandSettings,
  onOutput: OutputSink,
  signal: AbortSignal,
) => Promise<CommandExit>;

/**
 * Runs a `cmd:` stage: each command line through bash in the project root (or the stage's `cwd`),
 * one after another, stopping at the first failure. Values were shell-quoted when interpolated,
 * so the text is run as it stands. Output goes line by line to the run's log and the failure tail.
 */
export async function runCmdStage(
  spec: StageSpec,
  root: string,
  io: StageIO,
  signal: AbortSignal,
  start: CommandStarter = spawnCommand,
): Promise<StageOutcome> {
  const tail = new Tail();
  for (const line of spec.cmd) {
    if (signal.aborted) return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    const splitters = [1, 2].map(() =>
      lineSplitter((l) => {
        tail.push(l);
        io.log(l);
      }),
    );
    const result = await start(
      line,
      {
        cwd: spec.cwd === undefined ? root : join(root, spec.cwd),
        env: { ...process.env, PIPELINE_STAGE: spec.name },
      },
      (stream, text) => splitters[stream - 1]!.write(text),
      signal,
    );
    for (const s of splitters) s.end();
    if (signal.aborted) {
      return { ok: false, message: 'interrupted', tail: tail.get(), interrupted: true };
    }
    if (result.startError !== undefined)
      return {
        ok: false,
        message: `command could not start (${result.startError}): ${line}`,
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
