import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { describeFailure, UserError } from '../errors.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { FileHasher } from '../fingerprint/file-hasher.ts';
import type { PipelineGraph, ResolvedDep, StageNode } from '../graph/build.ts';
import { projectPaths } from '../project.ts';
import { asContentHash } from '../fingerprint/hash-types.ts';
import { recordOf, type Lockfile } from '../store/lockfile.ts';
import { ArtifactStore } from '../store/store.ts';
import { backendDifference } from './backend-difference.ts';
import { clearOuts, collectOutputs, restoreFile } from './collect-outputs.ts';
import type { ExecutorIO, ExecutorKind } from './executor.ts';
import { ExecutorHandle, executorKind, jobSlots } from './executors.ts';
import type { Reporter, StageReport } from './reporter.ts';
import { runRecord } from './run-record.ts';
import { Scheduler, type Settled, type StageHandler, type Visit } from './scheduler.ts';
import { assembleInputs } from './stage-inputs.ts';
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
  /** The current graph, for matrix items and timeouts; absent when pipeline.yaml no longer loads. */
  graph: PipelineGraph | undefined;
  /** Stage or matrix names; empty means every stage in the lockfile (or a sample of them). */
  targets: string[];
  sample: number | undefined;
  seed: number;
  keep: boolean;
  signal: AbortSignal;
  /** Reruns at once (`-j`), as in repro. */
  jobs?: number;
  /** Where the reruns run, as in repro. */
  executor?: ExecutorKind;
  profile?: string;
  reporter: Reporter;
  verbose?: boolean;
  onReport?: (r: RerunReport) => void;
}

/** Which lockfile stages to rerun: the named ones, or a seeded sample, or all. */
export function chooseStages(lock: Lockfile, targets: string[], sample: number | undefined, seed: number): string[] {
  const names = Object.keys(lock.stages).sort();
  let chosen = names;
  if (targets.length > 0) {
    chosen = names.filter((n) => targets.some((t) => n === t || n.startsWith(`${t}@`)));
    const unknown = targets.filter((t) => !names.some((n) => n === t || n.startsWith(`${t}@`)));
    if (unknown.length > 0) throw new UserError(`not in the lockfile: ${unknown.join(', ')}`);
  }
  if (sample !== undefined) {
    // A seeded, reproducible draw: the same --seed picks the same stages.
    chosen = [...chosen]
      .sort((a, b) => sha256Hex(`${seed}:${a}`).localeCompare(sha256Hex(`${seed}:${b}`)))
      .slice(0, sample);
  }
  return chosen.sort();
}

const COPY_EXCLUDES = new Set(['node_modules', '.git', '.pipeline', 'artifacts']);

/**
 * `verify --rerun`: runs recorded stages again from their stored inputs, in a scratch copy of
 * the project with a scratch store, and compares every output hash with the recorded one. The
 * real work tree and store are only read. The reruns go through the scheduler and executors
 * `repro` uses, so `-j`, a stage's `timeout:`, Ctrl-C, `--executor slurm` and the progress
 * display behave as they do there.
 */
export async function rerunStages(opts: RerunOptions): Promise<{ reports: RerunReport[]; scratch: string }> {
  const chosen = chooseStages(opts.lock, opts.targets, opts.sample, opts.seed);
  const kind = executorKind(opts.executor, opts.graph?.executor?.slurm);
  // A Slurm job must see the scratch project at the same path, so it lives in the project's
  // own scratch directory (on the filesystem the cluster shares) rather than in /tmp.
  const parent = kind === 'slurm' ? join(opts.root, '.pipeline', 'rerun') : tmpdir();
  await mkdir(parent, { recursive: true });
  const scratch = await mkdtemp(join(parent, 'pipeline-rerun-'));
  for (const entry of await readdir(opts.root, { withFileTypes: true })) {
    if (COPY_EXCLUDES.has(entry.name)) continue;
    await cp(join(opts.root, entry.name), join(scratch, entry.name), { recursive: true });
  }
  await symlink(join(opts.root, 'node_modules'), join(scratch, 'node_modules')).catch(() => undefined);
  const store = await ArtifactStore.open(projectPaths(opts.root).store, { readOnly: true });
  const scratchStore = await ArtifactStore.open(projectPaths(scratch).store);
  const run = new RerunRun(opts, scratch, store, scratchStore, kind);
  try {
    await run.execute(chosen);
  } finally {
    await store.close();
    await scratchStore.close();
    if (!opts.keep) await rm(scratch, { recursive: true, force: true });
  }
  const byName = new Map(run.reports.map((r) => [r.stage, r]));
  return { reports: chosen.flatMap((n) => byName.get(n) ?? []), scratch };
}

