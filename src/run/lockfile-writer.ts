import { lockfileTextCached, writeLockfile, type LockEntry, type Lockfile } from '../store/lockfile.ts';

/**
 * Keeps the lockfile on disk up to date during a run without rewriting the whole file after
 * every stage (quadratic in the number of stages: a 1000-stage lockfile is close to a megabyte).
 * Changes are written at most every `intervalMs` (and never taking more than about a tenth of
 * the run's time), and at the end; each write reuses the text of the entries that did not change. The lockfile may lag the store
 * by that much, which loses nothing: it only ever names results already committed, and a stage
 * committed but not yet in the lockfile is found in the store by the next run, which then
 * writes the same lockfile an uninterrupted run would have.
 */
export class LockfileWriter {
  private dirty: string[] = [];
  private removed = false;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private failure: unknown;
  private lastCost = 0;
  private readonly texts = new Map<string, { entry: LockEntry; text: string }>();

  constructor(
    private readonly path: string,
    readonly lock: Lockfile,
    private readonly intervalMs = 250,
  ) {}

  get(name: string): LockEntry | undefined {
    return this.lock.stages[name];
  }

  /** Records a stage's entry (its result is already stored) and schedules a write. */
  set(name: string, entry: LockEntry): void {
    this.lock.stages[name] = entry;
    this.dirty.push(name);
    this.schedule();
  }

  /** Drops entries of stages no longer in the pipeline. */
  remove(name: string): void {
    if (this.lock.stages[name] === undefined) return;
    delete this.lock.stages[name];
    this.removed = true;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastWrite + Math.max(this.intervalMs, 9 * this.lastCost) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
  }

  /** Writes are chained, so two can never interleave their temporary file and rename. */
  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.dirty.length === 0 && !this.removed) return;
      const stages = this.dirty;
      this.dirty = [];
      this.removed = false;
      const started = Date.now();
      try {
        await writeLockfile(this.path, this.lock, stages, lockfileTextCached(this.lock, this.texts));
      } catch (e) {
        this.failure ??= e;
      }
      this.lastWrite = Date.now();
      this.lastCost = this.lastWrite - started;
    });
    return this.writing;
  }

  /** The final write; throws if any write of this run failed. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
    if (this.failure !== undefined)
      throw this.failure instanceof Error ? this.failure : new Error(String(this.failure));
  }
}
