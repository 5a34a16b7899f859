import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';
import { GEMM_BLOCK } from './simd-loops-module.ts';
import { simdLoops } from './simd-loops.ts';

/** Whether the SIMD loops load on the current backend (false: the built-in kernel serves every product). */
export function wasmBatchMatMulActive(): boolean {
  return simdLoops(tf.backend()) !== undefined;
}

/** Rows of b per `gemm` call: 256 rows of 16 columns (16 KiB) stay in the first-level cache. */
const INNER_CHUNK = 256;

/**
 * Puts in front of the wasm backend's `BatchMatMul` SIMD loops of our own (simd-loops-module.ts):
 * `gemm` for every product without a transposed right side whose columns come in fours,
 * `nn` / `nt` for the rest of what XNNPACK does not serve (more than one matrix per side, or a transposed operand:
 * attention's q k^T, weights v and their gradients), instead of tfjs's scalar loop.
 *
 * tfjs hands a plain product to XNNPACK, which packs the right side first and keeps the packed
 * copy for the next product with the same tensor; in training the right side is new at every
 * product (a gradient, or a weight the last update replaced), and packing it cost as much as
 * the product (bench/matmul.ts). `gemm` reads b where it lies. Each output is the sum over the
 * inner axis in ascending order from zero, as XNNPACK sums (four partial sums for a transposed
 * right operand in `nt`): plain products are bit-identical to XNNPACK's, the others agree with
 * the built-in kernel to rounding. Off with `setFastPaths(false)` (bench/profile.ts's baseline).
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
    if (!sameBatch || (transposeA && transposeB) || a.dtype !== 'float32') return undefined;
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
    const aBatch = batchA === 1 ? 0 : m * k * 4;
    const bBatch = batchB === 1 ? 0 : k * n * 4;
    // gemm takes the columns in blocks of 16, then of 4; a right side with a column count not a
    // multiple of 4 (a classifier's head), fewer rows than a block or an empty inner axis go
    // elsewhere, a plain product to XNNPACK.
    const gemmServes = !transposeB && n % GEMM_BLOCK.tailColumns === 0 && m >= GEMM_BLOCK.rows && k > 0;
    if (plain && !gemmServes) return undefined;
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const at = (t: tf.TensorInfo): number => heapOffset(backend, t);
    // a(i, p) lies at a + aRow*i + aCol*p.
    const [aRow, aCol] = transposeA ? [4, 4 * m] : [4 * k, 4];
    if (gemmServes) {
      const blockRows = m - (m % GEMM_BLOCK.rows);
      const wide = n - (n % GEMM_BLOCK.columns);
      for (let s = 0; s < batch; s++) {
        const [as, bs, cs] = [at(a) + s * aBatch, at(b) + s * bBatch, at(out) + 4 * s * m * n];
        for (let p = 0; p < k; p += INNER_CHUNK) {
          const [ap, bp, kp, acc] = [as + p * aCol, bs + 4 * p * n, Math.min(INNER_CHUNK, k - p), p === 0 ? 0 : 1];
          if (wide > 0) loops.gemm(ap, bp, cs, blockRows, kp, wide, aRow, aCol, acc, 4 * n);
          if (wide < n) loops.gemm4(ap, bp + 4 * wide, cs + 4 * wide, blockRows, kp, n - wide, aRow, aCol, acc, 4 * n);
        }
        if (blockRows < m)
          loops.nn(as + blockRows * aRow, bs, cs + 4 * blockRows * n, 1, m - blockRows, k, n, 0, aRow, aCol, 0);
      }
      return out;
    }
    if (transposeB) loops.nt(at(a), at(b), at(out), batch, m, k, n, aBatch, bBatch);
    else loops.nn(at(a), at(b), at(out), batch, m, k, n, aBatch, aRow, aCol, bBatch);
    return out;
  });
}
