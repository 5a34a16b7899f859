import { randomUUID } from 'node:crypto';
import type { ConfigFailure } from '../config/failure.ts';
import { describeFailure } from '../errors.ts';
import { computeFingerprintRecord } from '../fingerprint/compute.ts';
import { FileHasher } from '../fingerprint/file-hasher.ts';
import { fingerprintHash, type FingerprintRecord } from '../fingerprint/fingerprint.ts';
import {
  asContentHash,
  type ContentHash,
  type FingerprintHash,
  type OutputSetHash,
} from '../fingerprint/hash-types.ts';
import { identityStampOf, stampOf, type FileStamp } from '../fingerprint/file-stamp.ts';
import { ModuleGraph } from '../fingerprint/module-graph.ts';
import type { PipelineGraph, StageNode } from '../graph/build.ts';
import { loadGraph } from '../graph/load-graph.ts';
import { selectStages } from '../graph/select.ts';
import { profileFile, projectPaths, type ProjectPaths } from '../project.ts';
import { DIR_PREFIX } from '../store/directory-manifest.ts';
import { readLockfile, type LockEntry, type ParamOrigin } from '../store/lockfile.ts';
import type { ArtifactStore, OutputRef, StoredResult } from '../store/store.ts';
import { restoreOuts, StoreAccess } from './cache-lookup.ts';
import { clearOuts, collectOutputs } from './collect-outputs.ts';
import { Committer } from './committer.ts';
import type { ExecutorIO, ExecutorKind } from './executor.ts';
import { ExecutorHandle, executorKind, jobSlots } from './executors.ts';
import { LockfileWriter } from './lockfile-writer.ts';
import { planStage } from './plan.ts';
import { adoptableFromDvcLock } from './dvc-lock-adoption.ts';
import { frozenResult } from './frozen-stage.ts';
import { ProjectLock } from './project-lock.ts';
import { collectProvenance } from './provenance.ts';
import type { Reporter, StageReport } from './reporter.ts';
import { jobProvenance, runRecord, type RunFacts } from './run-record.ts';
import { Scheduler, type Settled, type StageHandler, type Visit } from './scheduler.ts';
import { assembleInputs } from './stage-inputs.ts';
import { notKnownYet, resolveParams } from './params-from.ts';
import { discardUpToDate, upToDateReport, writeUpToDate } from './up-to-date-record.ts';
import type { JobReport, StageOutcome } from './stage-outcome.ts';

