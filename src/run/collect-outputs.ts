import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { UserError } from '../errors.ts';
import { canonicalJson, type JsonValue } from '../fingerprint/canonical-json.ts';
import { contentHashOf, type OutputSetHash } from '../fingerprint/hash-types.ts';
import type { StageOutputs } from '../stage-api.ts';
import type { NewArtifact, OutputRef } from '../store/store.ts';
import { collectDirectory, DIR_PREFIX } from '../store/directory-manifest.ts';
import { outputsHashOf } from '../store/output-set.ts';
import { encodeTable, tableHash } from '../store/table-codec.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export interface CollectedOutputs {
  artifacts: NewArtifact[];
  outputs: Record<string, OutputRef>;
  metrics: Record<string, number>;
  /** Not part of outputsHash: see StageOutputs.measurements. */
  measurements: Record<string, number>;
  outputsHash: OutputSetHash;
}

/** Removes a stage's declared files before it runs, so a failed run can never leave stale ones that look new. */
export async function clearOuts(root: string, spec: StageSpec): Promise<void> {
  for (const out of [...spec.outs, ...spec.metrics]) {
    if (spec.persist?.includes(out)) continue;
    const abs = join(root, out);
    await rm(abs, { force: true, recursive: true });
    await mkdir(dirname(abs), { recursive: true });
  }
}

/**
 * Turns what a stage returned, and the files it wrote, into content-addressed artifacts.
 * Throws with a message naming the offending output when something cannot be stored.
 */
export async function collectOutputs(root: string, spec: StageSpec, returned: StageOutputs): Promise<CollectedOutputs> {
  const artifacts: NewArtifact[] = [];
  const outputs: Record<string, OutputRef> = {};
  const metrics: Record<string, number> = {};

  for (const [name, table] of Object.entries(returned.tables ?? {})) {
    const encoded = encodeTable(name, table);
    const hash = tableHash(encoded);
    artifacts.push({ kind: 'table', hash, table: encoded });
    outputs[`table:${name}`] = { kind: 'table', hash };
  }
  for (const [name, value] of Object.entries(returned.json ?? {})) {
    if (value === undefined) throw new UserError(`json output "${name}" is undefined`);
    const hash = contentHashOf(canonicalJson(value));
    artifacts.push({ kind: 'json', hash, value: JSON.parse(JSON.stringify(value)) as JsonValue });
    outputs[`json:${name}`] = { kind: 'json', hash };
  }
  for (const [name, bytes] of Object.entries(returned.blobs ?? {})) {
    if (!(bytes instanceof Uint8Array)) throw new UserError(`blob output "${name}" is not a Uint8Array`);
    const hash = contentHashOf(bytes);
    artifacts.push({ kind: 'blob', hash, bytes });
    outputs[`blob:${name}`] = { kind: 'blob', hash };
  }
  for (const [name, value] of Object.entries(returned.metrics ?? {})) {
    if (typeof value !== 'number') throw new UserError(`metric "${name}" is not a number`);
    metrics[name] = value;
  }
  const measurements: Record<string, number> = {};
  for (const [name, value] of Object.entries(returned.measurements ?? {})) {
    if (typeof value !== 'number') throw new UserError(`measurement "${name}" is not a number`);
    measurements[name] = value;
  }
  for (const out of [...spec.outs, ...spec.metrics]) {
    if ((await stat(join(root, out)).catch(() => undefined))?.isDirectory() === true) {
      const dir = await collectDirectory(root, out);
      artifacts.push(...dir.artifacts);
      outputs[`${DIR_PREFIX}${out}`] = dir.ref;
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(join(root, out));
    } catch {
      throw new UserError(`stage did not write its declared output "${out}"`);
    }
    const hash = contentHashOf(bytes);
    artifacts.push({ kind: 'file', hash, bytes });
    outputs[`file:${out}`] = { kind: 'file', hash };
  }
  for (const file of spec.metrics) {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(join(root, file), 'utf8'));
    } catch (e) {
      throw new UserError(`metrics file "${file}" is not valid JSON: ${(e as Error).message}`);
    }
    flattenNumbers(data, '', metrics);
  }
  return { artifacts, outputs, metrics, measurements, outputsHash: outputsHashOf(outputs, metrics) };
}

function flattenNumbers(v: unknown, prefix: string, into: Record<string, number>): void {
  if (typeof v === 'number') into[prefix] = v;
  else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flattenNumbers(x, prefix === '' ? k : `${prefix}.${k}`, into);
  }
}

/** Writes a stored out file back into the work tree, atomically. */
export async function restoreFile(root: string, path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(join(root, path), bytes);
}
