import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { restamp, sameStamp, settledBy, stampOf, type FileStamp } from '../fingerprint/file-stamp.ts';
import type { FingerprintHash } from '../fingerprint/hash-types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ExecutorKind } from './executor.ts';
import type { StageReport } from './reporter.ts';

/**
 * What a no-op `repro` decided, and every file it decided from. A run that found every stage up
 * to date by the lockfile reads pipeline.yaml, the lockfile, each dependency, output and stage
 * module, and package-lock.json, and computes every fingerprint from them: a function of those
 * files alone (the store is consulted only by content hash, and must exist). So while each of
 * them stats as it did then, the same run would decide the same again, and the next `repro`
 * can say so without loading the graph, the lockfile or a single hash (`up-to-date-cli.ts`),
 * the way ninja and make judge a no-op by stat alone. Files are stamped before they were read,
 * so a write during the run shows as a difference; a record is written only when every stamp
 * is older than the racy window, so a later same-size write within the same timestamp cannot
 * pass for the recorded file.
 */
export interface UpToDateRecord {
  version: typeof RECORD_VERSION;
  /** When the stamps were checked; every stamp's mtime is at least the racy window older. */
  writtenAt: number;
  /** The executor the run would have used, which `--json` reports. */
  executor: ExecutorKind;
  files: FileStamp[];
  /** Every stage, in the order `repro` reports them, with its fingerprint. */
  stages: [name: string, fingerprint: FingerprintHash][];
}

const RECORD_VERSION = 1;

/**
 * This module's compiled file: `npm run build` rewrites it, so a rebuilt or upgraded engine never
 * trusts a record an older one wrote (its rules of what is up to date may differ).
 */
const ENGINE_FILE = fileURLToPath(import.meta.url);

/**
 * What `repro` reports of a stage the lockfile shows up to date: the full run and the short way
 * (`up-to-date-cli.ts`) both report it so, which is what makes their output the same.
 */
export function upToDateReport(name: string, fingerprint: FingerprintHash): StageReport {
  return { name, status: 'cached', cache: 'lockfile', fingerprint, seconds: 0, reasons: [] };
}

/**
 * Writes the record of a no-op run from the stamps taken as its files were read; if a file has
 * changed since, or changed too recently to be judged by its stamp, no record is left, and the
 * next run decides the long way (and may write one then).
 */
export async function writeUpToDate(
  path: string,
  seen: Iterable<FileStamp>,
  stages: [string, FingerprintHash][],
  executor: ExecutorKind,
): Promise<void> {
  const writtenAt = Date.now();
  const files: FileStamp[] = [];
  for (const stamp of [...seen, stampOf(ENGINE_FILE)]) {
    const now = restamp(stamp);
    if (!sameStamp(stamp, now) || !settledBy(now, writtenAt)) {
      discardUpToDate(path);
      return;
    }
    files.push(now);
  }
  const record: UpToDateRecord = { version: RECORD_VERSION, writtenAt, executor, files, stages };
  try {
    await writeFileAtomic(path, JSON.stringify(record));
  } catch {
    // Without a record the next no-op only takes the long way.
    discardUpToDate(path);
  }
}

/** After a run that changed something (or could not tell): the next one decides the long way. */
export function discardUpToDate(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // An unremovable record is still checked stamp by stamp, so it cannot be trusted wrongly.
  }
}

/** The recorded no-op, if every file it was decided from stats as it did then; else undefined. */
export function readUpToDate(path: string): Pick<UpToDateRecord, 'stages' | 'executor'> | undefined {
  let record: Partial<UpToDateRecord>;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as Partial<UpToDateRecord>;
  } catch {
    return undefined;
  }
  // A damaged or foreign record counts as none: every field is checked before it is trusted.
  if (
    typeof record !== 'object' ||
    record === null ||
    record.version !== RECORD_VERSION ||
    typeof record.writtenAt !== 'number' ||
    (record.executor !== 'local' && record.executor !== 'slurm') ||
    !Array.isArray(record.files) ||
    !Array.isArray(record.stages)
  )
    return undefined;
  let engineSeen = false;
  for (const stamp of record.files as unknown[]) {
    if (!isStamp(stamp)) return undefined;
    if (!settledBy(stamp, record.writtenAt) || !sameStamp(stamp, restamp(stamp))) return undefined;
    if (stamp[0] === ENGINE_FILE) engineSeen = true;
  }
  if (!engineSeen) return undefined;
  const stages = record.stages as unknown[];
  if (!stages.every((s) => Array.isArray(s) && s.length === 2 && s.every((x) => typeof x === 'string')))
    return undefined;
  // The record's own fingerprints, written from FingerprintHash values by writeUpToDate.
  return { stages: stages as [string, FingerprintHash][], executor: record.executor };
}

function isStamp(s: unknown): s is FileStamp {
  return (
    Array.isArray(s) &&
    s.length === 4 &&
    typeof s[0] === 'string' &&
    typeof s[1] === 'number' &&
    typeof s[2] === 'number' &&
    typeof s[3] === 'number'
  );
}
