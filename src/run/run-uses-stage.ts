import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonValue } from '../fingerprint/canonical-json.ts';
import type { ContentHash } from '../fingerprint/hash-types.ts';
import type { StageOutputs } from '../stage-api.ts';
import { stopTree } from './kill-tree.ts';
import { forwardOutput, Tail, type StageIO, type StageOutcome } from './stage-outcome.ts';
import type { FromWorker, ReadKind, ToWorker, WorkerStart } from './worker-protocol.ts';

/** Reads an artifact from the store for a worker that asked for one. */
export type ArtifactReader = (kind: ReadKind, hash: ContentHash) => Promise<unknown>;

const ownExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER = fileURLToPath(new URL(`./stage-worker${ownExtension}`, import.meta.url));
// tsx lets the worker import TypeScript stage modules; resolved from here, not from the user's
// project, which need not have tsx installed.
const TSX = import.meta.resolve('tsx');

/**
 * Runs a `uses:` stage in a child process and serves its reads of upstream artifacts. The child
 * shares the coordinator's process group, so a signal to the group (Ctrl-C, or a SIGKILL of the
 * whole run) reaches it too; an abort stops it and everything it started.
 */
export function runUsesStage(
  start: Omit<WorkerStart, 'type'>,
  io: StageIO,
  read: ArtifactReader,
  signal: AbortSignal,
): Promise<StageOutcome> {
  return new Promise((done) => {
    const tail = new Tail();
    const provenance: Record<string, JsonValue> = {};
    let outputs: StageOutputs | undefined;
    let failure: string | undefined;
    const child = fork(WORKER, [], {
      cwd: start.root,
      execArgv: ['--import', TSX, '--enable-source-maps'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, PIPELINE_STAGE: start.name },
    });
    forwardOutput([child.stdout, child.stderr], tail, io);
    const post = (msg: ToWorker): void => {
      if (child.connected) child.send(msg);
    };
    child.on('message', (msg: FromWorker) => {
      switch (msg.type) {
        case 'log':
          tail.push(msg.message);
          io.log(msg.message);
          break;
        case 'progress':
          io.progress(msg.progress);
          break;
        case 'provenance':
          provenance[msg.key] = msg.value;
          break;
        case 'read':
          read(msg.kind, msg.hash).then(
            (value) => post({ type: 'read-result', id: msg.id, value: value as never }),
            (e: unknown) =>
              post({ type: 'read-error', id: msg.id, message: e instanceof Error ? e.message : String(e) }),
          );
          break;
        case 'result':
          outputs = msg.outputs;
          break;
        case 'error':
          failure = msg.message;
          if (msg.stack !== undefined) for (const l of msg.stack.split('\n').slice(1, 6)) tail.push(l);
          break;
      }
    });
    let exited = false;
    const onAbort = (): void => {
      post({ type: 'abort' });
      if (child.pid !== undefined) stopTree(child.pid, () => exited);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      failure ??= `could not start the stage process: ${e.message}`;
    });
    child.on('exit', (code, sig) => {
      exited = true;
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) done({ ok: false, message: 'interrupted', tail: tail.get(), interrupted: true });
      else if (outputs !== undefined && code === 0) done({ ok: true, outputs, provenance });
      else {
        const how =
          failure ??
          (sig !== null ? `stage process was killed by ${sig}` : `stage process exited with code ${String(code)}`);
        done({ ok: false, message: how, tail: tail.get(), interrupted: false });
      }
    });
    post({ type: 'start', ...start, module: resolve(start.root, start.module) });
  });
}
