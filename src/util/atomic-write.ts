import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

let writes = 0;

/**
 * Writes a file so that a reader (or a process that hashes it) sees the old contents or the new
 * ones, never part of them: the data goes to a temporary file in the same directory, which is
 * then renamed over the target (a rename within one filesystem is atomic). A write that fails (a
 * full disk) removes its temporary file and leaves the target as it was. The directory is
 * created if missing. Not fsynced: what is promised is survival of a killed process, not of a
 * power loss, and the lockfile is written after every stage.
 *
 * `beforeRename` runs between the two steps (the kill tests stop the process there).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { beforeRename?: () => void } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // The pid keeps processes apart, the counter concurrent writes of one process.
  const tmp = `${path}.${process.pid}.${++writes}.tmp`;
  try {
    await writeFile(tmp, data);
    options.beforeRename?.();
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
