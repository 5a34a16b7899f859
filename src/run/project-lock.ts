import { hostname } from 'node:os';
// Synchronous calls: each takes microseconds, where an asynchronous one is a round trip through
// the thread pool that a loaded machine can stretch to milliseconds, on every command's start.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.ts';

interface Holder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export class LockHeldError extends UserError {
  constructor(
    readonly holder: Holder,
    path: string,
  ) {
    super(
      `another pipeline process (pid ${holder.pid} on ${holder.host}, started ${holder.started}: ${holder.command}) holds ${path}; wait for it, or pass --wait`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

/**
 * The project's writer lock: one `pipeline repro` at a time may run stages and write the store.
 * The lock file is created atomically (hard link of a complete temporary file, which fails if
 * the lock exists) and names its holder; a lock whose holder process is gone (same host) is
 * stale and taken over.
 */
export class ProjectLock {
  private constructor(private readonly path: string) {}

  static async acquire(path: string, opts: { wait?: boolean; pollMs?: number } = {}): Promise<ProjectLock> {
    mkdirSync(dirname(path), { recursive: true });
    const me: Holder = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
    };
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(me));
    try {
      for (;;) {
        try {
          linkSync(tmp, path);
          return new ProjectLock(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const holder = readHolder(path);
        if (holder === undefined || (holder.host === me.host && !alive(holder.pid))) {
          // Move the stale lock aside under a name of our own; only one contender's rename finds it.
          const aside = `${path}.stale.${process.pid}`;
          try {
            renameSync(path, aside);
            const moved = readHolder(aside);
            if (moved !== undefined && moved.pid !== holder?.pid) {
              // A live contender took over between our read and rename: give its lock back.
              renameSync(aside, path);
            } else unlinkSync(aside);
          } catch {
            // Someone else moved it first; loop and look again.
          }
          continue;
        }
        if (!opts.wait) throw new LockHeldError(holder, path);
        await sleep(opts.pollMs ?? 200);
      }
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // Already gone.
      }
    }
  }

  async release(): Promise<void> {
    const holder = readHolder(this.path);
    if (holder?.pid !== process.pid) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}
