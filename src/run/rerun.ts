import { cp, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { canonicalJson, sha256 } from '../fingerprint/canonical-json.ts';
import { FileHasher } from '../fingerprint/file-hasher.ts';
import type { PipelineGraph } from '../graph/build.ts';
import { projectPaths } from '../project.ts';
import type { LockEntry, Lockfile } from '../store/lockfile.ts';
import { ArtifactStore } from '../store/store.ts';
import { recordOf } from '../store/verify.ts';
import { backendDifference, type RunBackend } from './backend-difference.ts';
import { clearOuts, collectOutputs, restoreFile } from './collect-outputs.ts';
import { runCmdStage } from './run-cmd-stage.ts';
import { runUsesStage } from './run-uses-stage.ts';
import type { StageOutcome } from './stage-outcome.ts';

export interface RerunReport {
  stage: string;
  status: 'reproduced' | 'differs' | 'failed' | 'skipped';
  details: string[];
  seconds: number;
}

export interface RerunOptions {
  root: string;
  lock: Lockfile;
  /** The current graph, for matrix items; absent when pipeline.yaml no longer loads. */
  graph: PipelineGraph | undefined;
  /** Stage or matrix names; empty means every stage in the lockfile (or a sample of them). */
  targets: string[];
  sample: number | undefined;
  seed: number;
  keep: boolean;
  signal: AbortSignal;
  onReport?: (r: RerunReport) => void;
}

/** Which lockfile stages to rerun: the named ones, or a seeded sample, or all. */
export function chooseStages(lock: Lockfile, targets: string[], sample: number | undefined, seed: number): string[] {
  const names = Object.keys(lock.stages).sort();
  let chosen = names;
  if (targets.length > 0) {
    chosen = names.filter((n) => targets.some((t) => n === t || n.startsWith(`${t}@`)));
    const unknown = targets.filter((t) => !names.some((n) => n === t || n.startsWith(`${t}@`)));
    if (unknown.length > 0) throw new Error(`not in lockfile.json: ${unknown.join(', ')}`);
  }
  if (sample !== undefined) {
    // A seeded, reproducible draw: the same --seed picks the same stages.
    chosen = [...chosen].sort((a, b) => sha256(`${seed}:${a}`).localeCompare(sha256(`${seed}:${b}`))).slice(0, sample);
  }
  return chosen.sort();
}

const COPY_EXCLUDES = new Set(['node_modules', '.git', '.pipeline', 'artifacts']);

/**
 * `verify --rerun`: runs recorded stages again from their stored inputs, in a scratch copy of
 * the project with a scratch store, and compares every output hash with the recorded one. The
 * real work tree and store are only read.
 */
export async function rerunStages(opts: RerunOptions): Promise<{ reports: RerunReport[]; scratch: string }> {
  const chosen = chooseStages(opts.lock, opts.targets, opts.sample, opts.seed);
  const scratch = await mkdtemp(join(tmpdir(), 'pipeline-rerun-'));
  for (const entry of await readdir(opts.root, { withFileTypes: true })) {
    if (COPY_EXCLUDES.has(entry.name)) continue;
    await cp(join(opts.root, entry.name), join(scratch, entry.name), { recursive: true });
  }
  await symlink(join(opts.root, 'node_modules'), join(scratch, 'node_modules')).catch(() => undefined);
  const store = await ArtifactStore.open(projectPaths(opts.root).store, { readOnly: true });
  const scratchStore = await ArtifactStore.open(projectPaths(scratch).store);
  const reports: RerunReport[] = [];
  try {
    for (const name of chosen) {
      if (opts.signal.aborted) break;
      const report = await rerunOne(name, opts, scratch, store, scratchStore);
      reports.push(report);
      opts.onReport?.(report);
    }
  } finally {
    await store.close();
    await scratchStore.close();
    if (!opts.keep) await rm(scratch, { recursive: true, force: true });
  }
  return { reports, scratch };
}

async function rerunOne(name: string, opts: RerunOptions, scratch: string, store: ArtifactStore, scratchStore: ArtifactStore): Promise<RerunReport> {
  const entry = opts.lock.stages[name]!;
  const record = recordOf(entry);
  const started = Date.now();
  const done = (status: RerunReport['status'], details: string[]): RerunReport => ({ stage: name, status, details, seconds: (Date.now() - started) / 1000 });
  // A fresh hasher each time: earlier reruns rewrite files in the scratch tree.
  const hasher = await FileHasher.open(scratch);

  for (const [file, hash] of Object.entries(record.code)) {
    if ((await hasher.hash(file)) !== hash) return done('skipped', [`code ${file} differs from the recorded run; check out the commit that made it`]);
  }
  const stageDeps = Object.keys(record.deps).filter((d) => opts.lock.stages[d] !== undefined).sort();
  for (const [dep, hash] of Object.entries(record.deps)) {
    if (stageDeps.includes(dep) || (await hasher.hash(dep)) === hash) continue;
    // An input written by another stage is in the store as that stage's out file: put it back.
    const blob = await store.rows('SELECT bytes FROM blobs WHERE hash = $h', { h: hash });
    const bytes = blob[0]?.bytes;
    if (!(bytes instanceof Uint8Array)) return done('skipped', [`input ${dep} differs from the recorded one and is not in the store`]);
    await restoreFile(scratch, dep, bytes);
    hasher.invalidate(dep);
  }

  const spec: StageSpec = {
    name,
    group: name.split('@')[0] ?? name,
    kind: record.kind,
    cmd: record.cmd ?? [],
    uses: record.uses ?? undefined,
    deps: Object.keys(record.deps),
    params: record.params,
    outs: record.outs,
    metrics: record.metric_files,
    item: opts.graph?.stages.get(name)?.spec.item,
    alwaysChanged: false,
    timeoutMs: opts.graph?.stages.get(name)?.spec.timeoutMs,
    desc: undefined,
    yamlPath: [],
  };
  await clearOuts(scratch, spec);
  const io = { log: () => undefined, progress: () => undefined };
  let outcome: StageOutcome;
  if (spec.kind === 'cmd') outcome = await runCmdStage(spec, scratch, io, opts.signal);
  else {
    const inputs = [];
    for (const d of stageDeps) {
      const up: LockEntry = opts.lock.stages[d]!;
      inputs.push({ name: d, fingerprint: up.fingerprint, group: d.split('@')[0] ?? d, params: up.params, item: opts.graph?.stages.get(d)?.spec.item, metrics: up.metrics, measurements: await store.measurementsOf(up.fingerprint), outputs: up.outputs });
    }
    outcome = await runUsesStage(
      { module: spec.uses!, name, group: spec.group, params: spec.params, item: spec.item, root: scratch, files: spec.deps.filter((d) => !stageDeps.includes(d)).sort(), outs: [...spec.outs, ...spec.metrics], inputs },
      io,
      (kind, h) => (kind === 'table' ? store.readTable(h) : kind === 'json' ? store.readJson(h) : store.readBlob(h)),
      opts.signal,
    );
  }
  if (!outcome.ok) return done('failed', [outcome.message, ...outcome.tail.slice(-5)]);
  let collected;
  try {
    collected = await collectOutputs(scratch, spec, outcome.outputs);
  } catch (e) {
    return done('failed', [(e as Error).message]);
  }
  await scratchStore.commit({
    result: { fingerprint: entry.fingerprint, stage: name, outputs: collected.outputs, outputsHash: collected.outputsHash, metrics: collected.metrics },
    fingerprintRecord: record,
    inputs: {},
    params: record.params,
    artifacts: collected.artifacts,
    measurements: collected.measurements,
    run: {
      invocation: `rerun-${basename(scratch)}`,
      stage: name,
      fingerprint: entry.fingerprint,
      status: 'ran',
      cacheHit: false,
      started: new Date(started),
      seconds: (Date.now() - started) / 1000,
      host: '',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      backend: typeof outcome.provenance.backend === 'string' ? outcome.provenance.backend : null,
      provenance: outcome.provenance,
      error: null,
    },
  });
  const differences: string[] = [];
  for (const out of new Set([...Object.keys(entry.outputs), ...Object.keys(collected.outputs)])) {
    const want = entry.outputs[out]?.hash;
    const got = collected.outputs[out]?.hash;
    if (want !== got) differences.push(`${out}: recorded ${want?.slice(0, 12) ?? '(none)'}, rerun ${got?.slice(0, 12) ?? '(none)'}`);
  }
  for (const m of new Set([...Object.keys(entry.metrics), ...Object.keys(collected.metrics)])) {
    if (canonicalJson(entry.metrics[m]) !== canonicalJson(collected.metrics[m])) differences.push(`metric ${m}: recorded ${String(entry.metrics[m])}, rerun ${String(collected.metrics[m])}`);
  }
  if (differences.length === 0) return done('reproduced', [`${Object.keys(collected.outputs).length} outputs bit for bit`]);
  const [ran] = await store.rows("SELECT backend, provenance FROM runs WHERE fingerprint = $f AND status = 'ran' ORDER BY started DESC LIMIT 1", { f: entry.fingerprint });
  const recorded: RunBackend | undefined = ran === undefined ? undefined : { backend: (ran.backend as string | null) ?? null, provenance: JSON.parse(String(ran.provenance ?? '{}')) };
  const why = backendDifference(recorded, { backend: typeof outcome.provenance.backend === 'string' ? outcome.provenance.backend : null, provenance: outcome.provenance });
  return done('differs', why === undefined ? differences : [why, ...differences]);
}
