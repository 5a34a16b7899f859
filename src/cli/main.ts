import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadProject } from '../config/load-project.ts';
import { selectStages } from '../graph/select.ts';
import { projectPaths } from '../project.ts';
import { readLockfile } from '../store/lockfile.ts';
import { EXIT, findRoot, printError, printFailures } from './common.ts';
import { renderDag, type DagFormat } from './dag.ts';
import { paramsDiff, renderParamsDiff } from './params-diff.ts';
import { reproCommand, type ReproCliOptions } from './repro.ts';
import { renderStageDetails, stageDetails } from './show.ts';

const program = new Command('pipeline')
  .description('A content-hashed pipeline runner with a DuckDB artifact store')
  .option('-C, --cwd <dir>', 'run as if started in DIR (where DIR/pipeline.yaml is)')
  .showHelpAfterError()
  .exitOverride();

const root = (): string => findRoot(program.opts<{ cwd?: string }>().cwd);

async function graphOrExit() {
  const paths = projectPaths(root());
  const loaded = await loadProject(paths.root, paths.pipelineFile, paths.expansionCache);
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
  .option('-j, --jobs <n>', 'stages to run at once', '1')
  .option('-k, --keep-going', 'keep running independent stages after a failure')
  .option('--wait', 'wait for another running pipeline instead of failing')
  .option('--json', 'print one JSON object with every stage at the end')
  .action(async (targets: string[], o: ReproCliOptions) => {
    exitCode = await reproCommand(root(), targets, o);
  });

program
  .command('status')
  .description('which stages are stale with respect to lockfile.json, and why')
  .argument('[targets...]')
  .option('--json', 'print JSON')
  .action(async (targets: string[], o: { json?: boolean }) => {
    exitCode = await reproCommand(root(), targets, { json: o.json ?? false }, 'status');
  });

program
  .command('dag')
  .description('print the stage graph')
  .argument('[targets...]')
  .addOption(new Option('--format <format>', 'output format').choices(['ascii', 'mermaid', 'dot', 'json']).default('ascii'))
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
  .description("a stage's fingerprint fields, outputs, metrics and last runs")
  .argument('<stage>')
  .option('--json', 'print JSON')
  .action(async (stage: string, o: { json?: boolean }) => {
    const { paths, graph } = await graphOrExit();
    const chosen = selectStages(graph, [stage]);
    if (!chosen.ok) process.exit(printFailures(chosen.error));
    const lock = await readLockfile(paths.lockfile);
    const names = graph.stages.has(stage) ? [stage] : (graph.groups.get(stage) ?? []);
    const details = [];
    for (const n of names) details.push(await stageDetails(graph, n, lock.stages[n], paths.store, existsSync(paths.store)));
    process.stdout.write(`${o.json ? JSON.stringify(details) : details.map(renderStageDetails).join('\n\n')}\n`);
  });

program
  .command('params')
  .description('params commands')
  .command('diff')
  .description('params in pipeline.yaml that differ from lockfile.json')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const { paths, graph } = await graphOrExit();
    const changes = paramsDiff(graph, await readLockfile(paths.lockfile));
    process.stdout.write(`${o.json ? JSON.stringify(changes) : renderParamsDiff(changes)}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const code = (e as { code?: string; exitCode?: number }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') exitCode = EXIT.ok;
  else if (typeof code === 'string' && code.startsWith('commander.')) exitCode = EXIT.config;
  else exitCode = printError(e);
}
process.exitCode = exitCode;
