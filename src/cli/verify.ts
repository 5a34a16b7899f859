import { storeCounts } from '../store/run-queries.ts';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { loadGraph } from '../graph/load-graph.ts';
import type { ProjectPaths } from '../project.ts';
import { rerunStages } from '../run/rerun.ts';
import { LiveReporter, PlainReporter, type Reporter } from '../run/reporter.ts';
import { readLockfile } from '../store/lockfile.ts';
import { withStoreReads } from './with-store-reads.ts';
import { verifyStore } from '../store/verify.ts';
import { describeFailure } from '../errors.ts';
import { onInterrupt } from './interrupt.ts';
import { EXIT } from './common.ts';
import { formatTable } from './table-text.ts';

/** `pipeline verify`: exit 0 when the store and lockfile hold together, else 1 with every mismatch. */
export async function verifyCommand(paths: ProjectPaths, o: { json?: boolean }): Promise<number> {
  if (!existsSync(paths.store)) {
    process.stderr.write(`error: there is no store at ${paths.store} to verify\n`);
    return EXIT.stageFailed;
  }
  const lock = existsSync(paths.lockfile) ? await readLockfile(paths.lockfile) : undefined;
  return withStoreReads(
    paths,
    async ({ reads: store }) => {
      const mismatches = await verifyStore(store, lock);
      if (o.json) process.stdout.write(`${JSON.stringify({ ok: mismatches.length === 0, mismatches })}\n`);
      else if (mismatches.length === 0) {
        const counts = await storeCounts(store);
        const lockName = basename(paths.lockfile);
        process.stdout.write(
          `verified: ${counts.artifacts} artifacts and ${counts.results} results match their hashes${lock === undefined ? '' : `, and ${lockName} agrees with the store`}\n`,
        );
      } else {
        const short = (s: string | null) => (s === null ? '' : s.length > 16 ? s.slice(0, 16) : s);
        process.stdout.write(`${mismatches.length} problem(s) found:\n`);
        process.stdout.write(
          `${formatTable([['problem', 'artifact', 'stage', 'expected', 'found'], ...mismatches.map((m) => [m.problem, short(m.artifact), m.stage ?? '', short(m.expected), short(m.found)])], 90)}\n`,
        );
      }
      return mismatches.length === 0 ? EXIT.ok : EXIT.stageFailed;
    },
    ' to verify',
  );
}

export interface RerunCliOptions {
  sample?: string;
  seed: string;
  keep?: boolean;
  json?: boolean;
  jobs?: string;
  executor?: 'local' | 'slurm';
  verbose?: boolean;
}

/** `pipeline verify --rerun`: exit 0 when every chosen stage reproduced its recorded outputs bit for bit. */
export async function rerunCommand(
  paths: ProjectPaths,
  targets: string[],
  o: RerunCliOptions,
  profile?: string,
): Promise<number> {
  const sample = o.sample === undefined ? undefined : Number(o.sample);
  if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) {
    process.stderr.write(`error: --sample expects a positive integer, got "${o.sample}"\n`);
    return EXIT.config;
  }
  const jobs = o.jobs === undefined ? undefined : Number(o.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) {
    process.stderr.write(`error: -j expects a positive integer, got "${o.jobs}"\n`);
    return EXIT.config;
  }
  if (!existsSync(paths.store) || !existsSync(paths.lockfile)) {
    process.stderr.write(`error: --rerun needs ${basename(paths.lockfile)} and the store it describes\n`);
    return EXIT.stageFailed;
  }
  const lock = await readLockfile(paths.lockfile);
  const loaded = await loadGraph(paths.root, paths.pipelineFile, { profile });
  // Progress goes to stderr, as repro's does with --json; stdout carries one line per stage.
  const reporter: Reporter = process.stderr.isTTY
    ? await LiveReporter.create(process.stderr)
    : new PlainReporter(process.stderr, false);
  const interrupt = onInterrupt('running reruns');
  try {
    const { reports, scratch } = await rerunStages({
      root: paths.root,
      lock,
      graph: loaded.ok ? loaded.value : undefined,
      targets,
      sample,
      seed: Number(o.seed),
      keep: o.keep ?? false,
      signal: interrupt.signal,
      jobs,
      reporter,
      verbose: o.verbose ?? false,
      ...(o.executor === undefined ? {} : { executor: o.executor }),
      ...(profile === undefined ? {} : { profile }),
      onReport: o.json
        ? undefined
        : (r) =>
            process.stdout.write(
              `${r.status.padEnd(10)} ${r.stage}  (${r.seconds.toFixed(1)}s)  ${r.details.join('; ')}\n`,
            ),
    });
    reporter.close();
    const ok = reports.filter((r) => r.status === 'reproduced').length;
    if (o.json) process.stdout.write(`${JSON.stringify({ reproduced: ok, total: reports.length, stages: reports })}\n`);
    else
      process.stdout.write(
        `${ok} of ${reports.length} stage(s) reproduced bit for bit${o.keep ? `; scratch project kept at ${scratch}` : ''}\n`,
      );
    if (interrupt.signal.aborted) return EXIT.interrupted;
    return ok === reports.length ? EXIT.ok : EXIT.stageFailed;
  } catch (e) {
    process.stderr.write(`error: ${await describeFailure(paths.root, 'verify --rerun', e, o.verbose ?? false)}\n`);
    return EXIT.stageFailed;
  } finally {
    reporter.close();
    interrupt.dispose();
  }
}