export interface ReproOptions {
  root: string;
  targets: string[];
  /** Run the selected stages even when their results are cached. */
  force: boolean;
  /** Decide and explain, run nothing, write nothing (`repro --dry`, `status`). */
  dry: boolean;
  /** Select the targets and what depends on them instead of what they depend on. */
  downstream: boolean;
  /** Stages running (or jobs in a cluster's queue) at once; default 1, or `executor.slurm.jobs`. */
  jobs?: number;
  /** Keep starting independent stages after one fails. */
  keepGoing: boolean;
  /** Wait for another process's writer lock instead of failing. */
  wait: boolean;
  reporter: Reporter;
  signal: AbortSignal;
  /** Recorded with the run, for provenance. */
  command: string;
  /** profiles/NAME.yaml whose vars replace pipeline.yaml's; the run reads and writes lockfile.NAME.json. */
  profile?: string;
  /** Where stages run; default: Slurm when pipeline.yaml has `executor: {slurm: ...}`, else here. */
  executor?: ExecutorKind;
  /** Print the stack of an internal error, not only where it was logged. */
  verbose?: boolean;
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

/**
 * `pipeline repro`: brings the selected stages up to date. A stage whose fingerprint matches the
 * lockfile and whose files are intact is done without touching the store; one whose fingerprint
 * is in the store (any earlier run) is restored from it; the rest run, up to `jobs` at a time,
 * each committed to the store and then to the lockfile. With `dry`, the same decisions are
 * made and reported, and nothing runs or is written.
 */
export async function repro(opts: ReproOptions): Promise<ReproResult> {
  const paths = projectPaths(opts.root, opts.profile);
  // Stamped before they are read, for the record of a no-op (up-to-date-record.ts).
  const stamps = [
    paths.pipelineFile,
    ...(opts.profile === undefined ? [] : [profileFile(opts.root, opts.profile)]),
  ].map(stampOf);
  const loaded = await loadGraph(opts.root, paths.pipelineFile, {
    cacheFile: paths.expansionCache,
    profile: opts.profile,
    readOnlyCache: opts.dry,
  });
  if (!loaded.ok) return { kind: 'config-error', failures: loaded.error };
  const graph = loaded.value;
  const selected = selectStages(graph, opts.targets, { downstream: opts.downstream });
  if (!selected.ok) return { kind: 'config-error', failures: selected.error };

  const writer = opts.dry ? undefined : await ProjectLock.acquire(paths.writerLock, { wait: opts.wait });
  try {
    stamps.push(stampOf(paths.lockfile), identityStampOf(paths.store));
    const lock = await readLockfile(paths.lockfile);
    const hasher = await FileHasher.open(opts.root, opts.dry ? undefined : paths.fileHashCache);
    const modules = await ModuleGraph.open(opts.root, hasher, opts.dry ? undefined : paths.moduleCache);
    const run = new ReproRun(opts, paths, graph, new LockfileWriter(paths.lockfile, lock), hasher, modules, stamps);
    return await run.execute(selected.value);
  } finally {
    await writer?.release();
  }
}

/** One `repro` over the graph: the scheduler's handler for planning, restoring, running and committing stages. */
class ReproRun implements StageHandler<OutputSetHash> {
  private readonly reports: StageReport[] = [];
  private readonly invocation = randomUUID();
  private readonly store: StoreAccess;
  private readonly executor: ExecutorHandle;
  private readonly scheduler: Scheduler<OutputSetHash>;
  private committer: Committer | undefined;
  /** A failure of the whole run (the store cannot be opened), thrown once every stage settled. */
  private fatal: { error: unknown } | undefined;
  /** Each settled stage's outputs, where `params_from` values are read (a dry run has no lockfile entry for a restore). */
  private readonly outputs = new Map<string, Readonly<Record<string, OutputRef>>>();
  /** Where each stage's `params_from` values came from, for its lockfile entry. */
  private readonly origins = new Map<string, Record<string, ParamOrigin>>();

  constructor(
    private readonly opts: ReproOptions,
    private readonly paths: ProjectPaths,
    private readonly graph: PipelineGraph,
    private readonly lock: LockfileWriter,
    private readonly hasher: FileHasher,
    private readonly modules: ModuleGraph,
    /** Files read before the run began (pipeline.yaml, the lockfile, the store), as stat'ed then. */
    private readonly stamps: FileStamp[],
  ) {
    const kind = executorKind(opts.executor, graph.executor?.slurm);
    this.store = new StoreAccess(
      paths.store,
      opts.dry,
      this.invocation,
      () => collectProvenance(opts.root, this.invocation, opts.command),
      opts.onStoreOpen,
    );
    this.executor = new ExecutorHandle({
      kind,
      root: opts.root,
      slurm: graph.executor?.slurm,
      runId: this.invocation,
      signal: opts.signal,
      profile: opts.profile,
    });
    this.scheduler = new Scheduler(
      { jobs: jobSlots(opts.jobs, kind, graph.executor?.slurm), keepGoing: opts.keepGoing, signal: opts.signal },
      this,
    );
  }

