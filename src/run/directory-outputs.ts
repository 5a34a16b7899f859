import type { FileHasher } from '../fingerprint/file-hasher.ts';
import { DIR_PREFIX, isManifest, restoreDirectory, workspaceDirectoryHash } from '../store/directory-manifest.ts';
import type { ArtifactStore, OutputRef } from '../store/store.ts';

/** Directory outputs of a recorded result that are missing or differ in the work tree. */
export async function directoryDamage(
  root: string,
  outputs: Record<string, OutputRef>,
  hasher: FileHasher,
): Promise<string[]> {
  const damaged: string[] = [];
  for (const [name, ref] of Object.entries(outputs)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const path = name.slice(DIR_PREFIX.length);
    const h = await workspaceDirectoryHash(root, path, (f) => hasher.hash(f));
    if (h !== ref.hash) damaged.push(h === undefined ? `${path}/ is missing` : `${path}/ was modified`);
  }
  return damaged;
}

/** Puts back, each as a whole, the stored directory outputs that differ in the work tree. */
export async function restoreDirectoryOutput(
  root: string,
  outputs: Record<string, OutputRef>,
  store: ArtifactStore,
  hasher: FileHasher,
): Promise<void> {
  for (const [name, ref] of Object.entries(outputs)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const path = name.slice(DIR_PREFIX.length);
    if ((await workspaceDirectoryHash(root, path, (f) => hasher.hash(f))) === ref.hash) continue;
    const manifest = await store.readJson(ref.hash);
    if (!isManifest(manifest)) throw new Error(`stored output ${path}/ is not a directory manifest`);
    await restoreDirectory(root, path, manifest, (h) => store.readBlob(h));
    hasher.invalidate(path);
    for (const f of Object.keys(manifest.files)) hasher.invalidate(`${path}/${f}`);
  }
}
