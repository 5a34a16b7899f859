import type * as tf from '@tensorflow/tfjs-core';
import { heapOffset, replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';
import { simdLoops } from './simd-loops.ts';

/**
 * A permutation with size-1 axes dropped and runs of axes that stay neighbours, in order, merged
 * into one: [16, 4, 64, 16] by [0, 1, 3, 2] is [64, 64, 16] by [0, 2, 1]; [8, 1, 64] by
 * [1, 0, 2] is [512] by [0], a copy.
 */
function collapsePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const groups: number[][] = [];
  for (const axis of perm.filter((a) => shape[a] !== 1)) {
    const last = groups.at(-1);
    if (last !== undefined && last.at(-1)! + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  const byInput = [...groups].sort((x, y) => x[0]! - y[0]!);
  return {
    shape: byInput.map((g) => g.reduce((n, a) => n * shape[a]!, 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** Whether a collapsed permutation swaps its last two axes and keeps at most one batch axis before them. */
const swapsLastTwo = (p: readonly number[]): boolean =>
  (p.length === 2 && p[0] === 1 && p[1] === 0) || (p.length === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1);

export type TransposePlan =
  | { loop: 'transpose'; batch: number; rows: number; cols: number }
  | { loop: 'transposeChunks'; batch: number; rows: number; cols: number; chunk: number };

/** Which of our loops moves `shape` by `perm`, and with which sizes; undefined: the built-in kernel. */
export function transposePlan(shape: readonly number[], perm: readonly number[]): TransposePlan | undefined {
  const { shape: s, perm: p } = collapsePermutation(shape, perm);
  const total = sizeOf(shape);
  if (swapsLastTwo(p)) {
    const [rows, cols] = s.slice(-2) as [number, number];
    return rows % 4 === 0 && cols % 4 === 0
      ? { loop: 'transpose', batch: total / (rows * cols), rows, cols }
      : undefined;
  }
  // The last axis stays last: a transpose of matrices whose elements are runs of it.
  const chunk = s.at(-1)!;
  if (p.at(-1) !== p.length - 1 || !swapsLastTwo(p.slice(0, -1)) || chunk % 4 !== 0) return undefined;
  const [rows, cols] = s.slice(-3, -1) as [number, number];
  return { loop: 'transposeChunks', batch: total / (rows * cols * chunk), rows, cols, chunk };
}

/**
 * `Transpose` of a batch of matrices (the permutation, collapsed, swaps the last two axes: a
 * matmul gradient's operand, the tied output layer's embedding) in 4 x 4 blocks of SIMD lane
 * shuffles (`transpose` in simd-loops-module.ts). tfjs's wasm kernel moves one element at a time
 * through a general index computation, 5-12 % of a training step here. Values are only moved,
 * so results are bit-identical. A permutation that keeps the last axis in place and swaps the two
 * before it (attention's split into heads and merge back, which tfjs also moves one element at a
 * time) moves runs of that axis instead (`transposeChunks`). Other permutations, and sides or
 * runs not a multiple of 4, go to the built-in kernel.
 */
export function registerTransposeWasm(): void {
  replaceWasmKernel('Transpose', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const { perm } = attrs as unknown as { perm: number[] };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    const plan = transposePlan(x.shape, perm);
    const loops = simdLoops(backend);
    if (plan === undefined || loops === undefined) return undefined;
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]!),
      x.dtype,
    );
    const [from, to] = [heapOffset(backend, x), heapOffset(backend, out)];
    if (plan.loop === 'transpose') loops.transpose(from, to, plan.batch, plan.rows, plan.cols);
    else loops.transposeChunks(from, to, plan.batch, plan.rows, plan.cols, 4 * plan.chunk);
    return out;
  });
}
