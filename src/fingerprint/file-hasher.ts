import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { RACY_WINDOW_MS, stampFromStat, stampOf, type FileStamp } from './file-stamp.ts';

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
  /** When the hash was taken; see `trusted`. */
  hashedAt: number;
}

/** Files below this size are read in one call; larger ones are streamed so memory stays flat. */
const STREAM_THRESHOLD = 1 << 20;

/**
 * Content hashes of files and directories, with a (path, size, mtime, inode) -> hash cache kept
 * on disk so unchanged files are not read again on the next run.
 */
export class FileHasher {
  private entries: Record<string, CacheEntry> = {};
  private dirty = false;
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly stamps = new Map<string, FileStamp>();

  private constructor(
    readonly root: string,
    private readonly cacheFile: string | undefined,
  ) {}

  static async open(root: string, cacheFile?: string): Promise<FileHasher> {
    const hasher = new FileHasher(root, cacheFile);
    if (cacheFile !== undefined) {
      try {
        // Read synchronously, like the other files a command reads at its start: one call, not a
        // chain of thread-pool round trips.
        const state: unknown = JSON.parse(readFileSync(cacheFile, 'utf8'));
        // Anything but an object of entries (a foreign or truncated file) counts as no state.
        if (typeof state === 'object' && state !== null && !Array.isArray(state))
          hasher.entries = state as Record<string, CacheEntry>;
      } catch {
        // A missing or unreadable cache only costs re-reading files.
      }
    }
    return hasher;
  }

  /** sha256 of a file's bytes, or of a directory's listing of (path, hash); undefined if absent. */
  hash(relPath: string): Promise<string | undefined> {
    let p = this.pending.get(relPath);
    if (p === undefined) {
      p = this.compute(relPath);
      this.pending.set(relPath, p);
    }
    return p;
  }

  /** Forget in-run memoisation of a path, after a stage has (re)written it. */
  invalidate(relPath: string): void {
    this.pending.delete(relPath);
    this.stamps.delete(join(this.root, relPath));
  }

  /**
   * Notes how a file looked before it was read, for a read outside this hasher (package-lock.json,
   * say) that a decision rests on. Hashed paths and the directories listed to hash them are noted
   * by the hasher itself.
   */
  witness(absPath: string): void {
    if (!this.stamps.has(absPath)) this.stamps.set(absPath, stampOf(absPath));
  }

  /** Every file and directory this run's decisions were read from, as it was stat'ed before reading. */
  witnessed(): IterableIterator<FileStamp> {
    return this.stamps.values();
  }

  private async compute(relPath: string): Promise<string | undefined> {
    const abs = join(this.root, relPath);
    // A synchronous stat: it takes microseconds, while a thousand promise round trips through
    // the thread pool were most of a no-op run's time (every stage's outs are checked).
    let st;
    try {
      st = statSync(abs, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    this.stamps.set(abs, stampFromStat(abs, st));
    if (st === undefined) return undefined;
    if (st.isDirectory()) return this.hashDirectory(relPath);
    // An entry of a damaged state file may be anything: only one that matches in every field counts.
    const cached = this.entries[relPath] as CacheEntry | null | undefined;
    if (
      typeof cached === 'object' &&
      cached !== null &&
      cached.size === st.size &&
      cached.mtimeMs === st.mtimeMs &&
      cached.ino === st.ino &&
      st.mtimeMs + RACY_WINDOW_MS < cached.hashedAt
    ) {
      return cached.hash;
    }
    const hashedAt = Date.now();
    const hash = st.size < STREAM_THRESHOLD ? sha256Hex(await readFile(abs)) : await streamHash(abs);
    this.entries[relPath] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash, hashedAt };
    this.dirty = true;
    return hash;
  }

  private async hashDirectory(relPath: string): Promise<string> {
    const files = (await listFiles(join(this.root, relPath), (d) => this.witness(d)))
      .map((f) => relative(this.root, f))
      .sort();
    const h = createHash('sha256');
    for (const f of files) h.update(`${relative(relPath, f)}\0${(await this.hash(f)) ?? ''}\n`);
    return h.digest('hex');
  }

  async save(): Promise<void> {
    if (!this.dirty || this.cacheFile === undefined) return;
    await writeFileAtomic(this.cacheFile, JSON.stringify(this.entries));
    this.dirty = false;
  }
}

function streamHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** The files below `dir`; `sawDirectory` is told of each directory below it before it is listed. */
async function listFiles(dir: string, sawDirectory: (abs: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      sawDirectory(p);
      out.push(...(await listFiles(p, sawDirectory)));
    } else if (entry.isFile()) out.push(p);
  }
  return out;
}