/** The scheduler's handler for a rerun: every chosen stage is rerun; order only keeps the scratch tree consistent. */
class RerunRun implements StageHandler<RerunReport['status']> {
  readonly reports: RerunReport[] = [];
  private readonly executor: ExecutorHandle;
  private readonly scheduler: Scheduler<RerunReport['status']>;
  private readonly invocation: string;

  constructor(
    private readonly opts: RerunOptions,
    private readonly scratch: string,
    private readonly store: ArtifactStore,
    private readonly scratchStore: ArtifactStore,
    kind: ExecutorKind,
  ) {
    this.invocation = `rerun-${basename(scratch)}`;
    const slurm = opts.graph?.executor?.slurm;
    this.executor = new ExecutorHandle({
      kind,
      root: scratch,
      slurm,
      runId: this.invocation,
      signal: opts.signal,
      profile: opts.profile,
    });
    // A rerun that fails says so in its report; it does not stop the reruns of other stages.
    this.scheduler = new Scheduler(
      { jobs: jobSlots(opts.jobs, kind, slurm), keepGoing: true, signal: opts.signal },
      this,
    );
  }

  async execute(chosen: string[]): Promise<void> {
    const set = new Set(chosen);
    // A stage whose input is another chosen stage's out file reruns after it: that stage's rerun
    // rewrites the file in the scratch tree, and this one must find the recorded bytes restored.
    const producers = new Map<string, string>();
    for (const name of chosen) {
      const e = this.opts.lock.stages[name]!;
      for (const out of [...e.outs, ...e.metric_files]) producers.set(out, name);
    }
    const upstreamOf = (name: string): string[] => {
      const deps = Object.keys(this.opts.lock.stages[name]!.deps);
      return [...new Set(deps.flatMap((d) => (set.has(d) ? [d] : producers.has(d) ? [producers.get(d)!] : [])))].filter(
        (u) => u !== name,
      );
    };
    try {
      await this.scheduler.run(chosen, upstreamOf);
    } finally {
      await this.executor.close();
    }
  }

  outside(): Settled<RerunReport['status']> {
    return { ok: true, value: 'skipped' };
  }

  blocked(): Settled<RerunReport['status']> {
    return { ok: false, kind: 'skipped', reason: 'interrupted' };
  }

  async crashed(name: string, error: unknown): Promise<Settled<RerunReport['status']>> {
    const message = await describeFailure(
      this.opts.root,
      `while rerunning stage ${name}`,
      error,
      this.opts.verbose ?? false,
    );
    this.report({ stage: name, status: 'failed', details: [message], seconds: 0 });
    return { ok: true, value: 'failed' };
  }

  private report(r: RerunReport): void {
    this.reports.push(r);
    const status: StageReport['status'] = r.status === 'reproduced' || r.status === 'differs' ? 'ran' : r.status;
    this.opts.reporter.stageFinished({
      name: r.stage,
      status,
      fingerprint: this.opts.lock.stages[r.stage]?.fingerprint ?? null,
      seconds: r.seconds,
      reasons: r.status === 'skipped' ? r.details : [],
      ...(status === 'ran' ? { verdict: r.status as 'reproduced' | 'differs' } : {}),
      ...(r.status === 'failed' ? { error: r.details[0] ?? 'failed', tail: r.details.slice(1) } : {}),
    });
    this.opts.onReport?.(r);
  }

  async visit(name: string, v: Visit<RerunReport['status']>): Promise<Settled<RerunReport['status']>> {
    const release = await v.slot();
    if (release === undefined) return { ok: false, kind: 'skipped', reason: 'interrupted' };
    try {
      const r = await this.rerunOne(name);
      this.report(r);
      return { ok: true, value: r.status };
    } finally {
      release();
    }
  }

