/**
 * Slurm's client commands, run through execa: sbatch to submit, squeue and `scontrol show job`
 * to follow, scancel to stop. Nothing here keeps state; the executor and the poller do.
 */
import { open } from 'node:fs/promises';
import { UserError } from '../../errors.ts';

/** A job as squeue or scontrol describe it. */
export interface JobStatus {
  id: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, ... */
  state: string;
  /** Why it is pending or why it ended (`Priority`, `Resources`, `NonZeroExitCode`, `TimeLimit`); null for `None`. */
  reason: string | null;
  node: string | null;
}

export interface JobDetails extends JobStatus {
  /** `exit:signal`, e.g. `1:0` or `0:15`. */
  exitCode: string | null;
  /** As scontrol prints it: `00:01:00`, `1-00:00:00`, `UNLIMITED`. */
  timeLimit: string | null;
}

/**
 * States in which a job may still run or is still being cleaned up; anything else is final.
 * COMPLETING is not final: the job's processes may still be exiting and its exit code is not
 * settled until it leaves that state.
 */
const ACTIVE = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'RESV_DEL_HOLD',
  'POWER_UP_NODE',
]);

export function isFinal(state: string): boolean {
  return !ACTIVE.has(state);
}

/** What the cluster's commands refused or reported: the user's (or the cluster's) to act on, not a bug. */
export class SlurmError extends UserError {}

async function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const { execa } = await import('execa');
  const r = await execa(command, args, { reject: false, stdin: 'ignore', timeout: 120_000 });
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new SlurmError(
      `${command} was not found on PATH: the Slurm executor runs Slurm's client commands, so run it where they work (a login node of the cluster)`,
    );
  }
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1 };
}

/** The useful part of a Slurm command's complaint: its error lines, prefixes dropped. */
function complaint(stderr: string, stdout: string): string {
  const lines = `${stderr}\n${stdout}`
    .split('\n')
    .map((l) => l.replace(/^(sbatch|squeue|scontrol|scancel|sacct): (error: )?/, '').trim())
    .filter((l) => l.length > 0);
  return lines.join('; ') || 'no message';
}

/** Submits a batch script; returns the job id. `args` go before the script, as sbatch wants them. */
export async function sbatch(args: string[], script: string): Promise<string> {
  const r = await run('sbatch', ['--parsable', ...args, script]);
  // --parsable prints "ID" or "ID;CLUSTER".
  const id = /^(\d+)(?:;\S+)?\s*$/m.exec(r.stdout)?.[1];
  if (r.exitCode !== 0 || id === undefined)
    throw new SlurmError(`sbatch refused the job: ${complaint(r.stderr, r.stdout)}`);
  return id;
}

/** Cancels jobs; ones that have already ended are no error. */
export async function scancel(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const r = await run('scancel', ids);
  if (r.exitCode !== 0 && !/Invalid job id|already completing or completed|Job has already finished/i.test(r.stderr)) {
    throw new SlurmError(`scancel failed: ${complaint(r.stderr, r.stdout)}`);
  }
}

/**
 * The state of each job in `ids` that slurmctld still knows, from one squeue call. A job missing
 * from the answer has been purged from slurmctld's memory (MinJobAge after it ended).
 */
export async function squeue(ids: string[]): Promise<Map<string, JobStatus>> {
  const found = new Map<string, JobStatus>();
  if (ids.length === 0) return found;
  const r = await run('squeue', ['--noheader', '--states=all', `--jobs=${ids.join(',')}`, '--format=%i|%T|%r|%N']);
  if (r.exitCode !== 0) {
    // Asked only about purged jobs, squeue says so and fails; that is an answer, not an error.
    if (/Invalid job id/i.test(r.stderr)) return found;
    throw new SlurmError(`squeue failed: ${complaint(r.stderr, r.stdout)}`);
  }
  for (const line of r.stdout.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (id === undefined || state === undefined || id === '') continue;
    found.set(id, { id, state: state.split(/\s/)[0] ?? state, reason: orNull(reason), node: orNull(node) });
  }
  return found;
}

function orNull(v: string | undefined): string | null {
  const t = v?.trim();
  return t === undefined || t === '' || t === 'None' || t === '(null)' || t === 'n/a' ? null : t;
}

/** `scontrol show job -o` output: one line of Key=Value fields. */
export function parseScontrolLine(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  // Values may hold spaces (a command line, a path); a key is a word followed by `=` after a space.
  const keys = [...line.matchAll(/(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g)];
  keys.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = i + 1 < keys.length ? (keys[i + 1]!.index ?? line.length) : line.length;
    fields[m[1]!] = line.slice(start, end).trim();
  });
  return fields;
}

/**
 * Everything known about one job: `scontrol show job` while slurmctld remembers it (MinJobAge,
 * 300 s by default, after it ends), then sacct where the cluster keeps accounting, then the
 * job completion file where the cluster writes one instead (jobcomp/filetxt, readable by the
 * user); undefined when none of them knows it.
 */
export async function jobDetails(id: string): Promise<JobDetails | undefined> {
  const r = await run('scontrol', ['show', 'job', '-o', id]);
  if (r.exitCode === 0) {
    const f = parseScontrolLine(r.stdout.trim().split('\n')[0] ?? '');
    if (f.JobState !== undefined) {
      return {
        id,
        state: f.JobState,
        reason: orNull(f.Reason),
        node: orNull(f.NodeList),
        exitCode: orNull(f.ExitCode),
        timeLimit: orNull(f.TimeLimit),
      };
    }
  }
  return (await fromSacct(id)) ?? (await fromJobComp(id));
}

async function fromSacct(id: string): Promise<JobDetails | undefined> {
  let acct;
  try {
    acct = await run('sacct', [
      '--noheader',
      '--parsable2',
      '--allocations',
      `--jobs=${id}`,
      '--format=State,ExitCode,NodeList,Timelimit',
    ]);
  } catch {
    return undefined;
  }
  const [state, exitCode, node, timeLimit] = (acct.stdout.trim().split('\n')[0] ?? '').split('|');
  if (acct.exitCode !== 0 || state === undefined || state === '') return undefined;
  // sacct writes "CANCELLED by 1234".
  return {
    id,
    state: state.split(' ')[0]!,
    reason: null,
    node: orNull(node),
    exitCode: orNull(exitCode),
    timeLimit: orNull(timeLimit),
  };
}

/** The last line for the job in the jobcomp/filetxt file (Key=Value, like scontrol's), if there is one to read. */
async function fromJobComp(id: string): Promise<JobDetails | undefined> {
  const config = await run('scontrol', ['show', 'config']);
  const type = /^JobCompType\s*=\s*(\S+)/m.exec(config.stdout)?.[1];
  const loc = /^JobCompLoc\s*=\s*(\S+)/m.exec(config.stdout)?.[1];
  if (type !== 'jobcomp/filetxt' || loc === undefined) return undefined;
  let text: string;
  try {
    // Only the end: the file grows for the life of the cluster, and this job ended recently.
    const handle = await open(loc, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 8 << 20);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  // Job ids wrap around on a long-lived cluster: the latest line is this job's.
  const line = text
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(`JobId=${id} `));
  if (line === undefined) return undefined;
  const f = parseScontrolLine(line);
  if (f.JobState === undefined) return undefined;
  // jobcomp writes the time limit in minutes.
  const minutes = Number(f.TimeLimit);
  const timeLimit = Number.isFinite(minutes)
    ? `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00`
    : orNull(f.TimeLimit);
  return { id, state: f.JobState, reason: null, node: orNull(f.NodeList), exitCode: orNull(f.ExitCode), timeLimit };
}
