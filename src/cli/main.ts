import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { ENGINE_VERSION } from '../fingerprint/fingerprint.ts';
import { loadGraph } from '../graph/load-graph.ts';
import { openReads } from '../live/open-reads.ts';
import { selectStages } from '../graph/select.ts';
import { projectPaths } from '../project.ts';
import { readLockfile } from '../store/lockfile.ts';
import { EXIT, printError, printFailures } from './common.ts';
import { findRoot } from './find-root.ts';
import { renderDag, type DagFormat } from './dag.ts';
import { paramsDiff, renderParamsDiff } from './params-diff.ts';
import { reproCommand, type ReproCliOptions } from './repro.ts';
import { exportCommand, type ExportOptions } from './export.ts';
import { gcCommand } from './gc.ts';
import { lineageCommand, type LineageFormat } from './lineage.ts';
import { metricsDiffCommand, metricsShowCommand } from './metrics.ts';
import { queryCommand } from './query.ts';
import { runStageCommand, type RunStageCliOptions } from './run-stage.ts';
import { renderRunDetails, renderStageDetails, runDetails, stageDetails } from './show.ts';
import { rerunCommand, verifyCommand, type RerunCliOptions } from './verify.ts';

// Two levels up both from src/cli/ and from the bundle in dist/bundle/.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const program = new Command('pipeline')
  .description('A content-hashed pipeline runner with a DuckDB artifact store')
  // The engine version is the one stored in every lockfile entry: results of another are rerun.
  .version(`${version} (engine ${ENGINE_VERSION})`, '-V, --version', 'print the version and the engine version')
  .option('-C, --cwd <dir>', 'run as if started in DIR (where DIR/pipeline.yaml is)')
  .option(
    '--profile <name>',
    'replace vars with those of profiles/NAME.yaml and use lockfile.NAME.json (also: PIPELINE_PROFILE)',
  )
  .option('--verbose', 'print the stack of an internal error (it is always written to .pipeline/logs/)')
  .showHelpAfterError()
  .exitOverride();

const root = (): string => findRoot(program.opts<{ cwd?: string }>().cwd);
const profile = (): string | undefined => program.opts<{ profile?: string }>().profile ?? process.env.PIPELINE_PROFILE;
const verbose = (): boolean => program.opts<{ verbose?: boolean }>().verbose ?? false;
/** The project's files; with --profile, its lockfile is lockfile.NAME.json. */
const paths = () => projectPaths(root(), profile());

async function graphOrExit() {
  const paths = projectPaths(root(), profile());
  const loaded = await loadGraph(paths.root, paths.pipelineFile, {
    cacheFile: paths.expansionCache,
    profile: profile(),
    readOnlyCache: true,
  });
  if (!loaded.ok) process.exit(printFailures(loaded.error));
  return { paths, graph: loaded.value };
}

let exitCode: number = EXIT.ok;

program
  .command('repro')
  .description('run every stage whose result is not up to date or in the store')
  .argument('[targets...]', 'stages, expanded stages (train@adam-2) or matrix names (train)')
  .option('-f, --force', 'run the selected stages even if cached')
  .option('--dry', 'print what would run and why; run nothing')
  .option('--downstream', 'run the targets and the stages that depend on them')
  .option('-j, --jobs <n>', 'stages to run at once (with Slurm: jobs in the queue at once) [default: 1]')
  .option('-k, --keep-going', 'keep running independent stages after a failure')
  .option('--wait', 'wait for another running pipeline instead of failing')
  .option('--json', 'print one JSON object with every stage at the end')
  .addOption(
    new Option(
      '--executor <executor>',
      'where stages run: here, or one Slurm job each [default: slurm if pipeline.yaml has executor: {slurm: ...}, else local]',
    ).choices(['local', 'slurm']),
  )
  .action(async (targets: string[], o: ReproCliOptions) => {
    exitCode = await reproCommand(root(), targets, { ...o, verbose: verbose() }, 'repro', profile());
  });

program
  .command('run-stage')
  .description(
    'run one stage into a staging directory, as a Slurm job does (repro --executor slurm submits it); never opens the store',
  )
  .argument('<stage>', 'an expanded stage name')
  .requiredOption(
    '--fingerprint <hash>',
    'the fingerprint it was submitted with: it refuses to run (exit 3) if its own differs',
  )
  .requiredOption('--out <dir>', 'staging directory: request.json in; out files, outputs.v8 and manifest.json out')
  .action(async (stage: string, o: RunStageCliOptions) => {
    exitCode = await runStageCommand(root(), stage, o, profile());
  });

