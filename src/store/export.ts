import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exportRecords } from './export-records.ts';
import { DIR_PREFIX, isManifest, restoreDirectory } from './directory-manifest.ts';
import { asContentHash, type ContentHash } from '../fingerprint/hash-types.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import type { Lockfile } from './lockfile.ts';
import type { StoreReads } from './store-reads.ts';
import type { ColumnType } from './table-codec.ts';
import { writeTableFile } from './table-file.ts';
import { UserError } from '../errors.ts';

export type ExportFormat = 'parquet' | 'csv' | 'json';

export interface ArtifactInfo {
  hash: ContentHash;
  kind: string;
  tableName: string | null;
}

/**
 * Finds an artifact by hash (or unique prefix) or as `STAGE:OUTPUT` (`summary:table:runs`, or
 * `summary:runs` when the name is unambiguous), using the lockfile for the stage's current result.
 */
export async function findArtifact(store: StoreReads, spec: string, lock: Lockfile): Promise<ArtifactInfo> {
  let hash: ContentHash | undefined;
  const colon = spec.indexOf(':');
  if (colon > 0) {
    const stage = spec.slice(0, colon);
    const output = spec.slice(colon + 1);
    const entry = lock.stages[stage];
    if (entry === undefined) throw new UserError(`no stage "${stage}" in lockfile.json`);
    const names = Object.keys(entry.outputs).filter((n) => n === output || n.slice(n.indexOf(':') + 1) === output);
    if (names.length !== 1) {
      throw new UserError(
        `stage "${stage}" has ${names.length === 0 ? 'no' : 'more than one'} output "${output}" (outputs: ${Object.keys(entry.outputs).join(', ')})`,
      );
    }
    hash = entry.outputs[names[0]!]!.hash;
  } else {
    if (!/^[0-9a-f]{4,64}$/.test(spec)) throw new UserError(`"${spec}" is neither an artifact hash nor STAGE:OUTPUT`);
    const rows = await store.rows('SELECT hash FROM artifacts WHERE hash LIKE $p LIMIT 2', { p: `${spec}%` });
    if (rows.length !== 1)
      throw new UserError(
        rows.length === 0 ? `no artifact hash starts with ${spec}` : `${spec} is ambiguous: give more of the hash`,
      );
    hash = asContentHash(String(rows[0]!.hash));
  }
  const rows = await store.rows('SELECT hash, kind, table_name FROM artifacts WHERE hash = $h', { h: hash });
  const row = rows[0];
  if (row === undefined) throw new UserError(`artifact ${hash} is not in the store`);
  return { hash, kind: String(row.kind), tableName: row.table_name === null ? null : String(row.table_name) };
}

/** Writes one artifact to a file: tables as Parquet, CSV or JSON; JSON as JSON; blobs and files as bytes. */
export async function exportArtifact(
  store: StoreReads,
  a: ArtifactInfo,
  format: ExportFormat,
  file: string,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  if (a.kind === 'table') {
    const [info] = await store.rows('SELECT table_columns FROM artifacts WHERE hash = $h', { h: a.hash });
    const types = JSON.parse(String(info?.table_columns)) as Array<{ name: string; type: ColumnType }>;
    await writeTableFile(await store.readTable(a.hash), types, format, file);
  } else if (a.kind === 'json') {
    // A directory output is exported as the directory itself, at `file`.
    const value = await store.readJson(a.hash);
    if (isManifest(value)) return restoreDirectory('', file, value, (h) => store.readBlob(h));
    if (format !== 'json')
      throw new UserError(`artifact ${a.hash.slice(0, 12)} is a JSON value: export it with --format json`);
    await writeFile(file, `${JSON.stringify(await store.readJson(a.hash), null, 2)}\n`);
  } else {
    await writeFile(file, await store.readBlob(a.hash));
  }
}

export interface BundleEntry {
  path: string;
  sha256: string;
  stage: string | null;
  output: string | null;
  artifact: string | null;
  /** For the store's own records (records/runs.parquet, ...): which table, and how many rows. */
  record?: string;
  rows?: number;
}

/**
 * A directory to attach to a paper submission: lockfile.json, the report if there is one, every
 * table output of the current lockfile as Parquet, JSON outputs and out files, the store's own
 * records of those results (runs, invocations, params, metrics, measurements, lineage) as
 * Parquet, so the bundle alone says what produced each number, on what and when, and a manifest
 * with the sha256 of every file in it and the artifact or record each came from.
 */
export async function exportBundle(
  store: StoreReads,
  lock: Lockfile,
  root: string,
  dir: string,
): Promise<BundleEntry[]> {
  const entries: BundleEntry[] = [];
  const add = async (path: string, meta: Omit<BundleEntry, 'path' | 'sha256'>) => {
    entries.push({ path, sha256: sha256Hex(await readFile(join(dir, path))), ...meta });
  };
  await mkdir(dir, { recursive: true });
  await copyFile(join(root, 'lockfile.json'), join(dir, 'lockfile.json'));
  await add('lockfile.json', { stage: null, output: null, artifact: null });
  for (const report of ['artifacts/report.html', 'artifacts/report.md']) {
    try {
      await mkdir(dirname(join(dir, report)), { recursive: true });
      await copyFile(join(root, report), join(dir, report));
      await add(report, { stage: null, output: null, artifact: null });
    } catch {
      // No report yet: the study's report stage makes it.
    }
  }
  for (const [stage, entry] of Object.entries(lock.stages).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [output, ref] of Object.entries(entry.outputs)) {
      const name = output.slice(output.indexOf(':') + 1);
      if (output.startsWith(DIR_PREFIX)) {
        const manifest = await store.readJson(ref.hash);
        if (!isManifest(manifest))
          throw new Error(`artifact ${ref.hash} (${stage} ${output}) is not a directory manifest: run pipeline verify`);
        await restoreDirectory('', join(dir, 'files', name), manifest, (h) => store.readBlob(h));
        for (const [f, h] of Object.entries(manifest.files))
          await add(join('files', name, f), { stage, output, artifact: h });
        continue;
      }
      const path =
        ref.kind === 'table'
          ? join('tables', stage, `${name}.parquet`)
          : ref.kind === 'json'
            ? join('json', stage, `${name}.json`)
            : ref.kind === 'blob'
              ? join('blobs', stage, name)
              : join('files', name);
      const info = await store.rows('SELECT table_name FROM artifacts WHERE hash = $h', { h: ref.hash });
      if (info[0] === undefined)
        throw new UserError(`artifact ${ref.hash} (${stage} ${output}) is not in the store: run pipeline verify`);
      await exportArtifact(
        store,
        { hash: ref.hash, kind: ref.kind, tableName: info[0].table_name === null ? null : String(info[0].table_name) },
        ref.kind === 'table' ? 'parquet' : 'json',
        join(dir, path),
      );
      await add(path, { stage, output, artifact: ref.hash });
    }
  }
  const fingerprints = [...new Set(Object.values(lock.stages).map((e) => e.fingerprint))].sort();
  for (const r of await exportRecords(store, fingerprints, dir))
    await add(r.path, { stage: null, output: null, artifact: null, record: r.record, rows: r.rows });
  const manifest = {
    created: new Date().toISOString(),
    note: 'sha256 of every file in this bundle, and the stored artifact each was exported from',
    files: entries,
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return entries;
}
