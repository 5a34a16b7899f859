import type * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';

/**
 * `Tile` where it broadcasts (every repeated axis has size 1: what `broadcastTo` asks for, as
 * in the gradients of sums and means, gradients.ts), one output row at a time: a row is either
 * one value filled or one input row copied. tfjs's wasm kernel computes every element's source
 * on its own (tens of ms per training step). Values are only moved, so results are
 * bit-identical; other repetitions go to the built-in kernel.
 */
export function registerTileWasm(): void {
  replaceWasmKernel('Tile', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const { reps } = attrs as unknown as { reps: number[] };
    const rank = x.shape.length;
    if (rank === 0 || reps.length !== rank || (x.dtype !== 'float32' && x.dtype !== 'int32')) return undefined;
    if (reps.some((r, i) => r !== 1 && x.shape[i] !== 1)) return undefined;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const out = backend.makeOutput(outShape, x.dtype);
    const total = sizeOf(outShape);
    if (total === 0) return out;
    const from = backend.typedArrayFromHeap(x);
    const to = backend.typedArrayFromHeap(out);
    const width = outShape[rank - 1]!;
    const broadcastLast = x.shape[rank - 1] === 1 && width > 1;
    // Source strides of the outer axes, 0 along the broadcast ones.
    const strides = new Array<number>(rank).fill(0);
    for (let i = rank - 1, s = 1; i >= 0; s *= x.shape[i]!, i--) strides[i] = x.shape[i] === 1 ? 0 : s;
    const index = new Array<number>(rank - 1).fill(0);
    for (let at = 0; at < total; at += width) {
      let src = 0;
      for (let i = 0; i < rank - 1; i++) src += index[i]! * strides[i]!;
      if (broadcastLast) to.fill(from[src]!, at, at + width);
      else to.set(from.subarray(src, src + width), at);
      for (let i = rank - 2; i >= 0; i--) {
        if (++index[i]! < outShape[i]!) break;
        index[i] = 0;
      }
    }
    return out;
  });
}
