import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProjectPaths } from '../project.ts';
import type { StoreReads } from '../store/store-reads.ts';
import { ArtifactStore, StoreError } from '../store/store.ts';
import type { LiveSnapshot } from './live-run.ts';
import { ReadClient } from './read-client.ts';

export interface OpenedReads {
  reads: StoreReads;
  /** `run`: answered by the running `repro` over its read socket; `store`: the file opened here. */
  via: 'run' | 'store';
  /** The run's live state, when a run answers. */
  live(): Promise<LiveSnapshot | null>;
  close(): Promise<void>;
}

/** The store opened read-only in this process, its queries on a guarded ReadConnection. */
export async function openStoreDirect(paths: ProjectPaths): Promise<OpenedReads> {
  const store = await ArtifactStore.open(paths.store, { readOnly: true });
  const reader = await store.reader();
  return {
    reads: reader,
    via: 'store',
    live: async () => null,
    close: async () => {
      await reader.close();
      await store.close();
    },
  };
}

// A run opens its socket a moment after it opens the store, and closes it a moment before.
const RACE_MS = 5000;

/**
 * Where the read-only commands get the store from: the running repro's read socket when one
 * answers, else the file itself (read-only). Undefined when there is no store yet.
 */
export async function openReads(paths: ProjectPaths): Promise<OpenedReads | undefined> {
  const deadline = Date.now() + RACE_MS;
  for (;;) {
    const client = await ReadClient.connect(paths);
    if (client !== undefined) {
      return { reads: client, via: 'run', live: () => client.live(), close: async () => client.close() };
    }
    if (!existsSync(paths.store)) return undefined;
    try {
      return await openStoreDirect(paths);
    } catch (e) {
      // The file is held, and no socket answered yet: a run is opening or closing it.
      if (!(e instanceof StoreError && /in use by another process/.test(e.message)) || Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}
