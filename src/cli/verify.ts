import { existsSync } from 'node:fs';
import { loadProject } from '../config/load-project.ts';
import type { ProjectPaths } from '../project.ts';
import { rerunStages } from '../run/rerun.ts';
import { readLockfile } from '../store/lockfile.ts';
import { openReads } from '../live/open-reads.ts';
import { verifyStore } from '../store/verify.ts';
import { EXIT } from './common.ts';
import { formatTable } from './table-text.ts';

/** `pipeline verify`: exit 0 when the store and lockfile hold together, else 1 with every mismatch. */
export async function verifyCommand(paths: ProjectPaths, o: { json?: boolean }): Promise<number> {
  if (!existsSync(paths.store)) {
    process.stderr.write(`error: there is no store at ${paths.store} to verify\n`);
    return EXIT.stageFailed;
  }
  const lock = existsSync(paths.lockfile) ? await readLockfile(paths.lockfile) : undefined;
  const opened = await openReads(paths);
  if (opened === undefined) {
    process.stderr.write(`error: there is no store at ${paths.store} to verify\n`);
    return EXIT.stageFailed;
  }
  const store = opened.reads;
  try {
    const mismatches = await verifyStore(store, lock);
    if (o.json) process.stdout.write(`${JSON.stringify({ ok: mismatches.length === 0, mismatches })}\n`);
    else if (mismatches.length === 0) {
      const [counts] = await store.rows('SELECT (SELECT count(*) FROM artifacts) AS a, (SELECT count(*) FROM results) AS r');
      process.stdout.write(`verified: ${String(counts?.a)} artifacts and ${String(counts?.r)} results match their hashes${lock === undefined ? '' : ', and lockfile.json agrees with the store'}\n`);
    } else {
      const short = (s: string | null) => (s === null ? '' : s.length > 16 ? s.slice(0, 16) : s);
      process.stdout.write(`${mismatches.length} problem(s) found:\n`);
      process.stdout.write(`${formatTable([['problem', 'artifact', 'stage', 'expected', 'found'], ...mismatches.map((m) => [m.problem, short(m.artifact), m.stage ?? '', short(m.expected), short(m.found)])], 90)}\n`);
    }
    return mismatches.length === 0 ? EXIT.ok : EXIT.stageFailed;
  } finally {
    await opened.close();
  }
}

export interface RerunCliOptions {
  sample?: string;
  seed: string;
  keep?: boolean;
  json?: boolean;
}

/** `pipeline verify --rerun`: exit 0 when every chosen stage reproduced its recorded outputs bit for bit. */
export async function rerunCommand(paths: ProjectPaths, targets: string[], o: RerunCliOptions, profile?: string): Promise<number> {
  const sample = o.sample === undefined ? undefined : Number(o.sample);
  if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) {
    process.stderr.write(`error: --sample expects a positive integer, got "${o.sample}"\n`);
    return EXIT.config;
  }
  if (!existsSync(paths.store) || !existsSync(paths.lockfile)) {
    process.stderr.write('error: --rerun needs lockfile.json and the store it describes\n');
    return EXIT.stageFailed;
  }
  const lock = await readLockfile(paths.lockfile);
  const loaded = await loadProject(paths.root, paths.pipelineFile, undefined, profile);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const { reports, scratch } = await rerunStages({
      root: paths.root,
      lock,
      graph: loaded.ok ? loaded.value : undefined,
      targets,
      sample,
      seed: Number(o.seed),
      keep: o.keep ?? false,
      signal: controller.signal,
      onReport: o.json ? undefined : (r) => process.stdout.write(`${r.status.padEnd(10)} ${r.stage}  (${r.seconds.toFixed(1)}s)  ${r.details.join('; ')}\n`),
    });
    const ok = reports.filter((r) => r.status === 'reproduced').length;
    if (o.json) process.stdout.write(`${JSON.stringify({ reproduced: ok, total: reports.length, stages: reports })}\n`);
    else process.stdout.write(`${ok} of ${reports.length} stage(s) reproduced bit for bit${o.keep ? `; scratch project kept at ${scratch}` : ''}\n`);
    return ok === reports.length ? EXIT.ok : EXIT.stageFailed;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message.split('\n')[0]}\n`);
    return EXIT.stageFailed;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
