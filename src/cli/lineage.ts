import type { ProjectPaths } from '../project.ts';
import { lineageOf, renderLineageAscii, renderLineageMermaid, resolveResult } from '../store/lineage.ts';
import { readLockfile } from '../store/lockfile.ts';
import { withStoreReads } from './with-store-reads.ts';
import { EXIT } from './common.ts';

export type LineageFormat = 'ascii' | 'mermaid' | 'json';

/** `pipeline lineage TARGET`: what produced a stage's result or an artifact, down to raw files. */
export async function lineageCommand(
  paths: ProjectPaths,
  target: string,
  o: { format: LineageFormat },
): Promise<number> {
  const lock = await readLockfile(paths.lockfile);
  return withStoreReads(paths, async ({ reads: store }) => {
    const fingerprint = await resolveResult(store, target, lock.stages[target]?.fingerprint);
    if (fingerprint === undefined) {
      process.stderr.write(`error: "${target}" is neither a stage with a stored result nor a stored artifact\n`);
      return EXIT.stageFailed;
    }
    const node = await lineageOf(store, fingerprint);
    const text =
      o.format === 'json'
        ? JSON.stringify(node)
        : o.format === 'mermaid'
          ? renderLineageMermaid(node)
          : renderLineageAscii(node);
    process.stdout.write(`${text}\n`);
    return EXIT.ok;
  });
}
