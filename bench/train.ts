/**
 * Training throughput of the study's small GPT (2 layers, d_model 128, 4 heads, context 64,
 * batch 16, vocabulary 2000) on the backend chooseBackend picks, for each optimizer: seconds per
 * update and tokens per second, measured through pretrainLM (the code path real runs use) on
 * random token ids. The first updates of each run are dropped (warm-up: kernels compile, the
 * optimizer allocates its state); the figure is the median of the rest. Also times one
 * classification fine-tuning configuration, where only the last block and the head train.
 *
 *   node --import tsx bench/train.ts [--backend wasm|cpu|tfjs-node|tfjs-node-gpu] [--steps N] [--warmup N] [--optimizers a,b]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import { SMALL_GPT } from '../src/ml/models/gpt-config.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { OPTIMIZER_PROFILES } from '../src/ml/optimizers/profiles.ts';
import { Rng } from '../src/ml/rng.ts';
import { pretrainLM, trainClassifier } from '../src/ml/train.ts';

const BATCH = 16;
const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    optimizers: { type: 'string', default: 'sgd,adam,adamw,rmsprop,proposed' },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);

const backend = await chooseBackend(values.backend ? [values.backend] : undefined);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
console.log(`node ${process.version}, backend ${backend.name} ${backend.version}${backend.skipped.length ? ` (skipped: ${backend.skipped.map((s) => s.name).join(', ')})` : ''}`);
const config = SMALL_GPT;
const model0 = new Gpt(config, 0);
console.log(
  `model: ${config.layers} layers, d ${config.dModel}, ${config.heads} heads, d_ff ${config.dFF}, context ${config.contextLength}, vocab ${config.vocabSize}, ${model0.parameterCount()} parameters; batch ${BATCH}`,
);
model0.dispose();

const rng = new Rng(1);
const sequences = Array.from({ length: (warmup + steps) * BATCH }, () => Array.from({ length: config.contextLength }, () => 5 + Math.floor(rng.uniform() * (config.vocabSize - 5))));
const tokensPerStep = BATCH * (config.contextLength - 1);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Seconds per update of the measured steps, from the training loop's own progress reports. */
function stepTimer(): { onProgress: (p: { phase: string; elapsedSeconds: number }) => void; perStep: () => number } {
  const marks: number[] = [];
  return {
    onProgress: (p) => {
      if (p.phase === 'train') marks.push(p.elapsedSeconds);
    },
    perStep: () => median(marks.slice(warmup).map((t, i) => t - marks[warmup + i - 1]!)),
  };
}

const rows: string[] = [];
const report = (label: string, seconds: number, tokens: number): void => {
  rows.push(`| ${label} | ${seconds.toFixed(3)} | ${Math.round(tokens / seconds)} |`);
  console.log(`${label}: ${seconds.toFixed(3)} s/step, ${Math.round(tokens / seconds)} tokens/s`);
};

for (const name of values.optimizers!.split(',')) {
  const optimizer: OptimizerConfig | undefined = OPTIMIZER_PROFILES.table1[name];
  if (!optimizer) throw new Error(`unknown optimizer ${name}`);
  const model = new Gpt(config, 1);
  const timer = stepTimer();
  await pretrainLM(model, sequences, sequences.slice(0, 1), { batchSize: BATCH, epochs: 1, optimizer, seed: 1, padId: 0, onProgress: timer.onProgress });
  report(`LM pre-training, ${name}`, timer.perStep(), tokensPerStep);
  model.dispose();
}

{
  const model = new Gpt(config, 1);
  const timer = stepTimer();
  const labelled = { ids: sequences, labels: sequences.map((s) => s[0]! % 2) };
  await trainClassifier(model, labelled, { ids: sequences.slice(0, 1), labels: [0] }, {
    batchSize: BATCH,
    epochs: 1,
    optimizer: OPTIMIZER_PROFILES.table1['adamw']!,
    seed: 1,
    padId: 0,
    subset: 'last-1',
    onProgress: timer.onProgress,
  });
  report('fine-tuning last block + head, adamw', timer.perStep(), BATCH * config.contextLength);
  model.dispose();
}

console.log(`\n| ${backend.name}: what | s/step | tokens/s |\n| --- | --- | --- |\n${rows.join('\n')}`);
