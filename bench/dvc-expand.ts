/**
 * Expanding a large DVC project: wall time of `pipeline dag --format json` (discover, render,
 * expand foreach/matrix, link deps to outputs, print) on a generated dvc.yaml of 12 definitions
 * that expands to about 4,000 stages, shaped like a real sweep: a foreach over datasets, a matrix
 * of dataset x model x lr x seed that each read a directory output, and reductions over them.
 * The median of several runs is printed with the stage and edge counts.
 *
 *   npm run bench:dvc        (or: node --import tsx bench/dvc-expand.ts)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/pipeline.js', import.meta.url));
const REPEATS = 3;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dvc-bench-'));
  const datasets = Array.from({ length: 10 }, (_, i) => `ds${i}`);
  const models = Array.from({ length: 8 }, (_, i) => `m${i}`);
  writeFileSync(
    join(dir, 'params.yaml'),
    `datasets: [${datasets.join(', ')}]\nmodels: [${models.join(', ')}]\nlrs: [0.1, 0.01, 0.001, 0.0001, 5.0e-05]\nseeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n` +
      'train:\n  epochs: 20.0\n  batch: 32\n  fast: true\n',
  );
  const stages: string[] = [
    `  prepare:\n    foreach: \${datasets}\n    do:\n      cmd: python prepare.py --name \${item} \${train}\n      deps: [raw/\${item}]\n      outs: [data/\${item}]`,
    `  train:\n    matrix:\n      ds: \${datasets}\n      model: \${models}\n      lr: \${lrs}\n      seed: \${seeds}\n` +
      `    cmd:\n      - python train.py --data data/\${item.ds}/train.csv --lr \${item.lr} --seed \${item.seed}\n      - echo \${key}\n` +
      `    deps: [data/\${item.ds}/train.csv, src]\n    params: [train.epochs]\n    outs: [models/\${item.ds}/\${item.model}/\${item.lr}-\${item.seed}]`,
    `  summarise:\n    foreach: \${datasets}\n    do:\n      cmd: python summarise.py models/\${item}\n      deps: [models/\${item}]\n      outs: [reports/\${item}.json]`,
  ];
  for (let i = 0; i < 9; i++)
    stages.push(`  extra${i}:\n    cmd: echo \${train.batch} ${i}\n    deps: [reports]\n    outs: [extra/${i}.txt]`);
  writeFileSync(join(dir, 'dvc.yaml'), `stages:\n${stages.join('\n')}\n`);
  return dir;
}

const dir = project();
const times: number[] = [];
let stages = 0;
let edges = 0;
for (let r = 0; r < REPEATS; r++) {
  const t0 = process.hrtime.bigint();
  const out = spawnSync(process.execPath, [BIN, '-C', dir, 'dag', '--format', 'json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  if (out.status !== 0) throw new Error(`dag failed: ${out.stderr}`);
  const g = JSON.parse(out.stdout) as { stages: unknown[]; edges: unknown[] };
  stages = g.stages.length;
  edges = g.edges.length;
}
times.sort((a, b) => a - b);
process.stdout.write(
  `dvc.yaml of 12 definitions -> ${stages} stages, ${edges} edges: dag --format json ${times[Math.floor(times.length / 2)]!.toFixed(2)} s (median of ${REPEATS})\n`,
);