  async execute(order: string[]): Promise<ReproResult> {
    try {
      await this.scheduler.run(order, (n) => this.graph.stages.get(n)?.upstream ?? []);
      if (this.fatal !== undefined) throw this.fatal.error;
      if (!this.opts.dry) {
        for (const name of Object.keys(this.lock.lock.stages)) if (!this.graph.stages.has(name)) this.lock.remove(name);
        await this.committer?.idle();
        await this.lock.flush();
        await this.hasher.save();
        await this.modules.save();
        await this.recordNoop(order);
      }
    } finally {
      // Every stage has settled here (the scheduler returns only then), so nothing still uses these.
      await this.executor.close();
      const failed = this.reports.some((r) => r.status === 'failed');
      await this.store.close(this.opts.signal.aborted ? 130 : failed ? 1 : 0);
    }
    const byName = new Map(this.reports.map((r) => [r.name, r]));
    return {
      kind: 'done',
      stages: order.flatMap((n) => byName.get(n) ?? []),
      interrupted: this.opts.signal.aborted,
      executor: this.executor.kind,
      submitted: this.executor.submitted,
    };
  }

  /**
   * After a run that found every stage of the whole pipeline up to date by the lockfile, the
   * record that lets the next one say so from stamps alone; after any other, none. Left out:
   * selections, --force and --executor (the short way takes none of them), DVC projects (their
   * stages come from files found by walking the tree), always-changed stages, and directory
   * outputs (listed outside the file hasher, so not stamped).
   */
  private async recordNoop(order: string[]): Promise<void> {
    const { opts } = this;
    const nodes = [...this.graph.stages.values()];
    const noop =
      opts.targets.length === 0 &&
      !opts.downstream &&
      !opts.force &&
      opts.executor === undefined &&
      !opts.signal.aborted &&
      this.fatal === undefined &&
      this.reports.length === nodes.length &&
      this.reports.every((r) => r.status === 'cached' && r.cache === 'lockfile' && r.fingerprint !== null) &&
      nodes.every((n) => n.spec.dvc === undefined && !n.spec.alwaysChanged) &&
      Object.values(this.lock.lock.stages).every((e) => Object.keys(e.outputs).every((k) => !k.startsWith(DIR_PREFIX)));
    if (!noop) {
      discardUpToDate(this.paths.upToDateRecord);
      return;
    }
    const byName = new Map(this.reports.map((r) => [r.name, r.fingerprint!]));
    await writeUpToDate(
      this.paths.upToDateRecord,
      [...this.stamps, ...this.hasher.witnessed()],
      order.map((n) => [n, byName.get(n)!]),
      this.executor.kind,
    );
  }

  private finish(report: StageReport): void {
    this.reports.push(report);
    this.opts.reporter.stageFinished(report);
  }

  /** An upstream stage outside the selection (with --downstream) counts as its recorded result. */
  outside(name: string): Settled<OutputSetHash> {
    const entry = this.lock.get(name);
    if (entry === undefined)
      return { ok: false, kind: 'skipped', reason: `upstream ${name} has no recorded result (run it first)` };
    const node = this.graph.stages.get(name);
    // Its recorded result was made with the values params_from resolved then: downstream sees those.
    if (node?.spec.paramsFrom !== undefined)
      this.graph.stages.set(name, { ...node, spec: { ...node.spec, params: entry.params } });
    this.outputs.set(name, entry.outputs);
    return { ok: true, value: entry.outputsHash };
  }

  blocked(name: string, upstream: string, why: Extract<Settled<OutputSetHash>, { ok: false }>): Settled<OutputSetHash> {
    const wouldRun = why.kind === 'would-run';
    // A param read from the stage that will run is named, with where it comes from.
    const pending = (this.graph.stages.get(name)?.spec.paramsFrom ?? []).filter((p) => p.stage === upstream);
    this.finish({
      name,
      status: wouldRun ? 'would-run' : 'skipped',
      fingerprint: null,
      seconds: 0,
      reasons: wouldRun
        ? pending.length > 0
          ? pending.map(notKnownYet)
          : [`upstream ${upstream} will run`]
        : [why.reason],
    });
    return { ok: false, kind: wouldRun ? 'would-run' : 'skipped', reason: `upstream ${upstream} did not complete` };
  }