program
  .command('status')
  .description('what repro would do, and why (repro --dry); writes nothing')
  .argument('[targets...]')
  .option('--json', 'print JSON')
  .action(async (targets: string[], o: { json?: boolean }) => {
    exitCode = await reproCommand(root(), targets, { json: o.json ?? false, verbose: verbose() }, 'status', profile());
  });

program
  .command('dag')
  .description('print the stage graph')
  .argument('[targets...]')
  .addOption(
    new Option('--format <format>', 'output format').choices(['ascii', 'mermaid', 'dot', 'json']).default('ascii'),
  )
  .action(async (targets: string[], o: { format: DagFormat }) => {
    const { graph } = await graphOrExit();
    const chosen = selectStages(graph, targets);
    if (!chosen.ok) process.exit(printFailures(chosen.error));
    const keep = new Set(chosen.value);
    const sub = { ...graph, order: graph.order.filter((n) => keep.has(n)) };
    process.stdout.write(`${renderDag(sub, o.format)}\n`);
  });

program
  .command('show')
  .description(
    "a stage's fingerprint fields, outputs, metrics and last runs; or a run's provenance (RUN id prefix, or 'last')",
  )
  .argument('<stage-or-run>')
  .option('--json', 'print JSON')
  .action(async (stage: string, o: { json?: boolean }) => {
    const { paths, graph } = await graphOrExit();
    const chosen = selectStages(graph, [stage]);
    const store = await openReads(paths);
    try {
      if (!chosen.ok) {
        const run = store === undefined ? undefined : await runDetails(store.reads, stage);
        if (run === undefined) {
          exitCode = printFailures(chosen.error);
          return;
        }
        process.stdout.write(`${o.json ? JSON.stringify(run) : renderRunDetails(run)}\n`);
        return;
      }
      const lock = await readLockfile(paths.lockfile);
      const names = graph.stages.has(stage) ? [stage] : (graph.groups.get(stage) ?? []);
      const details = [];
      for (const n of names) details.push(await stageDetails(graph, n, lock.stages[n], store?.reads));
      process.stdout.write(`${o.json ? JSON.stringify(details) : details.map(renderStageDetails).join('\n\n')}\n`);
    } finally {
      await store?.close();
    }
  });

program
  .command('params')
  .description('params commands')
  .command('diff')
  .description('params in pipeline.yaml that differ from lockfile.json')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const { paths, graph } = await graphOrExit();
    // The store only when a stage takes params from another's output: reading it costs a moment.
    const needsStore = [...graph.stages.values()].some((n) => n.spec.paramsFrom !== undefined);
    const store = needsStore ? await openReads(paths) : undefined;
    try {
      const changes = await paramsDiff(graph, await readLockfile(paths.lockfile), store?.reads);
      process.stdout.write(`${o.json ? JSON.stringify(changes) : renderParamsDiff(changes)}\n`);
    } finally {
      await store?.close();
    }
  });

program
  .command('verify')
  .description(
    'recompute every stored hash; check lineage and lockfile.json against the store; with --rerun, re-execute stages and compare outputs bit for bit',
  )
  .argument('[stages...]', 'with --rerun: the stages (or matrix names) to re-execute; default all')
  .option('--rerun', 're-execute stages from their stored inputs in a scratch project and store')
  .option('--sample <n>', 'with --rerun: a seeded random sample of N stages')
  .option('--seed <s>', 'seed for --sample', '0')
  .option('--keep', 'with --rerun: keep the scratch project and store for inspection')
  .option('-j, --jobs <n>', 'with --rerun: stages to rerun at once, as in repro [default: 1]')
  .addOption(
    new Option('--executor <executor>', 'with --rerun: where stages run, as in repro').choices(['local', 'slurm']),
  )
  .option('--json', 'print JSON')
  .action(async (stages: string[], o: { rerun?: boolean; json?: boolean } & RerunCliOptions) => {
    const paths = projectPaths(root(), profile());
    if (!o.rerun && (stages.length > 0 || o.sample !== undefined)) {
      process.stderr.write('error: stage names and --sample go with --rerun\n');
      exitCode = EXIT.config;
      return;
    }
    exitCode = o.rerun
      ? await rerunCommand(paths, stages, { ...o, verbose: verbose() }, profile())
      : await verifyCommand(paths, o);
  });

