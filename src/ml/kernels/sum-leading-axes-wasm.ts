import type * as tf from '@tensorflow/tfjs-core';
import { heapOffset, replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';
import { simdLoops } from './simd-loops.ts';

/**
 * `Sum` over the leading axes of a float32 tensor (every bias and layer-norm gradient: a sum
 * over the batch's rows), four columns at a time down the rows (`colsum` in
 * simd-loops-module.ts). tfjs's wasm kernel first transposes the whole input so that the summed
 * axes are innermost, then sums each row (1.5-2 ms for [1024, 256] here). Both add each output's
 * terms in ascending row order in float32 without fused multiply-adds, so results are
 * bit-identical (test/ml-fast-kernels.test.ts).
 */
export function registerSumLeadingAxesWasm(): void {
  replaceWasmKernel('Sum', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return undefined;
    const rank = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
    // Only 0..k-1, in that order (the built-in kernel sums the axes in the order given), with
    // something left over; the innermost case is the built-in kernel's fast one.
    if (axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return undefined;
    const rows = sizeOf(x.shape.slice(0, axes.length));
    const cols = sizeOf(x.shape.slice(axes.length));
    const loops = simdLoops(backend);
    if (loops === undefined || cols % 4 !== 0 || rows === 0) return undefined;
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, 'float32');
    loops.colsum(heapOffset(backend, x), heapOffset(backend, out), rows, cols);
    return out;
  });
}
