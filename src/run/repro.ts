import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConfigFailure } from '../config/failure.ts';
import { loadProject } from '../config/load-project.ts';
import { computeFingerprint } from '../fingerprint/compute.ts';
import { FileHasher } from '../fingerprint/file-hasher.ts';
import { explainChange, fingerprintHash, type Fingerprint } from '../fingerprint/fingerprint.ts';
import { ModuleGraph } from '../fingerprint/module-graph.ts';
import type { PipelineGraph } from '../graph/build.ts';
import { selectStages } from '../graph/select.ts';
import { projectPaths, type ProjectPaths } from '../project.ts';
import { readLockfile, writeLockfile, type LockEntry, type Lockfile } from '../store/lockfile.ts';
import { ArtifactStore, type RunRecord, type StoredResult } from '../store/store.ts';
import { clearOuts, collectOutputs, restoreFile } from './collect-outputs.ts';
import type { ExecutorIO, ExecutorKind, StageExecutor } from './executor.ts';
import { LocalExecutor } from './local-executor.ts';
import { ProjectLock } from './project-lock.ts';
import { collectProvenance } from './provenance.ts';
import type { Reporter, StageReport } from './reporter.ts';
import { Semaphore } from './semaphore.ts';
import type { JobReport, StageOutcome } from './stage-outcome.ts';
import type { UpstreamManifest } from './worker-protocol.ts';

export interface ReproOptions {
  root: string;
  targets: string[];
  /** Run the selected stages even when their results are cached. */
  force: boolean;
  /** Decide and explain, run nothing, write nothing. */
  dry: boolean;
  /** Select the targets and what depends on them instead of what they depend on. */
  downstream: boolean;
  /** Stages running (or jobs in a cluster's queue) at once; default 1, or `executor.slurm.jobs`. */
  jobs?: number;
  /** Keep starting independent stages after one fails. */
  keepGoing: boolean;
  /** Wait for another process's writer lock instead of failing. */
  wait: boolean;
  /** Consult the store for results not in the lockfile (false for `status`, which reads only the lockfile). */
  useStore: boolean;
  reporter: Reporter;
  signal: AbortSignal;
  /** Recorded with the run, for provenance. */
  command: string;
  /** profiles/NAME.yaml whose vars replace pipeline.yaml's. */
  profile?: string;
  /** Where stages run; default: Slurm when pipeline.yaml has `executor: {slurm: ...}`, else here. */
  executor?: ExecutorKind;
  /** Told when a (non-dry) run has opened the store for writing: the read socket serves from it. */
  onStoreOpen?: (store: ArtifactStore) => void;
}

export type ReproResult =
  | { kind: 'config-error'; failures: ConfigFailure[] }
  | {
      kind: 'done';
      stages: StageReport[];
      interrupted: boolean;
      executor: ExecutorKind;
      /** Jobs submitted to a cluster in this run (0 when every stage was a cache hit, or locally). */
      submitted: number;
    };

/** An upstream stage's resolution as seen by its dependents. */
type Settled = { ok: true; outputsHash: string } | { ok: false; reason: string; wouldRun?: boolean };

/**
 * `pipeline repro`: brings the selected stages up to date. A stage whose fingerprint matches the
 * lockfile and whose files are intact is done without touching the store; one whose fingerprint
 * is in the store (any earlier run) is restored from it; the rest run, up to `jobs` at a time,
 * each committed to the store in one transaction and then to the lockfile.
 */
export async function repro(opts: ReproOptions): Promise<ReproResult> {
  const paths = projectPaths(opts.root);
  const loaded = await loadProject(opts.root, paths.pipelineFile, paths.expansionCache, opts.profile);
  if (!loaded.ok) return { kind: 'config-error', failures: loaded.error };
  const graph = loaded.value;
  const selected = selectStages(graph, opts.targets, { downstream: opts.downstream });
  if (!selected.ok) return { kind: 'config-error', failures: selected.error };

  const writer = opts.dry ? undefined : await ProjectLock.acquire(paths.writerLock, { wait: opts.wait });
  try {
    const run = new ReproRun(opts, paths, graph, await readLockfile(paths.lockfile));
    return await run.execute(selected.value);
  } finally {
    await writer?.release();
  }
}