program
  .command('lineage')
  .description('the stages, params, code and inputs that produced a stage result or artifact, down to raw files')
  .argument('<target>', 'a stage name, an artifact hash (or prefix), or a fingerprint prefix')
  .addOption(new Option('--format <format>', 'output format').choices(['ascii', 'mermaid', 'json']).default('ascii'))
  .action(async (target: string, o: { format: LineageFormat }) => {
    exitCode = await lineageCommand(paths(), target, o);
  });

program
  .command('query')
  .description(
    'read-only SQL over the store (tables and views: stages, runs, artifacts, lineage, metrics, params, ...)',
  )
  .argument('<sql>')
  .option('--json', 'print JSON')
  .option('--csv', 'print CSV')
  .action(async (sql: string, o: { json?: boolean; csv?: boolean }) => {
    exitCode = await queryCommand(paths(), sql, o);
  });

program
  .command('export')
  .description('write one artifact to a file, or a bundle for a paper submission')
  .argument('[artifact]', 'an artifact hash (or prefix), or STAGE:OUTPUT such as summary:table:runs')
  .addOption(
    new Option('--format <format>', 'file format for tables').choices(['parquet', 'csv', 'json']).default('parquet'),
  )
  .option('-o, --output <file>', 'where to write the artifact')
  .option('--bundle <dir>', 'export lockfile, report, every table as Parquet, and a manifest of hashes')
  .action(async (artifact: string | undefined, o: ExportOptions) => {
    exitCode = await exportCommand(paths(), artifact, o);
  });

program
  .command('gc')
  .description('remove stored results unreachable from lockfile.json and the last N runs, then reclaim space')
  .option('--keep-last <n>', 'also keep what the last N invocations made or used', '0')
  .option('--dry', 'print what would be removed')
  .option('--wait', 'wait for another running pipeline instead of failing')
  .action(async (o: { keepLast: string; dry?: boolean; wait?: boolean }) => {
    exitCode = await gcCommand(paths(), o);
  });

program
  .command('backend')
  .description('which TensorFlow.js backends load here, the WebGPU adapter, and what the automatic choice picks')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    // Loaded here: it loads TensorFlow.js, which every other command (a no-op repro) would pay for at start.
    const { backendCommand } = await import('./backend.ts');
    exitCode = await backendCommand(o);
  });

program
  .command('ui')
  .description(
    'a local web dashboard (127.0.0.1 only, with a token): the DAG live during a run, stages, curves, matrices, the report',
  )
  .option('--port <n>', 'port to listen on (0: any free port)', '8737')
  .action(async (o: { port: string }) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`error: --port expects a port number, got "${o.port}"\n`);
      exitCode = EXIT.config;
      return;
    }
    const { paths, graph } = await graphOrExit();
    const { startUi } = await import('../ui/server.ts');
    const ui = await startUi(paths, graph, port);
    process.stdout.write(`pipeline ui: open ${ui.url}\n(Ctrl-C stops it)\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await ui.close();
  });

const metrics = program.command('metrics').description('metrics recorded in lockfile.json');
metrics
  .command('show')
  .description("every stage's metrics (or those of the given stages or matrix names)")
  .argument('[targets...]')
  .option('--json', 'print JSON')
  .action(async (targets: string[], o: { json?: boolean }) => {
    exitCode = await metricsShowCommand(paths(), targets, o);
  });
metrics
  .command('diff')
  .description('metrics in the work tree against lockfile.json at a git revision')
  .argument('[rev]', 'git revision', 'HEAD')
  .option('--targets <stages...>', 'only these stages or matrix names')
  .option('--all', 'also list metrics that did not change')
  .option('--json', 'print JSON')
  .action(async (rev: string, o: { json?: boolean; all?: boolean; targets?: string[] }) => {
    exitCode = await metricsDiffCommand(paths(), rev, o.targets ?? [], o);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const code = (e as { code?: string; exitCode?: number }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
    exitCode = EXIT.ok;
  else if (typeof code === 'string' && code.startsWith('commander.')) exitCode = EXIT.config;
  else exitCode = await printError(e, findRoot(program.opts<{ cwd?: string }>().cwd), verbose());
}
process.exitCode = exitCode;
