import { spawnSync } from 'node:child_process';
import { open, readFile, rm, rmdir, mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { durationMs, type SlurmSettings } from '../../config/schema.ts';
import type { StageOutputs } from '../../stage-api.ts';
import { restoreFile } from '../collect-outputs.ts';
import type { ExecutorIO, StageExecutor, StageTask } from '../executor.ts';
import { lineSplitter, Tail, type JobReport, type StageOutcome } from '../stage-outcome.ts';
import { JobPoller } from './job-poller.ts';
import { describeTimeLimit, jobResources, sbatchOptions } from './sbatch-options.ts';
import { jobDetails, sbatch, scancel, type JobDetails, type JobStatus } from './slurm-commands.ts';
import {
  LOG,
  MANIFEST,
  readJsonFile,
  readValue,
  REQUEST,
  SCRIPT,
  stageDirName,
  STAGING_VERSION,
  writeValue,
  type JobManifest,
  type JobRequest,
  type StagedFile,
} from './staging.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { sha256Hex } from '../../util/sha256-hex.ts';

export interface SlurmExecutorOptions {
  root: string;
  settings: SlurmSettings;
  /** This repro's invocation id: names the run's staging directory. */
  runId: string;
  /** The run's signal: on abort every job still in the queue is cancelled. */
  signal: AbortSignal;
  profile?: string;
}

// The CLI the job runs: this installation's, started by this Node, which a cluster that shares
// the project's filesystem (as the executor requires) can reach at the same paths.
const BIN = fileURLToPath(new URL('../../../bin/pipeline.js', import.meta.url));

const DEFAULT_POLL_MS = 2000;
/** How long after Ctrl-C to wait for cancelled jobs to leave the queue before giving up on them. */
const CANCEL_WAIT_MS = 60_000;
/** How long a COMPLETED job's manifest may take to appear (attribute caching on NFS). */
const MANIFEST_WAIT_MS = 30_000;

/** A word for bash, whatever it contains. */
const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs each stage as one Slurm batch job, through the same CLI (`pipeline run-stage`), on the
 * shared filesystem. The scheduler in repro.ts has already decided that the stage must run (cache
 * hits never reach an executor, so a run of cache hits submits nothing); this submits the job,
 * follows it with squeue, and when it ends checks and installs what it left in its staging
 * directory, so the scheduler commits it exactly as it commits a local run.
 *
 * One job per stage, not a job array per matrix: a matrix expansion becomes ready when its own
 * upstream stages finish, and may be a cache hit on its own, so an array would hold back the
 * ready ones until the slowest was ready, or be cut into arrays of whatever happened to be ready
 * together; and a stage's resources may differ between expansions (`gpus: ${item.gpus}`), which
 * an array cannot express. Slurm schedules hundreds of small jobs without trouble, and -j bounds
 * how many of ours are queued at once.
 */
export class SlurmExecutor implements StageExecutor {
  readonly kind = 'slurm' as const;
  submitted = 0;
  private readonly runDir: string;
  private readonly poller: JobPoller;
  /** Submitted and not yet seen to end: what Ctrl-C (or an unexpected exit) must cancel. */
  private readonly inFlight = new Set<string>();
  private readonly staged = new Map<string, Promise<StagedFile>>();
  private cancelling: Promise<void> | undefined;
  private cancelError: string | undefined;
  /**
   * Settles CANCEL_WAIT_MS after the run is aborted: jobs that have not left the queue by then
   * are given up on, so a cluster that ignores scancel cannot keep Ctrl-C from returning. One
   * promise for all jobs, not an abort listener per job (-j 40 would trip Node's listener-leak
   * warning).
   */
  private readonly givenUp: Promise<undefined>;
  private readonly onAbort = (): void => void this.cancelAll();
  // A second Ctrl-C exits at once, without waiting for anything: scancel synchronously on the way out.
  private readonly onExit = (): void => {
    if (this.inFlight.size > 0) spawnSync('scancel', [...this.inFlight], { stdio: 'ignore', timeout: 10_000 });
  };

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.runDir = join(opts.root, '.pipeline', 'slurm', opts.runId.slice(0, 8));
    const poll = opts.settings.poll_interval;
    this.poller = new JobPoller(poll === undefined ? DEFAULT_POLL_MS : durationMs(poll));
    opts.signal.addEventListener('abort', this.onAbort, { once: true });
    this.givenUp = new Promise((resolve) => {
      const start = (): void => void setTimeout(() => resolve(undefined), CANCEL_WAIT_MS).unref();
      if (opts.signal.aborted) start();
      else opts.signal.addEventListener('abort', start, { once: true });
    });
    process.on('exit', this.onExit);
  }

  async run(task: StageTask, io: ExecutorIO, signal: AbortSignal): Promise<StageOutcome> {
    const interrupted = (job?: JobReport): StageOutcome => ({
      ok: false,
      message: 'interrupted',
      tail: [],
      interrupted: true,
      ...(job === undefined ? {} : { job }),
    });
    if (signal.aborted) return interrupted();
    const dir = join(this.runDir, stageDirName(task.name));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const log = join(dir, LOG);

    const request: JobRequest = {
      version: STAGING_VERSION,
      stage: task.name,
      fingerprint: task.fingerprint,
      record: task.record,
      upstream: Object.fromEntries(task.upstream),
      inputs: task.inputs,
      artifacts: await this.stageInputs(task),
    };
    await writeFileAtomic(join(dir, REQUEST), `${JSON.stringify(request)}\n`);
    const script = join(dir, SCRIPT);
    const command = [
      process.execPath,
      BIN,
      '-C',
      this.opts.root,
      ...(this.opts.profile === undefined ? [] : ['--profile', this.opts.profile]),
      'run-stage',
      task.name,
      '--fingerprint',
      task.fingerprint,
      '--out',
      dir,
    ];
    await writeFileAtomic(
      script,
      `#!/bin/bash\n# pipeline: stage ${JSON.stringify(task.name)}, fingerprint ${task.fingerprint}\nexec ${command.map(shellWord).join(' ')}\n`,
    );

    const resources = jobResources(this.opts.settings, task.node.spec.resources);
    // The user's extra options first, so a stage's resources and the options the executor
    // depends on (the log file, the directory) win where they name the same thing.
    const args = [
      ...(this.opts.settings.sbatch_args ?? []),
      ...sbatchOptions(resources),
      `--job-name=${task.name}`,
      `--output=${log}`,
      `--chdir=${this.opts.root}`,
    ];
    const id = await sbatch(args, script);
    this.submitted++;
    this.inFlight.add(id);
    // Ctrl-C while sbatch was running: cancelAll did not know this job yet.
    if (signal.aborted) void this.cancelAll();

    const follower = new LogFollower(log, io);
    let last = '';
    const watched = this.poller.watch(id, (status) => {
      const text = describeState(status);
      if (text !== last) io.state(text);
      last = text;
      if (status.state !== 'PENDING') void follower.pump();
    });
    const final = await Promise.race([watched, this.givenUp]);
    if (final !== undefined) this.inFlight.delete(id);
    await follower.pump(true);
    const details: JobDetails = (final === undefined ? undefined : await jobDetails(id).catch(() => undefined)) ?? {
      ...(final ?? { id, state: 'UNKNOWN', reason: null, node: null }),
      exitCode: null,
      timeLimit: null,
    };
    const job: JobReport = { id, state: details.state, exitCode: details.exitCode, node: details.node };
    if (signal.aborted) {
      if (final === undefined) {
        return {
          ok: false,
          message: `interrupted; Slurm job ${id} may still be queued (${this.cancelError ?? 'it did not leave the queue after scancel'})`,
          tail: [],
          interrupted: true,
          job,
        };
      }
      return interrupted(job);
    }

    const manifest = await this.readManifest(dir, details.state === 'COMPLETED' || details.state === 'UNKNOWN');
    const logName = relative(this.opts.root, log);
    if (manifest?.ok === true && (details.state === 'COMPLETED' || details.state === 'UNKNOWN')) {
      try {
        const outputs = await this.install(dir, task, manifest);
        await rm(dir, { recursive: true, force: true });
        return {
          ok: true,
          outputs,
          provenance: manifest.provenance,
          host: manifest.host,
          job: { ...job, state: 'COMPLETED' },
        };
      } catch (e) {
        return {
          ok: false,
          message: `Slurm job ${id} COMPLETED, but what it left does not check out: ${(e as Error).message} (log: ${logName})`,
          tail: await tailOf(log),
          interrupted: false,
          job,
        };
      }
    }
    return {
      ok: false,
      message: `${failureMessage(details, manifest, resources.mem)} (log: ${logName})`,
      tail: await tailOf(log),
      interrupted: false,
      job,
    };
  }

  /**
   * Upstream artifacts a `uses:` stage may read, written once per run and content hash: a
   * pretrained model read by 35 fine-tunes is staged once. Everything is staged, not only what
   * the stage will read, because the job cannot ask for more: the store stays closed to it.
   */
  private async stageInputs(task: StageTask): Promise<Record<string, StagedFile>> {
    const artifacts: Record<string, StagedFile> = {};
    for (const input of task.inputs) {
      for (const ref of Object.values(input.outputs)) {
        const { kind, hash } = ref;
        if (kind === 'file') continue;
        const key = `${kind}:${hash}`;
        let staged = this.staged.get(key);
        if (staged === undefined) {
          staged = (async () =>
            writeValue(join(this.runDir, 'inputs', `${kind}-${hash}.v8`), await task.read(kind, hash)))();
          this.staged.set(key, staged);
          staged.catch(() => this.staged.delete(key));
        }
        artifacts[key] = await staged;
      }
    }
    return artifacts;
  }

  private async readManifest(dir: string, expectOne: boolean): Promise<JobManifest | undefined> {
    const end = Date.now() + (expectOne ? MANIFEST_WAIT_MS : 0);
    for (;;) {
      const m = await readJsonFile<JobManifest>(join(dir, MANIFEST));
      if (m !== undefined || Date.now() >= end) return m;
      await sleep(250);
    }
  }

  /**
   * Checks every staged file against the manifest's hash and puts the out files into the work
   * tree, where the scheduler reads and hashes them again as it does after a local run.
   */
  private async install(
    dir: string,
    task: StageTask,
    manifest: Extract<JobManifest, { ok: true }>,
  ): Promise<StageOutputs> {
    if (manifest.fingerprint !== task.fingerprint)
      throw new Error(
        `the manifest is for fingerprint ${manifest.fingerprint.slice(0, 12)}, not ${task.fingerprint.slice(0, 12)}`,
      );
    const declared = [...task.node.spec.outs, ...task.node.spec.metrics];
    const listed = manifest.files.map((f) => f.path);
    const missing = declared.filter((p) => !listed.includes(p));
    if (missing.length > 0 || listed.length !== declared.length)
      throw new Error(
        `the manifest lists ${listed.join(', ') || 'no files'} where the stage declares ${declared.join(', ') || 'none'}`,
      );
    const files: Array<[string, Buffer]> = [];
    for (const f of manifest.files) {
      const bytes = await readFile(join(dir, f.staged));
      const found = sha256Hex(bytes);
      if (found !== f.sha256)
        throw new Error(
          `${f.path}: the staged copy has sha256 ${found.slice(0, 12)}, the job wrote ${f.sha256.slice(0, 12)}`,
        );
      files.push([f.path, bytes]);
    }
    const outputs = (await readValue({
      file: join(dir, manifest.outputs.file),
      sha256: manifest.outputs.sha256,
    })) as StageOutputs;
    for (const [path, bytes] of files) await restoreFile(this.opts.root, path, bytes);
    return outputs;
  }

  /** scancel every job of this run still in the queue, once, then look again at once. */
  private cancelAll(): Promise<void> {
    const ids = [...this.inFlight];
    this.cancelling = (this.cancelling ?? Promise.resolve()).then(async () => {
      try {
        await scancel(ids);
      } catch (e) {
        this.cancelError = (e as Error).message;
      }
      this.poller.nudge();
    });
    return this.cancelling;
  }

  async close(): Promise<void> {
    await this.cancelling;
    this.poller.stop();
    this.opts.signal.removeEventListener('abort', this.onAbort);
    // Jobs still in flight here (an exception, not a normal end) are cancelled rather than left running for nobody.
    if (this.inFlight.size > 0) await scancel([...this.inFlight]).catch(() => undefined);
    this.inFlight.clear();
    process.off('exit', this.onExit);
    await rm(join(this.runDir, 'inputs'), { recursive: true, force: true });
    // Directories of failed jobs (their logs) stay; an empty run directory goes.
    await rmdir(this.runDir).catch(() => undefined);
  }
}

