import type { ArtifactStore, CommitInput } from '../store/store.ts';

interface Pending {
  input: CommitInput;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Commits finished stages to the store, several to a transaction. While one transaction is in
 * progress, the stages finishing meanwhile queue, and the next transaction takes them all, so
 * batches grow exactly when the store is the bottleneck and a lone stage is never held back
 * waiting for company. A stage counts as stored (its lockfile entry is written, its dependents
 * see it as done) only once its batch committed; batches commit in the order stages finished,
 * so a stage is never stored before an upstream stage it read.
 */
export class Committer {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly store: ArtifactStore) {}

  /** Resolves once the stage's result is in the store; rejects if it could not be stored. */
  commit(input: CommitInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.flushing ??= this.drain();
    });
  }

  /** Settles once everything queued so far has been committed or refused. */
  async idle(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async drain(): Promise<void> {
    // Let the stages finishing in this same turn of the event loop join the first batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.store.commitMany(batch.map((p) => p.input));
        for (const p of batch) p.resolve();
      } catch (e) {
        if (batch.length === 1) batch[0]!.reject(e);
        // One stage that cannot be stored (a full disk, a bad table) must not take the
        // others of its batch down with it: each is tried on its own.
        else for (const p of batch) await this.store.commit(p.input).then(p.resolve, p.reject);
      }
    }
    this.flushing = undefined;
  }
}
