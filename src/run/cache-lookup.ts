import { restoreDirectoryOutput } from './directory-outputs.ts';
import { existsSync } from 'node:fs';
import { faultThrow } from '../fault.ts';
import type { FileHasher } from '../fingerprint/file-hasher.ts';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import { ArtifactStore, type InvocationProvenance, type StoredResult } from '../store/store.ts';
import { restoreFile } from './collect-outputs.ts';

interface PendingLookup {
  fingerprint: FingerprintHash;
  resolve: (r: StoredResult | undefined) => void;
  reject: (e: unknown) => void;
}

/**
 * The run's access to the store: opened on first need (a run where the lockfile says everything
 * is up to date never opens it), read-only for a dry run, and asked for cached results in
 * batches: lookups made while one query is in progress go into the next, so a first run of a
 * thousand stages asks a few dozen queries, not a thousand.
 */
export class StoreAccess {
  /** Whether the store existed when the run began. */
  readonly existed: boolean;
  private store: Promise<ArtifactStore | undefined> | undefined;
  private pending: PendingLookup[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    /** Dry runs (`repro --dry`, `status`) write nothing: no store is created, none is opened for writing. */
    private readonly dry: boolean,
    private readonly invocation: string,
    /** The invocation's provenance, recorded when a real run first opens the store. */
    private readonly provenance: () => Promise<InvocationProvenance>,
    /** Told when a real run has opened the store for writing (the read socket serves from it). */
    private readonly onOpen?: (store: ArtifactStore) => void,
  ) {
    this.existed = existsSync(path);
  }

  /**
   * Why the store could not be opened, if it could not: that is not one stage's failure but the
   * run's (a damaged or foreign file, a read-only disk), and the run reports it once, as itself.
   */
  openFailure: unknown;

  open(): Promise<ArtifactStore | undefined> {
    this.store ??= (async () => {
      if (this.dry && !this.existed) return undefined;
      let store: ArtifactStore;
      try {
        store = await ArtifactStore.open(this.path, { readOnly: this.dry });
      } catch (e) {
        this.openFailure = e;
        throw e;
      }
      if (!this.dry) {
        this.onOpen?.(store);
        await store.recordInvocation(await this.provenance());
      }
      return store;
    })();
    return this.store;
  }

  /** The opened store, for writing; throws if it cannot be opened. */
  async writable(): Promise<ArtifactStore> {
    const store = await this.open();
    if (store === undefined) throw new Error('the store is not open for writing in a dry run');
    return store;
  }

  /**
   * The stored result of a fingerprint, if any. In a dry run a store that cannot be opened
   * (held by a running `repro`) counts as holding nothing: the plan then says what would run.
   */
  lookup(stage: string, fingerprint: FingerprintHash): Promise<StoredResult | undefined> {
    faultThrow('lookup', stage);
    return new Promise((resolve, reject) => {
      this.pending.push({ fingerprint, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        let store: ArtifactStore | undefined;
        try {
          store = await this.open();
        } catch (e) {
          if (!this.dry) throw e;
        }
        const found =
          store === undefined
            ? new Map<FingerprintHash, StoredResult>()
            : await store.findResults(batch.map((b) => b.fingerprint));
        for (const b of batch) b.resolve(found.get(b.fingerprint));
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.draining = undefined;
  }

  /** Records how the invocation ended and closes the store, if it was opened. */
  async close(exitStatus: number): Promise<void> {
    const store = await this.store?.catch(() => undefined);
    if (store === undefined) return;
    if (!this.dry) await store.finishInvocation(this.invocation, exitStatus).catch(() => undefined);
    await store.close();
  }
}

/** Puts a stored result's out files back into the work tree where they are missing or changed. */
export async function restoreOuts(
  root: string,
  store: ArtifactStore,
  hasher: FileHasher,
  found: StoredResult,
): Promise<void> {
  await restoreDirectoryOutput(root, found.outputs, store, hasher);
  for (const [outName, ref] of Object.entries(found.outputs)) {
    if (ref.kind !== 'file') continue;
    const path = outName.slice('file:'.length);
    if ((await hasher.hash(path)) === ref.hash) continue;
    await restoreFile(root, path, await store.readBlob(ref.hash));
    hasher.invalidate(path);
  }
}