function describeState(s: JobStatus): string {
  const extra =
    s.state === 'PENDING' && s.reason !== null
      ? ` (${s.reason})`
      : s.state === 'RUNNING' && s.node !== null
        ? ` on ${s.node}`
        : '';
  return `Slurm job ${s.id} ${s.state}${extra}`;
}

/** `1:0` -> `exit code 1`; `0:15` -> `exit code 0, signal 15`. */
export function describeExit(exitCode: string | null): string {
  if (exitCode === null) return 'exit code unknown';
  const [code, sig] = exitCode.split(':');
  return `exit code ${code ?? '?'}${sig !== undefined && sig !== '0' ? `, signal ${sig}` : ''}`;
}

/** One line saying how a job ended: its Slurm state, exit code, and what the stage itself reported. */
export function failureMessage(
  d: JobDetails,
  manifest: JobManifest | undefined,
  mem: string | number | undefined,
): string {
  const said = manifest !== undefined && !manifest.ok ? `: ${manifest.message}` : '';
  const exit = describeExit(d.exitCode);
  switch (d.state) {
    case 'TIMEOUT': {
      const limit = describeTimeLimit(d.timeLimit ?? undefined);
      return `Slurm job ${d.id} TIMEOUT: stopped at its time limit${limit === undefined ? '' : ` of ${limit}`} (resources.time), ${exit}${said}`;
    }
    case 'OUT_OF_MEMORY':
      return `Slurm job ${d.id} OUT_OF_MEMORY: it used more memory than it asked for${mem === undefined ? '' : ` (resources.mem: ${mem})`}, ${exit}${said}`;
    case 'CANCELLED':
      return `Slurm job ${d.id} CANCELLED outside this run (scancel by a user or an administrator), ${exit}${said}`;
    case 'NODE_FAIL':
      return `Slurm job ${d.id} NODE_FAIL: its node ${d.node ?? ''} failed, ${exit}${said}`;
    case 'COMPLETED':
      return `Slurm job ${d.id} COMPLETED, ${exit}, but ${manifest === undefined ? 'left no manifest of its outputs' : `the stage failed${said}`}`;
    case 'UNKNOWN':
      return `Slurm job ${d.id} ended, but neither slurmctld nor sacct remembers how, and it left no manifest of its outputs`;
    default:
      return `Slurm job ${d.id} ${d.state}${d.reason !== null && d.reason !== 'NonZeroExitCode' ? ` (${d.reason})` : ''}, ${exit}${said}`;
  }
}

/** The last lines of a job's log, for the failure report. */
async function tailOf(path: string, lines = 20): Promise<string[]> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      const tail = new Tail(lines);
      for (const l of buf.toString('utf8').split(/\r?\n/)) if (l.length > 0) tail.push(l);
      return tail.get();
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
}

/** Forwards a job's log, line by line, to the run's log as the job writes it. */
class LogFollower {
  private offset = 0;
  private busy: Promise<void> = Promise.resolve();
  private readonly split;

  constructor(
    private readonly path: string,
    io: ExecutorIO,
  ) {
    this.split = lineSplitter((l) => io.log(l));
  }

  pump(final = false): Promise<void> {
    this.busy = this.busy.then(async () => {
      try {
        const handle = await open(this.path, 'r');
        try {
          const { size } = await handle.stat();
          while (this.offset < size) {
            const buf = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
            const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
            if (bytesRead === 0) break;
            this.offset += bytesRead;
            this.split.write(buf.subarray(0, bytesRead));
          }
        } finally {
          await handle.close();
        }
      } catch {
        // Not there yet (a pending job), or not visible on this node yet: the next poll reads it.
      }
      if (final) this.split.end();
    });
    return this.busy;
  }
}
