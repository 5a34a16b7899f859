/**
 * Speed-up of the faster formulations (src/ml/ops/fast-paths.ts) on a loaded machine: the same
 * training step with them on and off, alternating step by step so that both see the same load,
 * then the ratio of the median step times. The bench's small GPT (LM pre-training, AdamW, batch
 * 16, the model bench/train.ts compares with PyTorch) and each study architecture's fine-tuning
 * step at pipeline.yaml's size.
 *
 *   node --import tsx bench/fast-paths-speedup.ts [--backend wasm] [--steps 12]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import { SMALL_GPT } from '../src/ml/models/gpt-config.ts';
import { makeOptimizer } from '../src/ml/optimizers/make-optimizer.ts';
import type { LanguageModel } from '../src/ml/models/language-model.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';
import { Rng } from '../src/ml/rng.ts';
import { declaredOptimizers } from '../src/study/declared-optimizers.ts';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { backend: { type: 'string' }, steps: { type: 'string', default: '12' } } });
const steps = Number(values.steps);
const backend = await chooseBackend(values.backend ? [values.backend] : undefined);
const adamw = (await declaredOptimizers(fileURLToPath(new URL('..', import.meta.url)))).get('adamw')!;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function speedup(label: string, model: LanguageModel, loss: () => tf.Scalar): Promise<void> {
  const opt = makeOptimizer(adamw, 1000);
  const variables = model.trainableVariables('all');
  const step = async (fast: boolean): Promise<number> => {
    setFastPaths(fast);
    const t0 = performance.now();
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, variables);
      opt.apply(grads).gradNorm?.dispose();
      return value;
    });
    await value.data();
    value.dispose();
    return performance.now() - t0;
  };
  await step(true);
  await step(false);
  const times = { fast: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < steps; i++) {
    times.fast.push(await step(true));
    times.baseline.push(await step(false));
  }
  setFastPaths(true);
  opt.dispose();
  const [f, b] = [median(times.fast), median(times.baseline)];
  console.log(`| ${label} | ${b.toFixed(0)} | ${f.toFixed(0)} | ${(b / f).toFixed(2)}x |`);
}

console.log(`backend ${backend.name}; median ms per step of ${steps}, alternating\n`);
console.log('| step | fast paths off (ms) | on (ms) | speed-up |\n| --- | --- | --- | --- |');
const rng = new Rng(5);
const ids = (rows: number, time: number, vocab: number): tf.Tensor2D =>
  tf.tensor2d(
    Int32Array.from({ length: rows * time }, () => 5 + Math.floor(rng.uniform() * (vocab - 5))),
    [rows, time],
    'int32',
  );
{
  const model = new Gpt(SMALL_GPT, 1);
  const x = ids(16, SMALL_GPT.contextLength, SMALL_GPT.vocabSize);
  const mask = tf.ones(x.shape, 'float32') as tf.Tensor2D;
  await speedup('bench GPT (d 128, vocab 2000), LM pre-training', model, () =>
    model.lmLoss(x, mask, { dropoutSeed: 1 }),
  );
  model.dispose();
}
