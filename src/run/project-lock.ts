import { hostname } from 'node:os';
import { link, readFile, rename, unlink, writeFile, mkdir } from 'node:fs/promises';
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

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Holder;
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
    await mkdir(dirname(path), { recursive: true });
    const me: Holder = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
    };
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(me));
    try {
      for (;;) {
        try {
          await link(tmp, path);
          return new ProjectLock(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const holder = await readHolder(path);
        if (holder === undefined || (holder.host === me.host && !alive(holder.pid))) {
          // Move the stale lock aside under a name of our own; only one contender's rename finds it.
          const aside = `${path}.stale.${process.pid}`;
          try {
            await rename(path, aside);
            const moved = await readHolder(aside);
            if (moved !== undefined && moved.pid !== holder?.pid) {
              // A live contender took over between our read and rename: give its lock back.
              await rename(aside, path);
            } else await unlink(aside);
          } catch {
            // Someone else moved it first; loop and look again.
          }
          continue;
        }
        if (!opts.wait) throw new LockHeldError(holder, path);
        await sleep(opts.pollMs ?? 200);
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    const holder = await readHolder(this.path);
    if (holder?.pid === process.pid) await unlink(this.path).catch(() => undefined);
  }
}
