/**
 * The study's matrix products on wasm, timed as training meets them: the right side is a new
 * tensor at every product (a gradient, or a weight the last update replaced). For each shape of
 * a GPT-2-style fine-tuning step at pipeline.yaml's size (d_model 64, d_ff 256, 1,024 tokens;
 * the vocabulary-wide head of pre-training and evaluation; weight gradients, which read the left
 * side transposed; attention's batched products), the built-in kernel (XNNPACK for a plain
 * product, which packs the right side before multiplying; tfjs's scalar loop otherwise) against
 * the SIMD loops of src/ml/kernels/batch-matmul-wasm.ts, both in this process, and the ratio
 * (batched products: tfjs's scalar loop is the built-in one; bench/profile.ts's baseline too).
 * Also XNNPACK with the same right side reused, where its packed copy is cached (evaluation,
 * where the weights stay fixed), as a ceiling for the plain products.
 *
 *   node --import tsx bench/matmul.ts [--repeats 15]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '15' } } });
const repeats = Number(values.repeats);
const backend = await chooseBackend(['wasm']);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
console.log(`node ${process.version}, backend ${backend.name} ${backend.version}, ${new Date().toISOString()}`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Median ms of `a @ b` (b copied to a new tensor before each product unless `reuse`); a
 * transposed left side as src/ml/ops/matmul.ts's gradient forms it: with the fast paths off an
 * explicit transpose and a plain product, with them on the flag.
 */
function time(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, reuse: boolean, fast: boolean): number {
  setFastPaths(fast);
  const ms: number[] = [];
  for (let i = 0; i < repeats + 2; i++) {
    const right = reuse ? b : tf.add(b, 0);
    const start = performance.now();
    const out = transposeA && !fast ? tf.matMul(tf.transpose(a), right) : tf.matMul(a, right, transposeA, false);
    const elapsed = performance.now() - start;
    tf.dispose(out);
    if (!reuse) right.dispose();
    if (i >= 2) ms.push(elapsed);
  }
  setFastPaths(true);
  return median(ms);
}

interface Shape {
  what: string;
  /** Leading batch axes, then [m, k] x [k, n]. */
  batch: number[];
  m: number;
  k: number;
  n: number;
  transposeA?: boolean;
}

const shapes: Shape[] = [
  { what: 'MLP up, forward', batch: [], m: 1024, k: 64, n: 256 },
  { what: 'MLP down, forward', batch: [], m: 1024, k: 256, n: 64 },
  { what: 'q, k, v projection, forward', batch: [], m: 1024, k: 64, n: 192 },
  { what: 'attention output, forward', batch: [], m: 1024, k: 64, n: 64 },
  { what: 'LM head, forward', batch: [], m: 1008, k: 64, n: 1000 },
  { what: 'LM head, input gradient', batch: [], m: 1008, k: 1000, n: 64 },
  { what: 'MLP up, weight gradient', batch: [], m: 64, k: 1024, n: 256, transposeA: true },
  { what: 'MLP down, weight gradient', batch: [], m: 256, k: 1024, n: 64, transposeA: true },
  { what: 'attention scores q k^T', batch: [16, 4], m: 64, k: 16, n: 64 },
  { what: 'attention weights x v', batch: [16, 4], m: 64, k: 64, n: 16 },
];

const rows: string[] = [];
let builtInTotal = 0;
let oursTotal = 0;
for (const s of shapes) {
  const a = tf.randomNormal([...s.batch, ...(s.transposeA ? [s.k, s.m] : [s.m, s.k])]);
  const b = tf.randomNormal([...s.batch, s.k, s.n]);
  const plain = s.batch.length === 0 && !s.transposeA;
  const builtIn = time(a, b, s.transposeA ?? false, false, false);
  const cached = plain ? time(a, b, false, true, false) : undefined;
  const ours = time(a, b, s.transposeA ?? false, false, true);
  tf.dispose([a, b]);
  builtInTotal += builtIn;
  oursTotal += ours;
  const gflop = (2 * s.batch.reduce((x, y) => x * y, 1) * s.m * s.k * s.n) / 1e6;
  const rate = (ms: number): string => `${ms.toFixed(2)} ms (${(gflop / ms).toFixed(1)})`;
  const shape = `${s.batch.length ? `${s.batch.join('x')} x ` : ''}[${s.m}, ${s.k}]${s.transposeA ? ' (a^T)' : ''} x [${s.k}, ${s.n}]`;
  rows.push(
    `| ${s.what} | ${shape} | ${rate(builtIn)} | ${cached === undefined ? '' : rate(cached)} | ${rate(ours)} | ${(builtIn / ours).toFixed(2)} |`,
  );
}
console.log(
  `\n| product | shape | built-in, new right side (GFLOP/s; a^T: transpose, then XNNPACK) | XNNPACK, right side reused | SIMD loops, new right side | speed-up |\n| --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}`,
);
console.log(
  `\nall products: built-in ${builtInTotal.toFixed(1)} ms, SIMD loops ${oursTotal.toFixed(1)} ms, ratio ${(builtInTotal / oursTotal).toFixed(2)}`,
);
