import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The project root: `-C DIR`, or the nearest directory at or above the cwd holding pipeline.yaml
 * (or a DVC repository's .dvc folder). */
export function findRoot(cwdOption: string | undefined): string {
  const start = resolve(cwdOption ?? process.cwd());
  if (cwdOption !== undefined) return start;
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pipeline.yaml'))) return dir;
    // A DVC repository's root is where its .dvc folder is (its dvc.yaml files may all be below).
    if (existsSync(join(dir, '.dvc'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}
