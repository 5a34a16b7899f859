import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProjectPaths } from '../project.ts';
import { exportArtifact, exportBundle, findArtifact, type ExportFormat } from '../store/export.ts';
import { readLockfile } from '../store/lockfile.ts';
import { withStoreReads } from './with-store-reads.ts';
import { EXIT } from './common.ts';

export interface ExportOptions {
  format: ExportFormat;
  output?: string;
  bundle?: string;
}

/** `pipeline export ARTIFACT -o FILE` or `pipeline export --bundle DIR`. */
export async function exportCommand(
  paths: ProjectPaths,
  artifact: string | undefined,
  o: ExportOptions,
): Promise<number> {
  if (!existsSync(paths.store)) {
    process.stderr.write(`error: there is no store at ${paths.store}\n`);
    return EXIT.stageFailed;
  }
  if ((artifact === undefined) === (o.bundle === undefined)) {
    process.stderr.write('error: give either an ARTIFACT (with -o FILE) or --bundle DIR\n');
    return EXIT.config;
  }
  if (artifact !== undefined && o.output === undefined) {
    process.stderr.write('error: -o FILE is required when exporting one artifact\n');
    return EXIT.config;
  }
  const lock = await readLockfile(paths.lockfile);
  return withStoreReads(paths, async ({ reads: store }) => {
    try {
      if (o.bundle !== undefined) {
        const dir = resolve(o.bundle);
        const entries = await exportBundle(store, lock, paths.root, dir);
        process.stdout.write(`wrote ${entries.length} files and manifest.json to ${dir}\n`);
      } else {
        const info = await findArtifact(store, artifact!, lock);
        const file = resolve(o.output!);
        await exportArtifact(store, info, o.format, file);
        process.stdout.write(`wrote ${info.kind} artifact ${info.hash.slice(0, 12)} to ${file}\n`);
      }
      return EXIT.ok;
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message.split('\n')[0]}\n`);
      return EXIT.stageFailed;
    }
  });
}