  async crashed(name: string, error: unknown): Promise<Settled<OutputSetHash>> {
    if (error === this.store.openFailure) {
      // The run's failure, not this stage's: reported once, after every running stage settled.
      this.fatal ??= { error };
      this.scheduler.halt();
      return { ok: false, kind: 'skipped', reason: 'the store could not be opened' };
    }
    const message = await describeFailure(
      this.opts.root,
      `while handling stage ${name}`,
      error,
      this.opts.verbose ?? false,
    );
    return this.fail(name, null, 0, message, []);
  }

  async visit(name: string, v: Visit<OutputSetHash>): Promise<Settled<OutputSetHash>> {
    let node = this.graph.stages.get(name);
    if (node === undefined) throw new Error(`unknown stage ${name}`);
    if (node.spec.paramsFrom !== undefined) {
      const resolved = await this.resolveParams(name, node);
      if (!resolved.ok) return resolved.settled;
      node = resolved.node;
    }
    if (node.spec.dvc?.frozen === true) {
      const frozen = await frozenResult(node.spec, this.lock.get(name), this.hasher);
      this.finish({
        name,
        status: frozen.ok ? 'cached' : 'skipped',
        ...(frozen.ok ? { cache: 'lockfile' as const } : {}),
        fingerprint: null,
        seconds: 0,
        reasons: [frozen.reason],
      });
      return frozen.ok
        ? { ok: true, value: frozen.outputsHash }
        : { ok: false, kind: 'skipped', reason: frozen.reason };
    }
    let record: FingerprintRecord;
    try {
      record = await computeFingerprintRecord(this.graph, name, v.upstream, this.hasher, this.modules);
    } catch (e) {
      // Planning (`status`, `--dry`) on a clone without its data: say what is missing, fail nothing.
      if (this.opts.dry) {
        this.finish({ name, status: 'would-run', fingerprint: null, seconds: 0, reasons: [(e as Error).message] });
        return { ok: false, kind: 'would-run', reason: 'would run' };
      }
      // A dependency that vanished or a stage module that does not parse: the user's to fix.
      return this.fail(name, null, 0, (e as Error).message, []);
    }
    const fingerprint = fingerprintHash(record);
    const plan = await planStage(name, node, record, fingerprint, {
      root: this.opts.root,
      entry: this.lock.get(name),
      hasher: this.hasher,
      store: this.store,
      force: this.opts.force,
    });
    if (plan.kind === 'up-to-date') {
      this.finish(upToDateReport(name, fingerprint));
      const entry = this.lock.get(name)!;
      this.outputs.set(name, entry.outputs);
      return { ok: true, value: entry.outputsHash };
    }
    if (plan.kind === 'in-store') {
      if (this.opts.dry) {
        this.outputs.set(name, plan.found.outputs);
        this.finish({
          name,
          status: 'cached',
          cache: 'store',
          planned: true,
          fingerprint,
          seconds: 0,
          reasons: plan.reasons,
        });
        return { ok: true, value: plan.found.outputsHash };
      }
      return this.restore(name, record, plan.found, plan.reasons);
    }
    if (this.opts.dry) {
      this.finish({ name, status: 'would-run', fingerprint, seconds: 0, reasons: plan.reasons });
      return { ok: false, kind: 'would-run', reason: 'would run' };
    }
    const release = await v.slot();
    if (release === undefined) {
      this.finish({ name, status: 'skipped', fingerprint, seconds: 0, reasons: ['the run is stopping'] });
      return { ok: false, kind: 'skipped', reason: 'not run' };
    }
    // The slot stands for a running stage: it is freed once the stage's process has ended, so the
    // next stage starts while this one's result is stored (commits then batch several stages).
    let held = true;
    const free = (): void => {
      if (held) release();
      held = false;
    };
    try {
      return await this.runStage(name, node, record, fingerprint, v.upstream, plan.reasons, free);
    } finally {
      free();
    }
  }

