import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { ProjectPaths } from '../project.ts';
import { LockfileError, lockfileFromJson, readLockfile, type Lockfile } from '../store/lockfile.ts';
import { EXIT } from './common.ts';
import { formatTable } from './table-text.ts';

type Metrics = Record<string, Record<string, number>>;

function metricsOf(lock: Lockfile, targets: string[]): Metrics {
  const out: Metrics = {};
  for (const [stage, entry] of Object.entries(lock.stages).sort(([a], [b]) => a.localeCompare(b))) {
    if (targets.length > 0 && !targets.some((t) => stage === t || stage.startsWith(`${t}@`))) continue;
    if (Object.keys(entry.metrics).length > 0) out[stage] = entry.metrics;
  }
  return out;
}

const num = (v: number | undefined) =>
  v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');

/** `pipeline metrics show`: every stage's metrics as recorded in lockfile.json. */
export async function metricsShowCommand(
  paths: ProjectPaths,
  targets: string[],
  o: { json?: boolean },
): Promise<number> {
  if (!existsSync(paths.lockfile)) {
    process.stderr.write(`error: ${paths.lockfile} does not exist yet: run pipeline repro first\n`);
    return EXIT.stageFailed;
  }
  const metrics = metricsOf(await readLockfile(paths.lockfile), targets);
  if (o.json) process.stdout.write(`${JSON.stringify(metrics)}\n`);
  else {
    const rows = Object.entries(metrics).flatMap(([stage, m]) => Object.entries(m).map(([k, v]) => [stage, k, num(v)]));
    process.stdout.write(
      `${rows.length === 0 ? 'no metrics recorded' : formatTable([['stage', 'metric', 'value'], ...rows])}\n`,
    );
  }
  return EXIT.ok;
}

/** The lockfile (lockfile.json, or a profile's) as committed at a git revision. */
async function lockAt(root: string, rev: string, name: string): Promise<Lockfile> {
  const { execa } = await import('execa');
  const prefix = await execa('git', ['rev-parse', '--show-prefix'], { cwd: root, reject: false });
  if (prefix.exitCode !== 0)
    throw new LockfileError(`${root} is not in a git repository, so there is no revision to compare with`);
  const r = await execa('git', ['show', `${rev}:${prefix.stdout.trim()}${name}`], { cwd: root, reject: false });
  if (r.exitCode !== 0) throw new LockfileError(`no ${name} at revision ${rev}: ${String(r.stderr).split('\n')[0]}`);
  let data: unknown;
  try {
    data = JSON.parse(String(r.stdout));
  } catch {
    throw new LockfileError(`${name} at revision ${rev} is not valid JSON`);
  }
  // Read as the work tree's lockfile is, so both sides of the diff decode their entries alike.
  return lockfileFromJson(data, `${name} at revision ${rev}`);
}

/** `pipeline metrics diff [REV]`: metrics in the work tree's lockfile.json against those at REV (default HEAD). */
export async function metricsDiffCommand(
  paths: ProjectPaths,
  rev: string,
  targets: string[],
  o: { json?: boolean; all?: boolean },
): Promise<number> {
  let before: Metrics;
  let after: Metrics;
  try {
    before = metricsOf(await lockAt(paths.root, rev, basename(paths.lockfile)), targets);
    after = existsSync(paths.lockfile) ? metricsOf(await readLockfile(paths.lockfile), targets) : {};
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return EXIT.config;
  }
  const rows: Array<{ stage: string; metric: string; old: number | null; new: number | null; change: number | null }> =
    [];
  for (const stage of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[stage] ?? {};
    const b = after[stage] ?? {};
    for (const metric of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = a[metric];
      const y = b[metric];
      if (x === y && !o.all) continue;
      rows.push({
        stage,
        metric,
        old: x ?? null,
        new: y ?? null,
        change: x === undefined || y === undefined ? null : x === y ? 0 : y - x,
      });
    }
  }
  if (o.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else if (rows.length === 0) process.stdout.write(`no metric changed since ${rev}\n`);
  else {
    const cells = rows.map((r) => [
      r.stage,
      r.metric,
      num(r.old ?? undefined),
      num(r.new ?? undefined),
      r.change === null ? '-' : `${r.change > 0 ? '+' : ''}${num(r.change)}`,
    ]);
    process.stdout.write(`${formatTable([['stage', 'metric', rev, 'workspace', 'change'], ...cells])}\n`);
  }
  return EXIT.ok;
}
