import type * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';

/**
 * `SplitV` (GPT-2's fused query/key/value projection cut in three) as block copies: each piece
 * takes, per index of the axes before the split axis, one contiguous run of its columns. tfjs's
 * wasm kernel slices element by element (2.3 ms for [1024, 192] here). Bit-identical: the
 * values are only moved.
 */
export function registerSplitWasm(): void {
  replaceWasmKernel('SplitV', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const { numOrSizeSplits, axis: rawAxis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    const rank = x.shape.length;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    const along = x.shape[axis];
    if (along === undefined) return undefined;
    let sizes: number[];
    if (typeof numOrSizeSplits === 'number') {
      if (along % numOrSizeSplits !== 0) return undefined;
      sizes = Array.from({ length: numOrSizeSplits }, () => along / numOrSizeSplits);
    } else {
      // A -1 (the rest) is resolved by the built-in kernel.
      if (numOrSizeSplits.some((s) => s < 0) || numOrSizeSplits.reduce((a, b) => a + b, 0) !== along) return undefined;
      sizes = numOrSizeSplits;
    }
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outs = sizes.map((s) =>
      backend.makeOutput(
        x.shape.map((d, i) => (i === axis ? s : d)),
        x.dtype,
      ),
    );
    const from = backend.typedArrayFromHeap(x);
    let offset = 0;
    for (let k = 0; k < sizes.length; k++) {
      const run = sizes[k]! * inner;
      const to = backend.typedArrayFromHeap(outs[k]!);
      for (let o = 0; o < outer; o++) {
        const start = o * along * inner + offset;
        to.set(from.subarray(start, start + run), o * run);
      }
      offset += run;
    }
    return outs;
  });
}
