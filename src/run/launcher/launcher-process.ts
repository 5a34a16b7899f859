/**
 * Entry point of the command launcher: a small long-lived Node process that starts a run's
 * `cmd:` lines for the coordinator. Starting a process forks its parent, and the cost of a fork
 * grows with the parent's memory: from the coordinator, with DuckDB and the graph loaded, a
 * trivial stage cost several times what it costs from a process this size. It loads nothing but
 * Node's own modules and the process-tree stop, so it stays small.
 *
 * It lives in the coordinator's process group, as the commands do, so a Ctrl-C or a SIGKILL of
 * the group reaches it and them alike; a SIGINT is left to the coordinator to act on (it stops
 * the commands it wants stopped), so that the launcher is still there to report how they ended.
 */
import { spawnCommand } from '../spawn-command.ts';
import type { FromLauncher, ToLauncher } from './launch-protocol.ts';

const running = new Map<number, { abort: AbortController; done: Promise<void> }>();

function send(msg: FromLauncher): void {
  if (process.connected) process.send?.(msg);
}

process.on('SIGINT', () => undefined);

process.on('message', (msg: ToLauncher) => {
  if (msg.type === 'stop') {
    running.get(msg.id)?.abort.abort();
    return;
  }
  const abort = new AbortController();
  const done = spawnCommand(
    msg.line,
    msg.settings,
    (stream, text) => send({ type: 'output', id: msg.id, stream, text }),
    abort.signal,
  ).then((exit) => {
    running.delete(msg.id);
    send({ type: 'exit', id: msg.id, exit });
  });
  running.set(msg.id, { abort, done });
});

// The coordinator is gone (it finished, or died even by SIGKILL): nobody is left to take the
// results, so stop whatever still runs, and leave once it has.
process.on('disconnect', () => {
  const left = [...running.values()];
  for (const r of left) r.abort.abort();
  void Promise.all(left.map((r) => r.done)).then(() => process.exit(0));
});
