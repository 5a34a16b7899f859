/**
 * Engine overhead: wall time of a no-op `pipeline repro` (every stage up to date) on generated
 * pipelines of 10, 100 and 1000 stages, and of planning (`repro --dry`) after one param changes
 * in the 1000-stage one. Each figure is the median of several runs, printed beside the start-up
 * time of a bare `node` process measured in the same run as a baseline.
 *
 * Then the full run and the no-op rerun of a binary tree of 1000 trivial shell stages
 * (`echo N > out/sN.txt`, each reading its parent's file), side by side with Snakemake on the
 * same DAG in the same run (skipped with a message where `snakemake` is not installed; Debian:
 * `apt-get install snakemake`).
 *
 *   npm run bench            (or: node --import tsx bench/engine.ts [sizes...] [--tree-only])
 *
 * `--tree-only` skips the generated pipelines and runs only the side-by-side on the tree.
 * The pipeline's first two no-ops after its full run (the long way, while the files are within the
 * racy window, and the one that records the no-op) are timed and printed apart from the reruns.
 *
 * `--against PATH` also times the no-op rerun of another build's bin/pipeline.js (an older
 * checkout, say) on the same tree, taking turns with the other two: a before/after in one run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync as readText } from 'node:fs';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RACY_WINDOW_MS } from '../src/fingerprint/file-stamp.ts';

const BIN = fileURLToPath(new URL('../bin/pipeline.js', import.meta.url));
const REPEATS = 5;
/** Long enough for every file a run wrote to leave the racy window, so the next no-op can record itself. */
const PAST_RACY_WINDOW_MS = RACY_WINDOW_MS + 500;

/**
 * A pipeline shaped like the study: a chain of ingest-like stages, a matrix fanning out from
 * them (model x optimizer x seed), and per-model reductions fanning back in. All are cheap
 * `cmd:` stages so the first (populating) run is quick; the no-op cost does not depend on what
 * a stage does.
 */
function generate(dir: string, stages: number): void {
  const chain = Math.max(2, Math.round(stages * 0.05));
  const models = 3;
  const reduce = models;
  const perModel = Math.max(1, Math.floor((stages - chain - reduce) / models));
  const lines = ['stages:'];
  for (let i = 0; i < chain; i++) {
    lines.push(
      `  step${i}:`,
      `    cmd: echo ${i} > out/step${i}.txt`,
      `    params: {level: ${i}}`,
      `    outs: [out/step${i}.txt]`,
    );
    lines.push(`    deps: [${i === 0 ? 'data/input.txt' : `out/step${i - 1}.txt`}]`);
  }
  const seeds = Array.from({ length: perModel }, (_, i) => i + 1);
  lines.push(
    '  train:',
    `    cmd: echo \${item.model} \${item.seed} \${lr}`,
    `    deps: [step${chain - 1}]`,
    '    matrix:',
    `      model: [${Array.from({ length: models }, (_, m) => `m${m}`).join(', ')}]`,
    `      seed: [${seeds.join(', ')}]`,
    '    params: {model: "${item.model}", seed: "${item.seed}", lr: 0.01}',
  );
  for (let m = 0; m < models; m++) {
    lines.push(
      `  report${m}:`,
      `    cmd: echo report ${m}`,
      `    deps: [${seeds.map((s) => `train@m${m}-${s}`).join(', ')}]`,
    );
  }
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'data/input.txt'), 'input\n');
  writeFileSync(join(dir, 'pipeline.yaml'), `${lines.join('\n')}\n`);
}

