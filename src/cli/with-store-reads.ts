import { openReads, type OpenedReads } from '../live/open-reads.ts';
import type { ProjectPaths } from '../project.ts';
import { EXIT } from './common.ts';

/**
 * Runs a read-only command against the store (through a running repro's socket, or the file),
 * closing it however the command ends. Without a store the command fails with one line and the
 * exit code a missing result has, so every read verb says the same thing the same way.
 */
export async function withStoreReads(
  paths: ProjectPaths,
  command: (opened: OpenedReads) => Promise<number>,
  purpose = '',
): Promise<number> {
  const opened = await openReads(paths);
  if (opened === undefined) {
    process.stderr.write(`error: there is no store at ${paths.store}${purpose}\n`);
    return EXIT.stageFailed;
  }
  try {
    return await command(opened);
  } finally {
    await opened.close();
  }
}
