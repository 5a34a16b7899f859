import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders DVC never reads a dvc.yaml from, and ones that cannot hold a project's own. */
const SKIPPED = new Set(['.dvc', '.git', 'node_modules', '.pipeline']);

/** Every dvc.yaml under root (project-relative POSIX paths), the root's first, then by path. */
export async function discoverDvcFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name)) await walk(path);
      } else if (e.name === 'dvc.yaml' && (e.isFile() || e.isSymbolicLink())) found.push(path);
    }
  };
  await walk('');
  return found.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function depth(p: string): number {
  return p.split('/').length;
}
