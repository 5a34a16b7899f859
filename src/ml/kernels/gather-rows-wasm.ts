import type * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel, sizeOf } from './replace-wasm-kernel.ts';

/**
 * `GatherV2` along the first axis (the embedding lookup) as one block copy per index: tfjs's
 * wasm kernel computes every element's source index on its own (4 ms for 1,024 rows of 64 here).
 * Out-of-range indices, batch dimensions and other axes go to the built-in kernel, which
 * decides what they mean. The same values are copied, so results are bit-identical.
 */
export function registerGatherRowsWasm(): void {
  replaceWasmKernel('GatherV2', ({ inputs, attrs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    const indices = inputs['indices'] as tf.TensorInfo;
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || indices.dtype !== 'int32') return undefined;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
    const rows = x.shape[0]!;
    const width = sizeOf(x.shape.slice(1));
    const count = sizeOf(indices.shape);
    const ids = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < rows)) return undefined;
    }
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views are taken after makeOutput: allocating may grow the heap and detach older views.
    const from = backend.typedArrayFromHeap(x);
    const to = backend.typedArrayFromHeap(out);
    const idsNow = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < count; i++) {
      const start = idsNow[i]! * width;
      to.set(from.subarray(start, start + width), i * width);
    }
    return out;
  });
}
