import { EXIT } from './common.ts';

/** An abort signal that the first Ctrl-C (or SIGTERM) trips, and what ends the handling. */
export interface Interrupt {
  signal: AbortSignal;
  /** Removes the signal handlers: call it once the run is over. */
  dispose(): void;
}

/**
 * The first Ctrl-C or SIGTERM asks the running stages to stop (they finish cleanly and what is done
 * stays stored); a second one quits at once. `what` names what is stopped, in the message.
 */
export function onInterrupt(what: string): Interrupt {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\ninterrupted: stopping ${what} (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
