import type { Resources, SlurmSettings } from '../../config/schema.ts';

const RESOURCE_KEYS = [
  'partition',
  'account',
  'qos',
  'time',
  'cpus',
  'mem',
  'gpus',
  'gres',
  'constraint',
] as const satisfies ReadonlyArray<keyof Resources>;

/** What a stage's job asks for: the executor's defaults, overridden key by key by the stage's own `resources:`. */
export function jobResources(settings: SlurmSettings, stage: Resources | undefined): Resources {
  const merged: Record<string, unknown> = {};
  for (const key of RESOURCE_KEYS) {
    const value = stage?.[key] ?? settings[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged as Resources;
}

/**
 * A `time:` value as sbatch's `--time`. Slurm's own forms pass through; this file's durations
 * become whole minutes, rounded up, because that is Slurm's granularity (it rounds `MM:SS` up
 * too) and a limit shorter than asked for would kill a job that fits.
 */
export function slurmTime(time: string): string {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(time);
  if (m === null) return time;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return String(Math.max(1, Math.ceil(seconds / 60)));
}

/** Resources as sbatch options, one `--key=value` argument each, in a fixed order. */
export function sbatchOptions(r: Resources): string[] {
  const args: string[] = [];
  if (r.partition !== undefined) args.push(`--partition=${r.partition}`);
  if (r.account !== undefined) args.push(`--account=${r.account}`);
  if (r.qos !== undefined) args.push(`--qos=${r.qos}`);
  if (r.time !== undefined) args.push(`--time=${slurmTime(r.time)}`);
  // One task per job: a stage is one process tree, so its CPUs are the task's CPUs.
  if (r.cpus !== undefined) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem !== undefined) args.push(`--mem=${typeof r.mem === 'number' ? `${r.mem}M` : r.mem.toUpperCase()}`);
  // `gpus: 0` in a stage turns off a GPU default from executor.slurm.
  if (r.gpus !== undefined && String(r.gpus) !== '0') args.push(`--gpus=${r.gpus}`);
  if (r.gres !== undefined) args.push(`--gres=${r.gres}`);
  if (r.constraint !== undefined) args.push(`--constraint=${r.constraint}`);
  return args;
}

/** A time limit in words for a message: `1 min`, `2 h 30 min`. */
export function describeTimeLimit(limit: string | undefined): string | undefined {
  if (limit === undefined || limit === 'UNLIMITED' || limit === 'Partition_Limit') return undefined;
  // scontrol prints [D-]HH:MM:SS, or MM:SS below an hour.
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(limit);
  if (m === null) return limit;
  const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3]) + Number(m[4]) / 60;
  const h = Math.floor(minutes / 60);
  const min = Math.round(minutes - h * 60);
  return h === 0 ? `${min} min` : min === 0 ? `${h} h` : `${h} h ${min} min`;
}
