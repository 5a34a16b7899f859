import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProjectPaths } from '../project.ts';
import { ProjectLock } from '../run/project-lock.ts';
import { applyGc, compactStore, planGc } from '../store/gc.ts';
import { readLockfile, type Lockfile } from '../store/lockfile.ts';
import { ArtifactStore } from '../store/store.ts';
import { EXIT } from './common.ts';

/**
 * This lockfile together with every profile's (lockfile.NAME.json beside it): the results of
 * `--profile smoke` are as much the project's state as the default study's, and a gc run
 * without the profile must not drop them.
 */
async function everyLockfile(paths: ProjectPaths): Promise<Lockfile> {
  const lock = await readLockfile(paths.lockfile);
  const dir = dirname(paths.lockfile);
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if (path === paths.lockfile || !/^lockfile(\.[^/]+)?\.json$/.test(name)) continue;
    for (const [stage, entry] of Object.entries((await readLockfile(path)).stages))
      lock.stages[`${name}:${stage}`] = entry;
  }
  return lock;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;

/** `pipeline gc`: drop results unreachable from the lockfiles (and the last N runs), then shrink the file. */
export async function gcCommand(
  paths: ProjectPaths,
  o: { keepLast: string; dry?: boolean; wait?: boolean },
): Promise<number> {
  const keepLast = Number(o.keepLast);
  if (!Number.isInteger(keepLast) || keepLast < 0) {
    process.stderr.write(`error: --keep-last expects a non-negative integer, got "${o.keepLast}"\n`);
    return EXIT.config;
  }
  if (!existsSync(paths.store)) {
    process.stdout.write('no store: nothing to collect\n');
    return EXIT.ok;
  }
  if (!existsSync(paths.lockfile)) {
    // Without a lockfile everything would look unreachable: refuse rather than empty the store.
    process.stderr.write(
      `error: ${paths.lockfile} is missing; gc keeps what the lockfile needs, so it will not run without one\n`,
    );
    return EXIT.stageFailed;
  }
  const writer = o.dry ? undefined : await ProjectLock.acquire(paths.writerLock, { wait: o.wait ?? false });
  try {
    const lock = await everyLockfile(paths);
    const store = await ArtifactStore.open(paths.store);
    let removed = 0;
    try {
      const plan = await planGc(store, lock, keepLast);
      const bytes = plan.removeArtifacts.reduce((n, a) => n + a.size, 0);
      removed = plan.removeResults.length + plan.removeArtifacts.length;
      process.stdout.write(
        `${o.dry ? 'would remove' : 'removing'} ${plan.removeResults.length} result(s) and ${plan.removeArtifacts.length} artifact(s) (${mib(bytes)} of payload); keeping ${plan.keepResults} result(s)\n`,
      );
      if (!o.dry) await applyGc(store, plan);
    } finally {
      await store.close();
    }
    if (!o.dry && removed > 0) {
      const { before, after } = await compactStore(paths.store);
      process.stdout.write(`store file ${mib(before)} -> ${mib(after)}\n`);
    }
    return EXIT.ok;
  } finally {
    await writer?.release();
  }
}