class ReproRun {
  private readonly settled = new Map<string, Promise<Settled>>();
  private readonly reports: StageReport[] = [];
  private readonly slots: Semaphore;
  private readonly invocation = randomUUID();
  private readonly storeExisted: boolean;
  private store: Promise<ArtifactStore | undefined> | undefined;
  private hasher!: FileHasher;
  private modules!: ModuleGraph;
  private selected = new Set<string>();
  private readonly executorKind: ExecutorKind;
  private executor: StageExecutor | undefined;
  private stopping = false;
  private lockDirty = false;
  private lockWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: ReproOptions,
    private readonly paths: ProjectPaths,
    private readonly graph: PipelineGraph,
    private readonly lock: Lockfile,
  ) {
    this.executorKind = opts.executor ?? (graph.executor?.slurm !== undefined ? 'slurm' : 'local');
    this.slots = new Semaphore(opts.jobs ?? (this.executorKind === 'slurm' ? graph.executor?.slurm?.jobs : undefined) ?? 1);
    this.storeExisted = existsSync(paths.store);
    opts.signal.addEventListener('abort', () => (this.stopping = true), { once: true });
  }

  async execute(order: string[]): Promise<ReproResult> {
    this.hasher = await FileHasher.open(this.opts.root, this.opts.dry ? undefined : this.paths.fileHashCache);
    this.modules = await ModuleGraph.open(this.opts.root, this.hasher, this.opts.dry ? undefined : this.paths.moduleCache);
    this.selected = new Set(order);
    try {
      await Promise.all(order.map((n) => this.settle(n)));
      if (!this.opts.dry) {
        for (const name of Object.keys(this.lock.stages)) {
          if (!this.graph.stages.has(name)) {
            delete this.lock.stages[name];
            this.lockDirty = true;
          }
        }
        await this.writeLock();
        await this.hasher.save();
        await this.modules.save();
      }
    } finally {
      await this.executor?.close();
      const store = await this.store?.catch(() => undefined);
      if (store !== undefined && !this.opts.dry) {
        const failed = this.reports.some((r) => r.status === 'failed');
        await store.finishInvocation(this.invocation, this.opts.signal.aborted ? 130 : failed ? 1 : 0).catch(() => undefined);
      }
      await store?.close();
    }
    const byName = new Map(this.reports.map((r) => [r.name, r]));
    return {
      kind: 'done',
      stages: order.flatMap((n) => byName.get(n) ?? []),
      interrupted: this.opts.signal.aborted,
      executor: this.executorKind,
      submitted: this.executor?.submitted ?? 0,
    };
  }

  /**
   * Made when the first stage must run, so a run of cache hits never loads the Slurm code or
   * asks the cluster anything.
   */
  private async getExecutor(): Promise<StageExecutor> {
    if (this.executor !== undefined) return this.executor;
    if (this.executorKind === 'local') this.executor = new LocalExecutor();
    else {
      const { SlurmExecutor } = await import('./slurm/slurm-executor.ts');
      this.executor ??= new SlurmExecutor({
        root: this.opts.root,
        settings: this.graph.executor?.slurm ?? {},
        runId: this.invocation,
        signal: this.opts.signal,
        ...(this.opts.profile === undefined ? {} : { profile: this.opts.profile }),
      });
    }
    return this.executor;
  }

  private settle(name: string): Promise<Settled> {
    let p = this.settled.get(name);
    if (p === undefined) {
      p = this.selected.has(name) ? this.process(name) : this.recorded(name);
      this.settled.set(name, p);
    }
    return p;
  }

  /** An upstream stage outside the selection (with --downstream) counts as its recorded result. */
  private async recorded(name: string): Promise<Settled> {
    const entry = this.lock.stages[name];
    return entry === undefined
      ? { ok: false, reason: `upstream ${name} has no recorded result (run it first)` }
      : { ok: true, outputsHash: entry.outputs_hash };
  }

  private finish(report: StageReport): void {
    this.reports.push(report);
    this.opts.reporter.stageFinished(report);
  }

  private openStore(): Promise<ArtifactStore | undefined> {
    this.store ??= (async () => {
      if (this.opts.dry && !this.storeExisted) return undefined;
      const store = await ArtifactStore.open(this.paths.store);
      if (!this.opts.dry) {
        this.opts.onStoreOpen?.(store);
        await store.recordInvocation(await collectProvenance(this.opts.root, this.invocation, this.opts.command));
      }
      return store;
    })();
    return this.store;
  }

  private async process(name: string): Promise<Settled> {
    const node = this.graph.stages.get(name);
    if (node === undefined) throw new Error(`unknown stage ${name}`);
    const upstream = new Map<string, string>();
    for (const u of node.upstream) {
      const s = await this.settle(u);
      if (!s.ok) {
        const report: StageReport = { name, status: s.wouldRun ? 'would-run' : 'skipped', fingerprint: null, seconds: 0, reasons: [s.wouldRun ? `upstream ${u} will run` : s.reason] };
        this.finish(report);
        return { ok: false, reason: `upstream ${u} did not complete`, wouldRun: s.wouldRun ?? false };
      }
      upstream.set(u, s.outputsHash);
    }
    let fp: Fingerprint;
    try {
      fp = await computeFingerprint(this.graph, name, upstream, this.hasher, this.modules);
    } catch (e) {
      return this.fail(name, null, 0, (e as Error).message, []);
    }
    const hash = fingerprintHash(fp);
    const entry = this.lock.stages[name];
    const forced = this.opts.force || node.spec.alwaysChanged;
    let reasons = entry?.fingerprint === hash ? [] : explainChange(entry, fp);

    if (!forced && entry?.fingerprint === hash) {
      const damaged = await this.damagedFiles(entry);
      if (damaged.length === 0 && (this.storeExisted || !this.opts.useStore)) {
        this.finish({ name, status: 'cached', cache: 'lockfile', fingerprint: hash, seconds: 0, reasons: [] });
        return { ok: true, outputsHash: entry.outputs_hash };
      }
      reasons = damaged.length > 0 ? damaged : ['the store has no results yet'];
    }
    if (!forced && this.opts.useStore) {
      const cached = await this.fromStore(name, fp, hash, reasons);
      if (cached !== undefined) return cached;
    }
    if (forced) reasons = [node.spec.alwaysChanged ? 'always_changed' : 'forced', ...reasons];
    if (this.opts.dry) {
      this.finish({ name, status: 'would-run', fingerprint: hash, seconds: 0, reasons });
      return { ok: false, reason: 'would run', wouldRun: true };
    }
    if (this.stopping) {
      this.finish({ name, status: 'skipped', fingerprint: hash, seconds: 0, reasons: ['the run is stopping'] });
      return { ok: false, reason: 'not run' };
    }
    const release = await this.slots.acquire();
    try {
      if (this.stopping) {
        this.finish({ name, status: 'skipped', fingerprint: hash, seconds: 0, reasons: ['the run is stopping'] });
        return { ok: false, reason: 'not run' };
      }
      return await this.runStage(name, fp, hash, upstream, reasons);
    } finally {
      release();
    }
  }

  /** Out files that are missing or differ from what the lockfile recorded. */
  private async damagedFiles(entry: LockEntry): Promise<string[]> {
    const damaged: string[] = [];
    for (const [name, ref] of Object.entries(entry.outputs)) {
      if (ref.kind !== 'file') continue;
      const path = name.slice('file:'.length);
      const h = await this.hasher.hash(path);
      if (h !== ref.hash) damaged.push(h === undefined ? `${path} is missing` : `${path} was modified`);
    }
    return damaged;
  }

  private async fromStore(name: string, fp: Fingerprint, hash: string, reasons: string[]): Promise<Settled | undefined> {
    let store: ArtifactStore | undefined;
    try {
      store = await this.openStore();
    } catch (e) {
      if (this.opts.dry) return undefined;
      throw e;
    }
    const found = await store?.findResult(hash);
    if (store === undefined || found === undefined) return undefined;
    if (this.opts.dry) {
      this.finish({ name, status: 'cached', cache: 'store', fingerprint: hash, seconds: 0, reasons });
      return { ok: true, outputsHash: found.outputsHash };
    }
    const started = Date.now();
    for (const [outName, ref] of Object.entries(found.outputs)) {
      if (ref.kind !== 'file') continue;
      const path = outName.slice('file:'.length);
      if ((await this.hasher.hash(path)) === ref.hash) continue;
      await restoreFile(this.opts.root, path, await store.readBlob(ref.hash));
      this.hasher.invalidate(path);
    }
    this.setLockEntry(name, fp, found);
    await store.recordRun(this.runRecord(name, hash, 'cached', started, {}, null));
    this.finish({ name, status: 'cached', cache: 'store', fingerprint: hash, seconds: (Date.now() - started) / 1000, reasons });
    return { ok: true, outputsHash: found.outputsHash };
  }

  private async runStage(name: string, fp: Fingerprint, hash: string, upstream: Map<string, string>, reasons: string[]): Promise<Settled> {
    const node = this.graph.stages.get(name)!;
    const { spec } = node;
    const { reporter, root } = this.opts;
    const store = await this.openStore();
    if (store === undefined) throw new Error('the store could not be opened');
    const executor = await this.getExecutor();
    reporter.stageStarted(name, reasons);
    const started = Date.now();
    const io: ExecutorIO = {
      log: (l) => reporter.stageLog(name, l),
      progress: (p) => reporter.stageProgress(name, p),
      state: (text) => reporter.stageState(name, text),
    };
    await clearOuts(root, spec);
    for (const out of [...spec.outs, ...spec.metrics]) this.hasher.invalidate(out);
    const inputs: UpstreamManifest[] = [];
    if (spec.kind === 'uses') {
      for (const d of node.deps) {
        if (d.kind !== 'stage') continue;
        const e = this.lock.stages[d.stage];
        const up = this.graph.stages.get(d.stage)!.spec;
        if (e === undefined) continue;
        inputs.push({ name: d.stage, fingerprint: e.fingerprint, group: up.group, params: up.params, item: up.item, metrics: e.metrics, measurements: await store.measurementsOf(e.fingerprint), outputs: e.outputs });
      }
      // Sorted by name, not in declaration order: the order must be recoverable from the
      // recorded fingerprint alone, so `verify --rerun` hands a stage the same inputs.
      inputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    let outcome: StageOutcome;
    try {
      outcome = await executor.run(
        {
          name,
          node,
          root,
          fingerprint: fp,
          hash,
          upstream,
          inputs,
          read: (kind, h) => (kind === 'table' ? store.readTable(h) : kind === 'json' ? store.readJson(h) : store.readBlob(h)),
        },
        io,
        this.opts.signal,
      );
    } catch (e) {
      outcome = { ok: false, message: (e as Error).message, tail: [], interrupted: false };
    }
    const seconds = (Date.now() - started) / 1000;
    const job = outcome.job;
    if (!outcome.ok) {
      await store.recordRun(this.runRecord(name, hash, 'failed', started, jobProvenance(job), outcome.message)).catch(() => undefined);
      return this.fail(name, hash, seconds, outcome.message, outcome.tail, job);
    }
    try {
      const collected = await collectOutputs(root, spec, outcome.outputs);
      const result: StoredResult = { fingerprint: hash, stage: name, outputs: collected.outputs, outputsHash: collected.outputsHash, metrics: collected.metrics };
      const provenance = { ...outcome.provenance, ...jobProvenance(job) };
      await store.commit({
        result,
        fingerprintRecord: fp,
        // Lineage names each upstream by its output-set hash, so an edge leads to the stored result.
        inputs: Object.fromEntries(
          node.deps.map((d) =>
            d.kind === 'stage' ? [d.stage, { kind: 'stage' as const, hash: upstream.get(d.stage)! }] : [d.path, { kind: 'file' as const, hash: fp.deps[d.path]! }],
          ),
        ),
        params: spec.params,
        artifacts: collected.artifacts,
        measurements: collected.measurements,
        run: this.runRecord(name, hash, 'ran', started, provenance, null, outcome.host),
      });
      this.setLockEntry(name, fp, result);
      await this.writeLock(name);
      this.finish({ name, status: 'ran', fingerprint: hash, seconds, reasons, ...(job === undefined ? {} : { job }) });
      return { ok: true, outputsHash: collected.outputsHash };
    } catch (e) {
      return this.fail(name, hash, seconds, (e as Error).message, [], job);
    }
  }

  private fail(name: string, fingerprint: string | null, seconds: number, error: string, tail: string[], job?: JobReport): Settled {
    if (!this.opts.keepGoing) this.stopping = true;
    this.finish({ name, status: 'failed', fingerprint, seconds, reasons: [], error, tail, ...(job === undefined ? {} : { job }) });
    return { ok: false, reason: `${name} failed` };
  }

  private runRecord(
    name: string,
    fingerprint: string,
    status: RunRecord['status'],
    started: number,
    provenance: RunRecord['provenance'],
    error: string | null,
    host = hostname(),
  ): RunRecord {
    const backend = provenance.backend;
    return {
      invocation: this.invocation,
      stage: name,
      fingerprint,
      status,
      cacheHit: status === 'cached',
      started: new Date(started),
      seconds: (Date.now() - started) / 1000,
      host,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      backend: typeof backend === 'string' ? backend : null,
      provenance,
      error,
    };
  }

  private setLockEntry(name: string, fp: Fingerprint, result: StoredResult): void {
    this.lock.stages[name] = { ...fp, fingerprint: result.fingerprint, outputs: result.outputs, outputs_hash: result.outputsHash, metrics: result.metrics };
    this.lockDirty = true;
  }

  /** Lockfile writes are chained so two stages finishing together cannot interleave them. */
  private writeLock(stage = ''): Promise<void> {
    this.lockWrites = this.lockWrites.then(async () => {
      if (!this.lockDirty) return;
      this.lockDirty = false;
      await writeLockfile(this.paths.lockfile, this.lock, stage);
    });
    return this.lockWrites;
  }
}

/** A cluster job's identity and outcome, kept with the run record for audits. */
function jobProvenance(job: JobReport | undefined): RunRecord['provenance'] {
  if (job === undefined) return {};
  return { slurm_job_id: job.id, slurm_state: job.state, slurm_exit_code: job.exitCode, slurm_node: job.node };
}
