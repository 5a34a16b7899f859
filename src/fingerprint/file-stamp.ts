import { statSync, type Stats } from 'node:fs';

/**
 * A write that lands within the file system's timestamp granularity of an earlier look could
 * leave size and mtime unchanged (git's "racily clean" problem), so a stat-based judgement that a
 * file is unchanged is trusted only when its mtime is comfortably older than the moment of the
 * look. Two seconds covers the coarsest common granularity (FAT's).
 */
export const RACY_WINDOW_MS = 2000;

/**
 * What a stat says of a file, as an absolute path with size, mtime (ms) and inode: the triple a
 * rewrite, a replacement or a touch changes. A missing path has size -1. Directories are stamped
 * too (their mtime changes when an entry is added, removed or renamed), with size -2. A file
 * stamped only by its identity (`identityStampOf`) has size -3 and mtime 0.
 */
export type FileStamp = readonly [path: string, size: number, mtimeMs: number, ino: number];

export function stampOf(path: string): FileStamp {
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  return stampFromStat(path, st);
}

/** The stamp of a stat already taken (undefined: the path does not exist); a directory's size reads -2. */
export function stampFromStat(path: string, st: Stats | undefined): FileStamp {
  return st === undefined ? [path, -1, 0, 0] : [path, st.isDirectory() ? -2 : st.size, st.mtimeMs, st.ino];
}

/**
 * The stamp of a file whose bytes may change without changing what was read from it: the store,
 * which is read by content hash (what a hash names never changes) and which DuckDB rewrites even
 * when it only reads. It records that the file exists and which file it is (its inode): a store
 * deleted, or replaced by another, does not pass.
 */
export function identityStampOf(path: string): FileStamp {
  const s = stampOf(path);
  return s[1] === -1 ? s : [path, -3, 0, s[3]];
}

/** The file's stamp now, taken the way `stamp` was. */
export function restamp(stamp: FileStamp): FileStamp {
  return stamp[1] === -3 ? identityStampOf(stamp[0]) : stampOf(stamp[0]);
}

/** Whether a stamp can tell a later write from the stamped state: past the racy window, or identity only. */
export function settledBy(stamp: FileStamp, at: number): boolean {
  return stamp[1] === -1 || stamp[1] === -3 || stamp[2] + RACY_WINDOW_MS < at;
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}