  /**
   * Puts the values `params_from` names into the stage's params, now that its sources are done,
   * and the stage with them into the graph, so its fingerprint, its context and every stage
   * downstream (which hashes this stage's params) see the selected values.
   */
  private async resolveParams(
    name: string,
    node: StageNode,
  ): Promise<{ ok: true; node: StageNode } | { ok: false; settled: Settled<OutputSetHash> }> {
    let unreadable: string | undefined;
    const readJson = async (hash: ContentHash) => {
      const store = await this.store.open();
      if (store === undefined) throw new Error('there is no store');
      return store.readJson(hash);
    };
    let r: Awaited<ReturnType<typeof resolveParams>>;
    try {
      r = await resolveParams(node.spec, (s) => this.outputs.get(s), readJson);
    } catch (e) {
      // Planning while a run holds the store: the values are there but cannot be read now.
      if (!this.opts.dry) throw e;
      unreadable = (e as Error).message;
      r = { kind: 'unknown', reasons: [] };
    }
    if (r.kind === 'resolved') {
      const resolved = { ...node, spec: r.spec };
      this.graph.stages.set(name, resolved);
      this.origins.set(name, r.origins);
      return { ok: true, node: resolved };
    }
    if (r.kind === 'failed' && !this.opts.dry) return { ok: false, settled: this.fail(name, null, 0, r.message, []) };
    const reasons =
      r.kind === 'failed'
        ? [r.message]
        : unreadable !== undefined
          ? [`params_from values cannot be read from the store now (${unreadable})`]
          : r.reasons;
    if (!this.opts.dry) throw new Error(`stage ${name}: ${reasons.join('; ')}`);
    this.finish({ name, status: 'would-run', fingerprint: null, seconds: 0, reasons });
    return { ok: false, settled: { ok: false, kind: 'would-run', reason: 'would run' } };
  }

  private facts(
    name: string,
    fingerprint: FingerprintHash,
    status: RunFacts['status'],
    started: number,
    extra: Partial<RunFacts> = {},
  ): RunFacts {
    return {
      invocation: this.invocation,
      stage: name,
      fingerprint,
      status,
      started,
      provenance: {},
      error: null,
      ...extra,
    };
  }

  private async restore(
    name: string,
    record: FingerprintRecord,
    found: StoredResult,
    reasons: string[],
  ): Promise<Settled<OutputSetHash>> {
    const started = Date.now();
    const store = await this.store.writable();
    await restoreOuts(this.opts.root, store, this.hasher, found);
    await store.recordRun(runRecord(this.facts(name, found.fingerprint, 'cached', started)));
    this.lock.set(name, lockEntry(record, found, this.origins.get(name)));
    this.outputs.set(name, found.outputs);
    this.finish({
      name,
      status: 'cached',
      cache: 'store',
      fingerprint: found.fingerprint,
      seconds: (Date.now() - started) / 1000,
      reasons,
    });
    return { ok: true, value: found.outputsHash };
  }

