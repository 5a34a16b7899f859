import treeKill from 'tree-kill';

/** Grace period between asking a stage to stop and killing it. */
export const KILL_AFTER_MS = 3000;

function signalTree(pid: number, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => treeKill(pid, signal, () => resolve()));
}

/**
 * Stops a stage process and everything it started: a shell's children, a tool's workers.
 * Signalling only the direct child would leave grandchildren running (bash does not pass
 * SIGTERM on to a pipeline it is waiting for). SIGTERM first so a stage can clean up, then
 * SIGKILL for whatever is left after the grace period.
 */
export function stopTree(pid: number, hasExited: () => boolean): void {
  void signalTree(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited()) void signalTree(pid, 'SIGKILL');
  }, KILL_AFTER_MS);
  timer.unref();
}
