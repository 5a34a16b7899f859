const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type Listener = (...args: unknown[]) => void;

const listenersOf = (event: (typeof EVENTS)[number]): Listener[] =>
  process.listeners(event as 'uncaughtException') as Listener[];

/**
 * Runs `fn`, then removes any `uncaughtException`/`unhandledRejection` listener it added.
 *
 * The wasm backend's Emscripten module installs such listeners when it starts; they rethrow
 * every error from inside the module's one-line minified file, so Node prints the whole module
 * instead of the error, and any unhandled rejection anywhere in the process becomes a crash.
 * They serve Emscripten's own exit handling, which tfjs does not use, so Node's reporting is kept.
 */
export async function withoutNewErrorHandlers<T>(fn: () => Promise<T>): Promise<T> {
  const before = new Map(EVENTS.map((e) => [e, new Set(listenersOf(e))]));
  try {
    return await fn();
  } finally {
    for (const event of EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}
