import { existsSync } from 'node:fs';
import type { ProjectPaths } from '../project.ts';
import type { StoreReads } from '../store/store-reads.ts';
import { ArtifactStore } from '../store/store.ts';

export interface OpenedReads {
  reads: StoreReads;
  via: 'store';
  close(): Promise<void>;
}

/** The store opened read-only in this process, its queries on a guarded ReadConnection. */
export async function openStoreDirect(paths: ProjectPaths): Promise<OpenedReads> {
  const store = await ArtifactStore.open(paths.store, { readOnly: true });
  const reader = await store.reader();
  return {
    reads: reader,
    via: 'store',
    close: async () => {
      reader.close();
      await store.close();
    },
  };
}

/** Where the read-only commands get the store from. Undefined when there is no store yet. */
export async function openReads(paths: ProjectPaths): Promise<OpenedReads | undefined> {
  if (!existsSync(paths.store)) return undefined;
  return openStoreDirect(paths);
}
