import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { stopTree } from './kill-tree.ts';

/** Where and with what environment one command line runs. */
export interface CommandSettings {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** How a command line ended: its exit status, the signal that killed it, or why it never started. */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (a missing cwd, no bash). */
  startError?: string;
}

/** Receives a command's output as text, stream by stream (1: stdout, 2: stderr). */
export type OutputSink = (stream: 1 | 2, text: string) => void;

/**
 * Runs one command line through bash and settles when it has exited and its output is read.
 * On abort, the process and everything it started are stopped (SIGTERM, then SIGKILL). Output
 * is decoded per stream, so a UTF-8 character split across two reads arrives whole.
 */
export function spawnCommand(
  line: string,
  settings: CommandSettings,
  onOutput: OutputSink,
  signal: AbortSignal,
): Promise<CommandExit> {
  const child = spawn('bash', ['-c', line], {
    cwd: settings.cwd,
    env: settings.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = false;
  const onAbort = (): void => {
    if (child.pid !== undefined) stopTree(child.pid, () => exited);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  for (const [stream, readable] of [
    [1, child.stdout],
    [2, child.stderr],
  ] as const) {
    const decoder = new StringDecoder('utf8');
    readable.on('data', (c: Buffer) => {
      const text = decoder.write(c);
      if (text.length > 0) onOutput(stream, text);
    });
    readable.on('end', () => {
      const text = decoder.end();
      if (text.length > 0) onOutput(stream, text);
    });
  }
  return new Promise<CommandExit>((resolve) => {
    const settle = (exit: CommandExit): void => {
      exited = true;
      signal.removeEventListener('abort', onAbort);
      resolve(exit);
    };
    child.once('error', (error) => settle({ code: null, signal: null, startError: error.message }));
    child.once('close', (code, sig) => settle({ code, signal: sig }));
  });
}
