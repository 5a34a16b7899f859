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

/**
 * `Transpose` of a batch of matrices (the permutation, collapsed, swaps the last two axes: a
 * matmul gradient's operand, the tied output layer's embedding) in 4 x 4 blocks of SIMD lane
 * shuffles (`transpose` in simd-loops-module.ts). tfjs's wasm kernel moves one element at a time
 * through a general index computation, 5-12 % of a training step here. Values are only moved,
 * so results are bit-identical; other permutations, and sides not a multiple of 4, go to the
 * built-in kernel.
 */
export function registerTransposeWasm(): void {
  replaceWasmKernel('Transpose', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const { perm } = attrs as unknown as { perm: number[] };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    const { shape, perm: p } = collapsePermutation(x.shape, perm);
    const r = p.length;
    if (r < 2 || r > 3 || p[r - 1] !== r - 2 || p[r - 2] !== r - 1 || (r === 3 && p[0] !== 0)) return undefined;
    const rows = shape[r - 2]!;
    const cols = shape[r - 1]!;
    const loops = simdLoops(backend);
    if (loops === undefined || rows % 4 !== 0 || cols % 4 !== 0) return undefined;
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]!),
      x.dtype,
    );
    loops.transpose(heapOffset(backend, x), heapOffset(backend, out), sizeOf(x.shape) / (rows * cols), rows, cols);
    return out;
  });
}