  private async rerunOne(name: string): Promise<RerunReport> {
    const { lock, graph, reporter, signal } = this.opts;
    const scratch = this.scratch;
    const entry = lock.stages[name]!;
    const record = recordOf(entry);
    const started = Date.now();
    const done = (status: RerunReport['status'], details: string[]): RerunReport => ({
      stage: name,
      status,
      details,
      seconds: (Date.now() - started) / 1000,
    });
    // A fresh hasher each time: earlier reruns rewrite files in the scratch tree.
    const hasher = await FileHasher.open(scratch);

    for (const [file, hash] of Object.entries(record.code)) {
      if ((await hasher.hash(file)) !== hash)
        return done('skipped', [`code ${file} differs from the recorded run; check out the commit that made it`]);
    }
    const stageDeps = Object.keys(record.deps)
      .filter((d) => lock.stages[d] !== undefined)
      .sort();
    for (const [dep, hash] of Object.entries(record.deps)) {
      if (stageDeps.includes(dep) || (await hasher.hash(dep)) === hash) continue;
      // An input written by another stage is in the store as that stage's out file: put it back.
      // A file dependency's recorded hash is its content hash.
      const bytes = await this.store.findBlob(asContentHash(hash));
      if (bytes === undefined)
        return done('skipped', [`input ${dep} differs from the recorded one and is not in the store`]);
      await restoreFile(scratch, dep, bytes);
      hasher.invalidate(dep);
    }

    const current = graph?.stages.get(name)?.spec;
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
      item: current?.item,
      alwaysChanged: false,
      timeoutMs: current?.timeoutMs,
      desc: undefined,
      ...(current?.resources === undefined ? {} : { resources: current.resources }),
      yamlPath: [],
    };
    const deps: ResolvedDep[] = spec.deps.map((d) =>
      stageDeps.includes(d) ? { kind: 'stage', stage: d } : { kind: 'file', path: d },
    );
    const node: StageNode = { spec, deps, upstream: stageDeps };
    const inputs =
      spec.kind !== 'uses'
        ? []
        : await assembleInputs(
            stageDeps.map((d) => {
              const up = lock.stages[d]!;
              return {
                name: d,
                group: d.split('@')[0] ?? d,
                params: up.params,
                item: graph?.stages.get(d)?.spec.item,
                entry: up,
              };
            }),
            (f) => this.store.measurementsOf(f),
          );
    await clearOuts(scratch, spec);
    const io: ExecutorIO = {
      log: (l) => reporter.stageLog(name, l),
      progress: (p) => reporter.stageProgress(name, p),
      state: (text) => reporter.stageState(name, text),
    };
    reporter.stageStarted(name, ['rerun from the recorded inputs']);
    const store = this.store;
    const executor = await this.executor.get();
    let outcome: StageOutcome;
    try {
      outcome = await executor.run(
        {
          name,
          node,
          root: scratch,
          record,
          fingerprint: entry.fingerprint,
          upstream: new Map(stageDeps.map((d) => [d, lock.stages[d]!.outputsHash])),
          inputs,
          read: (kind, h) =>
            kind === 'table' ? store.readTable(h) : kind === 'json' ? store.readJson(h) : store.readBlob(h),
        },
        io,
        signal,
      );
    } catch (e) {
      outcome = {
        ok: false,
        message: await describeFailure(this.opts.root, `while rerunning stage ${name}`, e, this.opts.verbose ?? false),
        tail: [],
        interrupted: false,
      };
    }
    if (!outcome.ok) return done('failed', [outcome.message, ...outcome.tail.slice(-5)]);
    let collected;
    try {
      collected = await collectOutputs(scratch, spec, outcome.outputs);
    } catch (e) {
      return done('failed', [(e as Error).message]);
    }
    await this.scratchStore.commit({
      result: {
        fingerprint: entry.fingerprint,
        stage: name,
        outputs: collected.outputs,
        outputsHash: collected.outputsHash,
        metrics: collected.metrics,
      },
      fingerprintRecord: record,
      inputs: {},
      params: record.params,
      artifacts: collected.artifacts,
      measurements: collected.measurements,
      run: runRecord({
        invocation: this.invocation,
        stage: name,
        fingerprint: entry.fingerprint,
        status: 'ran',
        started,
        provenance: outcome.provenance,
        error: null,
        host: '',
      }),
    });
    const differences: string[] = [];
    for (const out of new Set([...Object.keys(entry.outputs), ...Object.keys(collected.outputs)])) {
      const want = entry.outputs[out]?.hash;
      const got = collected.outputs[out]?.hash;
      if (want !== got)
        differences.push(`${out}: recorded ${want?.slice(0, 12) ?? '(none)'}, rerun ${got?.slice(0, 12) ?? '(none)'}`);
    }
    for (const m of new Set([...Object.keys(entry.metrics), ...Object.keys(collected.metrics)])) {
      if (canonicalJson(entry.metrics[m]) !== canonicalJson(collected.metrics[m]))
        differences.push(`metric ${m}: recorded ${String(entry.metrics[m])}, rerun ${String(collected.metrics[m])}`);
    }
    if (differences.length === 0)
      return done('reproduced', [`${Object.keys(collected.outputs).length} outputs bit for bit`]);
    // Computed on another backend (GPU floats are not wasm's): say so rather than look like tampering.
    const recorded = await this.store.recordedBackend(entry.fingerprint);
    const rerunBackend = typeof outcome.provenance.backend === 'string' ? outcome.provenance.backend : null;
    const why = backendDifference(recorded, { backend: rerunBackend, provenance: outcome.provenance });
    return done('differs', why === undefined ? differences : [why, ...differences]);
  }
}
