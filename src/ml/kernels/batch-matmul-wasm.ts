import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';
import { simdLoops } from './simd-loops.ts';

/** Whether the SIMD loops load on the current backend (false: the built-in kernel serves every product). */
export function wasmBatchMatMulActive(): boolean {
  return simdLoops(tf.backend()) !== undefined;
}

/**
 * Puts in front of the wasm backend's `BatchMatMul` a kernel that sends what XNNPACK does not
 * serve (more than one matrix per side, or a transposed operand: attention's q k^T, weights v
 * and their gradients) to SIMD loops of our own (simd-loops-module.ts) instead of tfjs's scalar
 * loop, and leaves everything else (one plain 2-D product) to tfjs's own kernel as before.
 * Each output is the sum over the inner axis in ascending order (four partial sums for a
 * transposed right operand), so results agree with the built-in kernel to rounding.
 * Off with `setFastPaths(false)` (bench/profile.ts's baseline).
 */
export function registerBatchMatMulWasm(): void {
  replaceWasmKernel('BatchMatMul', ({ inputs, attrs, backend }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    const plain = batch === 1 && !transposeA && !transposeB;
    const sameBatch = batchA === batchB || batchA === 1 || batchB === 1;
    if (plain || !sameBatch || (transposeA && transposeB) || a.dtype !== 'float32') return undefined;
    // Where the engine lacks SIMD or a later tfjs keeps its memory elsewhere, the built-in
    // kernel serves every product, as before.
    const loops = simdLoops(backend);
    if (loops === undefined) return undefined;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if ((transposeB ? b.shape[rb - 1] : b.shape[rb - 2]) !== k)
      throw new Error(`matMul: inner sizes ${k} and ${transposeB ? b.shape[rb - 1] : b.shape[rb - 2]} differ`);
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(backend, t);
    const aBatch = batchA === 1 ? 0 : m * k * 4;
    const bBatch = batchB === 1 ? 0 : k * n * 4;
    if (transposeB) loops.nt(at(a), at(b), at(out), batch, m, k, n, aBatch, bBatch);
    else if (transposeA) loops.nn(at(a), at(b), at(out), batch, m, k, n, aBatch, 4, m * 4, bBatch);
    else loops.nn(at(a), at(b), at(out), batch, m, k, n, aBatch, k * 4, 4, bBatch);
    return out;
  });
}
