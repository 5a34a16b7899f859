/**
 * The files a Slurm job and its coordinator exchange on the shared filesystem. The coordinator
 * is the only process that opens the store, so what a job needs from it (upstream artifacts) is
 * written out before submission, and what the job produces comes back as files with a manifest
 * of their hashes, which the coordinator checks before it commits anything.
 *
 *   .pipeline/slurm/RUN/inputs/KIND-HASH.v8   upstream artifacts, one file per content hash,
 *                                             shared by every job of the run that reads them
 *   .pipeline/slurm/RUN/STAGE/request.json    what the coordinator fingerprinted the stage from
 *   .pipeline/slurm/RUN/STAGE/job.sh, job.log the batch script and the job's output
 *   .pipeline/slurm/RUN/STAGE/files/N         copies of the stage's out files, as the job left them
 *   .pipeline/slurm/RUN/STAGE/outputs.v8      the stage function's return value
 *   .pipeline/slurm/RUN/STAGE/manifest.json   written last: how the job ended, and every hash
 *
 * Values are written with v8.serialize, the encoding the local worker's IPC channel uses, so a
 * table's typed arrays and a blob's bytes arrive exactly as they would locally.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { JsonValue } from '../../fingerprint/canonical-json.ts';
import type { FingerprintRecord } from '../../fingerprint/fingerprint.ts';
import type { FingerprintHash, OutputSetHash } from '../../fingerprint/hash-types.ts';
import type { UpstreamManifest } from '../worker-protocol.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { sha256Hex } from '../../util/sha256-hex.ts';

export const STAGING_VERSION = 1;
export const REQUEST = 'request.json';
export const MANIFEST = 'manifest.json';
export const OUTPUTS = 'outputs.v8';
export const SCRIPT = 'job.sh';
export const LOG = 'job.log';
export const FILES = 'files';

/** An upstream artifact staged for jobs: where it is and the sha256 of that file. */
export interface StagedFile {
  file: string;
  sha256: string;
}

/** Written by the coordinator before it submits the job. */
export interface JobRequest {
  version: number;
  stage: string;
  fingerprint: FingerprintHash;
  /** The fingerprint record the coordinator computed, so a job that disagrees can say what differs. */
  record: FingerprintRecord;
  /** Output-set hash of each upstream stage: the job recomputes the fingerprint from these and the work tree. */
  upstream: Record<string, OutputSetHash>;
  /** The upstream stages a `uses:` stage's context lists. */
  inputs: UpstreamManifest[];
  /** `KIND:HASH` -> the staged file holding that artifact. */
  artifacts: Record<string, StagedFile>;
}

/** Written by the job when it ends, whether or not the stage succeeded. */
export type JobManifest =
  | {
      version: number;
      ok: true;
      stage: string;
      fingerprint: FingerprintHash;
      /** Every declared out and metrics file, copied into the job directory. */
      files: Array<{ path: string; staged: string; sha256: string }>;
      outputs: StagedFile;
      provenance: Record<string, JsonValue>;
      host: string;
      seconds: number;
    }
  | {
      version: number;
      ok: false;
      stage: string;
      fingerprint: FingerprintHash;
      /** `changed`: the stage's fingerprint on the node differs from the submitted one; nothing ran. */
      reason: 'changed' | 'failed' | 'interrupted';
      message: string;
      host: string;
    };

export async function writeValue(path: string, value: unknown): Promise<StagedFile> {
  const bytes = serialize(value);
  await writeFileAtomic(path, bytes);
  return { file: path, sha256: sha256Hex(bytes) };
}

/** Reads a staged value, refusing one whose bytes are not the ones written. */
export async function readValue(staged: StagedFile): Promise<unknown> {
  const bytes = await readFile(staged.file);
  const found = sha256Hex(bytes);
  if (found !== staged.sha256)
    throw new Error(
      `${staged.file}: sha256 ${found.slice(0, 12)} where ${staged.sha256.slice(0, 12)} was written (a partial copy on the shared filesystem?)`,
    );
  return deserialize(bytes);
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A directory name for a stage: readable, and unique even where two names differ only in characters it drops. */
export function stageDirName(stage: string): string {
  const readable = stage.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 80);
  return `${readable}-${sha256Hex(Buffer.from(stage)).slice(0, 8)}`;
}

export function stagedFileName(index: number): string {
  return join(FILES, String(index));
}
