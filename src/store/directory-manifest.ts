import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson, type JsonValue } from '../fingerprint/canonical-json.ts';
import { contentHashOf, type ContentHash } from '../fingerprint/hash-types.ts';
import type { NewArtifact, OutputRef } from './store.ts';

/**
 * A directory output as stored: a manifest (relative POSIX path -> sha256 of the file's bytes)
 * kept as a JSON artifact, and each file as a file artifact. The directory's hash is the
 * manifest's, so it is verified like any JSON artifact and names the whole tree.
 */
export interface DirectoryManifest {
  type: 'directory';
  files: Record<string, ContentHash>;
}

/** Output-set name of a directory output, beside `file:PATH` for files. */
export const DIR_PREFIX = 'dir:';

export function isManifest(v: unknown): v is DirectoryManifest {
  return (
    v !== null &&
    typeof v === 'object' &&
    (v as { type?: unknown }).type === 'directory' &&
    typeof (v as { files?: unknown }).files === 'object'
  );
}

async function listFiles(abs: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(abs, rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(abs, p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Reads a directory into a manifest and the file artifacts it names. */
export async function collectDirectory(
  root: string,
  path: string,
): Promise<{ ref: OutputRef; artifacts: NewArtifact[]; manifest: DirectoryManifest }> {
  const abs = join(root, path);
  const files: Record<string, ContentHash> = {};
  const artifacts: NewArtifact[] = [];
  for (const f of await listFiles(abs)) {
    const bytes = await readFile(join(abs, f));
    const hash = contentHashOf(bytes);
    files[f] = hash;
    artifacts.push({ kind: 'file', hash, bytes });
  }
  const manifest: DirectoryManifest = { type: 'directory', files };
  const hash = contentHashOf(canonicalJson(manifest));
  artifacts.push({ kind: 'json', hash, value: manifest as unknown as JsonValue });
  return { ref: { kind: 'json', hash }, artifacts, manifest };
}

/**
 * The manifest hash of a directory in the work tree, from per-file hashes given by `hashFile`
 * (a cached hasher), or undefined when the directory is absent.
 */
export async function workspaceDirectoryHash(
  root: string,
  path: string,
  hashFile: (rel: string) => Promise<string | undefined>,
): Promise<ContentHash | undefined> {
  let names: string[];
  try {
    names = await listFiles(join(root, path));
  } catch {
    return undefined;
  }
  const files: Record<string, string> = {};
  for (const f of names) files[f] = (await hashFile(`${path}/${f}`)) ?? '';
  return contentHashOf(canonicalJson({ type: 'directory', files }));
}

/**
 * Puts a stored directory back as a whole: built beside the target and renamed over it, so the
 * work tree never holds a mix of the old and the restored tree.
 */
export async function restoreDirectory(
  root: string,
  path: string,
  manifest: DirectoryManifest,
  readBlob: (hash: ContentHash) => Promise<Uint8Array>,
): Promise<void> {
  const abs = join(root, path);
  const tmp = `${abs}.${process.pid}.restore`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [f, hash] of Object.entries(manifest.files)) {
    const target = join(tmp, f);
    await mkdir(dirname(target), { recursive: true });
    const bytes = await readBlob(hash);
    if (createHash('sha256').update(bytes).digest('hex') !== hash)
      throw new Error(`stored file ${path}/${f} does not match its hash`);
    await writeFile(target, bytes);
  }
  await rm(abs, { recursive: true, force: true });
  await mkdir(dirname(abs), { recursive: true });
  await rename(tmp, abs);
}