  private async runStage(
    name: string,
    node: StageNode,
    record: FingerprintRecord,
    fingerprint: FingerprintHash,
    upstream: ReadonlyMap<string, OutputSetHash>,
    reasons: string[],
    free: () => void,
  ): Promise<Settled<OutputSetHash>> {
    const { spec } = node;
    const { reporter, root } = this.opts;
    const store = await this.store.writable();
    // Up to date by dvc.lock's account: the work tree's outputs are taken as this run's result.
    const adopted = await adoptableFromDvcLock(root, spec);
    const executor = adopted ? undefined : await this.executor.get();
    reporter.stageStarted(name, reasons);
    const started = Date.now();
    const io: ExecutorIO = {
      log: (l) => reporter.stageLog(name, l),
      progress: (p) => reporter.stageProgress(name, p),
      state: (text) => reporter.stageState(name, text),
    };
    if (!adopted) await clearOuts(root, spec);
    for (const out of [...spec.outs, ...spec.metrics]) this.hasher.invalidate(out);
    const inputs =
      spec.kind !== 'uses'
        ? []
        : await assembleInputs(
            node.deps.flatMap((d) => {
              const entry = d.kind === 'stage' ? this.lock.get(d.stage) : undefined;
              if (d.kind !== 'stage' || entry === undefined) return [];
              const up = this.graph.stages.get(d.stage)!.spec;
              return [{ name: d.stage, group: up.group, params: up.params, item: up.item, entry }];
            }),
            (f) => store.measurementsOf(f),
          );
    const read = (kind: 'table' | 'json' | 'blob', h: ContentHash) =>
      kind === 'table' ? store.readTable(h) : kind === 'json' ? store.readJson(h) : store.readBlob(h);
    let outcome: StageOutcome;
    try {
      outcome =
        executor === undefined
          ? { ok: true, outputs: {}, provenance: { adopted_from: 'dvc.lock' } }
          : await executor.run({ name, node, root, record, fingerprint, upstream, inputs, read }, io, this.opts.signal);
    } catch (e) {
      outcome = {
        ok: false,
        message: await describeFailure(root, `while running stage ${name}`, e, this.opts.verbose ?? false),
        tail: [],
        interrupted: false,
      };
    }
    free();
    const seconds = (Date.now() - started) / 1000;
    const job = outcome.job;
    if (!outcome.ok) {
      await store
        .recordRun(
          runRecord(
            this.facts(name, fingerprint, 'failed', started, {
              provenance: jobProvenance(job),
              error: outcome.message,
            }),
          ),
        )
        .catch(() => undefined);
      return this.fail(name, fingerprint, seconds, outcome.message, outcome.tail, job);
    }
    let result: StoredResult;
    try {
      const collected = await collectOutputs(root, spec, outcome.outputs);
      result = {
        fingerprint,
        stage: name,
        outputs: collected.outputs,
        outputsHash: collected.outputsHash,
        metrics: collected.metrics,
      };
      this.committer ??= new Committer(store);
      await this.committer.commit({
        result,
        fingerprintRecord: record,
        // Lineage names each upstream by its output-set hash, so an edge leads to the stored result.
        inputs: Object.fromEntries(
          node.deps.map((d) =>
            d.kind === 'stage'
              ? [d.stage, { kind: 'stage' as const, hash: upstream.get(d.stage)! }]
              : [d.path, { kind: 'file' as const, hash: asContentHash(record.deps[d.path]!) }],
          ),
        ),
        params: spec.params,
        artifacts: collected.artifacts,
        measurements: collected.measurements,
        run: runRecord(
          this.facts(name, fingerprint, 'ran', started, {
            provenance: { ...outcome.provenance, ...jobProvenance(job) },
            host: outcome.host,
          }),
        ),
      });
    } catch (e) {
      return this.fail(
        name,
        fingerprint,
        seconds,
        await describeFailure(root, `while storing stage ${name}`, e, this.opts.verbose ?? false),
        [],
        job,
      );
    }
    this.lock.set(name, lockEntry(record, result, this.origins.get(name)));
    this.outputs.set(name, result.outputs);
    if (adopted) this.finish({ name, status: 'cached', cache: 'dvc.lock', fingerprint, seconds, reasons });
    else this.finish({ name, status: 'ran', fingerprint, seconds, reasons, ...(job === undefined ? {} : { job }) });
    return { ok: true, value: result.outputsHash };
  }

  private fail(
    name: string,
    fingerprint: FingerprintHash | null,
    seconds: number,
    error: string,
    tail: string[],
    job?: JobReport,
  ): Settled<OutputSetHash> {
    this.finish({
      name,
      status: 'failed',
      fingerprint,
      seconds,
      reasons: [],
      error,
      tail,
      ...(job === undefined ? {} : { job }),
    });
    return { ok: false, kind: 'failed', reason: `${name} failed` };
  }
}

function lockEntry(record: FingerprintRecord, result: StoredResult, origins?: Record<string, ParamOrigin>): LockEntry {
  return {
    ...record,
    fingerprint: result.fingerprint,
    outputs: result.outputs,
    outputsHash: result.outputsHash,
    metrics: result.metrics,
    ...(origins === undefined ? {} : { paramsFrom: origins }),
  };
}
