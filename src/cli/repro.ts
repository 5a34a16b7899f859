import { LiveRun, teeReporter } from '../live/live-run.ts';
import { ReadServer } from '../live/read-server.ts';
import { projectPaths } from '../project.ts';
import { LiveReporter, PlainReporter, type Reporter } from '../run/reporter.ts';
import { repro } from '../run/repro.ts';
import type { ArtifactStore } from '../store/store.ts';
import { onInterrupt } from './interrupt.ts';
import { EXIT, printFailures } from './common.ts';
import { printOutcome } from './repro-outcome.ts';

export interface ReproCliOptions {
  force?: boolean;
  dry?: boolean;
  downstream?: boolean;
  jobs?: string;
  json?: boolean;
  keepGoing?: boolean;
  wait?: boolean;
  executor?: 'local' | 'slurm';
  verbose?: boolean;
}

export async function reproCommand(
  root: string,
  targets: string[],
  o: ReproCliOptions,
  mode: 'repro' | 'status' = 'repro',
  profile?: string,
): Promise<number> {
  const jobs = o.jobs === undefined ? undefined : Number(o.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) {
    process.stderr.write(`error: -j expects a positive integer, got "${o.jobs}"\n`);
    return EXIT.config;
  }
  // With --json, stdout carries the one JSON object; human progress goes to stderr.
  const human = o.json ? process.stderr : process.stdout;
  const terminal: Reporter = human.isTTY ? await LiveReporter.create(human) : new PlainReporter(human);
  // What the run reports is also kept for other processes (`pipeline ui`), served with the store.
  const live = mode === 'repro' && !o.dry ? new LiveRun() : undefined;
  const reporter = live === undefined ? terminal : teeReporter(terminal, live);
  const onStoreOpen = (store: ArtifactStore): void => {
    const server = ReadServer.start(projectPaths(root), store, live);
    store.onClose(async () => (await server.catch(() => undefined))?.close());
    server.catch((e: unknown) =>
      process.stderr.write(`warning: other commands cannot read the store during this run: ${(e as Error).message}\n`),
    );
  };
  const interrupt = onInterrupt('running stages');
  try {
    // `status` is `repro --dry` printed differently: one plan, so the two cannot disagree.
    const status = mode === 'status';
    const result = await repro({
      root,
      targets,
      force: o.force ?? false,
      dry: status || (o.dry ?? false),
      downstream: o.downstream ?? false,
      jobs,
      keepGoing: o.keepGoing ?? false,
      wait: o.wait ?? false,
      verbose: o.verbose ?? false,
      reporter,
      signal: interrupt.signal,
      command: process.argv.slice(2).join(' '),
      profile,
      ...(live === undefined ? {} : { onStoreOpen }),
      ...(o.executor === undefined ? {} : { executor: o.executor }),
    });
    reporter.close();
    if (result.kind === 'config-error') return printFailures(result.failures);
    printOutcome(result, { json: o.json ?? false, status, human });
    if (result.interrupted) {
      const done = result.stages.filter((s) => s.status === 'ran').map((s) => s.name);
      process.stderr.write(`interrupted; finished and stored: ${done.length > 0 ? done.join(', ') : 'none'}\n`);
      return EXIT.interrupted;
    }
    return result.stages.some((s) => s.status === 'failed') ? EXIT.stageFailed : EXIT.ok;
  } finally {
    reporter.close();
    interrupt.dispose();
  }
}
