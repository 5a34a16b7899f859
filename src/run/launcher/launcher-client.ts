import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CommandExit, CommandSettings, OutputSink } from '../spawn-command.ts';
import type { FromLauncher, ToLauncher } from './launch-protocol.ts';

const ownExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const ENTRY = fileURLToPath(new URL(`./launcher-process${ownExtension}`, import.meta.url));
// Run from the sources (the tests), the launcher is TypeScript too; built, it is plain Node.
const EXEC_ARGV = ownExtension === '.ts' ? ['--import', import.meta.resolve('tsx')] : [];

interface Running {
  onOutput: OutputSink;
  resolve: (exit: CommandExit) => void;
}

/**
 * The coordinator's side of the command launcher (launcher-process.ts): starts command lines
 * there instead of forking the coordinator itself, with the same settings, output and exit
 * status as a direct start. The launcher is started on first use, and again should it die;
 * commands it was running when it died end as failed to start, with what it printed.
 */
export class LauncherClient {
  private child: ChildProcess | undefined;
  private readonly running = new Map<number, Running>();
  private nextId = 0;
  private stderr = '';

  run(line: string, settings: CommandSettings, onOutput: OutputSink, signal: AbortSignal): Promise<CommandExit> {
    const child = this.launcher();
    const id = this.nextId++;
    return new Promise<CommandExit>((resolve) => {
      const onAbort = (): void => this.post(child, { type: 'stop', id });
      signal.addEventListener('abort', onAbort, { once: true });
      this.running.set(id, {
        onOutput,
        resolve: (exit) => {
          signal.removeEventListener('abort', onAbort);
          resolve(exit);
        },
      });
      // While a command runs the launcher keeps the coordinator alive, as a child's pipes would;
      // the process too, not only the channel, so that its death is seen and reported.
      child.ref();
      child.channel?.ref();
      this.post(child, { type: 'start', id, line, settings });
    });
  }

  /** Lets the launcher go; it exits once the channel closes. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Held until it has exited, so a run that awaits this is not cut short by an empty event loop.
    child.ref();
    if (child.connected) child.disconnect();
    await exited;
  }

  private post(child: ChildProcess, msg: ToLauncher): void {
    if (child.connected) child.send(msg);
  }

  private launcher(): ChildProcess {
    if (this.child !== undefined) return this.child;
    const child = fork(ENTRY, [], {
      execArgv: EXEC_ARGV,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-2000);
    });
    (child.stderr as Socket | null)?.unref();
    child.on('message', (msg: FromLauncher) => {
      const r = this.running.get(msg.id);
      if (r === undefined) return;
      if (msg.type === 'output') r.onOutput(msg.stream, msg.text);
      else {
        this.running.delete(msg.id);
        if (this.running.size === 0) {
          child.unref();
          child.channel?.unref();
        }
        r.resolve(msg.exit);
      }
    });
    child.on('exit', (code, sig) => {
      if (this.child === child) this.child = undefined;
      const why = `the command launcher exited (${sig ?? `code ${String(code)}`})${this.stderr === '' ? '' : `: ${this.stderr.trim()}`}`;
      for (const r of this.running.values()) r.resolve({ code: null, signal: null, startError: why });
      this.running.clear();
    });
    child.on('error', () => undefined);
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}