function timeIt(cmd: string, args: string[], cwd?: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function countStages(dir: string): number {
  return (
    JSON.parse(execFileSync(process.execPath, [BIN, '-C', dir, 'dag', '--format', 'json']).toString()) as {
      stages: unknown[];
    }
  ).stages.length;
}

const sizes = process.argv
  .slice(2)
  .filter((a, i, all) => all[i - 1] !== '--against')
  .map(Number)
  .filter((n) => n > 0);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`,
);
const treeOnly = process.argv.includes('--tree-only');
const againstAt = process.argv.indexOf('--against');
const against = againstAt === -1 ? undefined : process.argv[againstAt + 1];
if (againstAt !== -1 && against === undefined) throw new Error('--against needs the path of a bin/pipeline.js');
const nodeStart = median(Array.from({ length: REPEATS }, () => timeIt(process.execPath, ['-e', '0'])));
console.log(`baseline: bare node start ${nodeStart.toFixed(0)} ms (median of ${REPEATS})`);
if (!treeOnly) console.log('stages  first run (s)  no-op repro (ms)  no-op / node start');
let largest = '';
for (const target of treeOnly ? [] : sizes.length > 0 ? sizes : [10, 100, 1000]) {
  const dir = mkdtempSync(join(tmpdir(), `bench-engine-${target}-`));
  generate(dir, target);
  const n = countStages(dir);
  const first = timeIt(process.execPath, [BIN, '-C', dir, 'repro', '-j', '2']);
  // Past the racy window, one no-op the long way leaves the record the timed ones are answered from.
  await sleep(PAST_RACY_WINDOW_MS);
  timeIt(process.execPath, [BIN, '-C', dir, 'repro']);
  const noop = median(Array.from({ length: REPEATS }, () => timeIt(process.execPath, [BIN, '-C', dir, 'repro'])));
  console.log(
    `${String(n).padStart(6)}  ${(first / 1000).toFixed(1).padStart(13)}  ${noop.toFixed(0).padStart(16)}  ${(noop / nodeStart).toFixed(1).padStart(18)}`,
  );
  largest = dir;
}

// Planning a change: one param of the first chain stage changes, so everything downstream is stale.
if (largest !== '') {
  const yaml = join(largest, 'pipeline.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('params: {level: 0}', 'params: {level: 100}'));
  const plan = median(
    Array.from({ length: REPEATS }, () => timeIt(process.execPath, [BIN, '-C', largest, 'repro', '--dry'])),
  );
  console.log(
    `plan one param change (repro --dry) in the largest pipeline: ${plan.toFixed(0)} ms (${(plan / nodeStart).toFixed(1)}x node start)`,
  );
}

/**
 * The binary tree: stage sN (N >= 1) reads its parent s((N-1)/2)'s file and writes its own.
 * The pipeline declares each stage; the Snakefile says the same with one wildcard rule, as a
 * Snakemake user would write it.
 */
function binaryTree(dir: string, n: number): void {
  const lines = ['stages:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  s${i}:`, `    cmd: echo ${i} > out/s${i}.txt`, `    outs: [out/s${i}.txt]`);
    if (i > 0) lines.push(`    deps: [out/s${Math.floor((i - 1) / 2)}.txt]`);
  }
  writeFileSync(join(dir, 'pipeline.yaml'), `${lines.join('\n')}\n`);
  const leaves = Array.from({ length: n }, (_, i) => i).filter((i) => 2 * i + 1 >= n);
  writeFileSync(
    join(dir, 'Snakefile'),
    [
      `rule all:`,
      `    input: [${leaves.map((i) => `"out/s${i}.txt"`).join(', ')}]`,
      `rule root:`,
      `    output: "out/s0.txt"`,
      `    shell: "echo 0 > {output}"`,
      `rule node:`,
      `    input: lambda w: f"out/s{(int(w.i) - 1) // 2}.txt"`,
      `    output: "out/s{i,[1-9][0-9]*}.txt"`,
      `    shell: "echo {wildcards.i} > {output}"`,
      '',
    ].join('\n'),
  );
}

const TREE = 1000;
const cpuModel = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(readText('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
})();
console.log(
  `\nbinary tree of ${TREE} trivial shell stages, -j 2 (${cpuModel}, ${cpus().length} cores, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
// The two tools take turns (full runs one after the other, then the no-op reruns alternating), so
// a change of the machine's load in the middle of the run weighs on both alike.
const ours = mkdtempSync(join(tmpdir(), 'bench-tree-pipeline-'));
binaryTree(ours, TREE);
const snakemake = spawnSync('snakemake', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
const theirs = snakemake.status === 0 ? mkdtempSync(join(tmpdir(), 'bench-tree-snakemake-')) : undefined;
if (theirs !== undefined) binaryTree(theirs, TREE);
const snakeArgs = ['-j', '2', '--quiet'];
const oursFull = timeIt(process.execPath, [BIN, '-C', ours, 'repro', '-j', '2']);
// A file written less than the racy window (2 s) ago cannot be judged by its stat, so a no-op
// right after a run reads the graph, the lockfile and the file hashes the long way; the one after
// that, once the files are older, leaves the record that later no-ops are answered from. Both
// are timed once; the reruns are timed after them, as a user's rerun comes seconds or days later.
const rightAfter = timeIt(process.execPath, [BIN, '-C', ours, 'repro']);
await sleep(PAST_RACY_WINDOW_MS);
const recording = timeIt(process.execPath, [BIN, '-C', ours, 'repro']);
const theirFull = theirs === undefined ? undefined : timeIt('snakemake', snakeArgs, theirs);
const oursNoops: number[] = [];
const theirNoops: number[] = [];
const againstNoops: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  oursNoops.push(timeIt(process.execPath, [BIN, '-C', ours, 'repro']));
  if (theirs !== undefined) theirNoops.push(timeIt('snakemake', snakeArgs, theirs));
  if (against !== undefined) againstNoops.push(timeIt(process.execPath, [against, '-C', ours, 'repro']));
}
const oursNoop = median(oursNoops);
const bareNode = median(Array.from({ length: REPEATS }, () => timeIt(process.execPath, ['-e', '0'])));
console.log(
  `pipeline   full run ${(oursFull / 1000).toFixed(2)} s   no-op rerun ${oursNoop.toFixed(0)} ms (bare node start now ${bareNode.toFixed(0)} ms)`,
);
console.log(
  `pipeline   no-op the long way: right after the run ${rightAfter.toFixed(0)} ms, then recording ${recording.toFixed(0)} ms`,
);
if (against !== undefined)
  console.log(
    `${against}   no-op rerun ${median(againstNoops).toFixed(0)} ms (this build is ${(median(againstNoops) / oursNoop).toFixed(2)}x as fast)`,
  );
if (theirs === undefined || theirFull === undefined) {
  console.log('snakemake  skipped: not installed (Debian: apt-get install snakemake)');
} else {
  const theirNoop = median(theirNoops);
  console.log(
    `snakemake ${snakemake.stdout.toString().trim()}   full run ${(theirFull / 1000).toFixed(2)} s   no-op rerun ${theirNoop.toFixed(0)} ms`,
  );
  console.log(
    `pipeline is ${(theirFull / oursFull).toFixed(2)}x as fast on the full run, ${(theirNoop / oursNoop).toFixed(1)}x on the no-op rerun`,
  );
}
console.log(
  `load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
