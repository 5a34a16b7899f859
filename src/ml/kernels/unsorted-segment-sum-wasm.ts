import * as tf from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './replace-wasm-kernel.ts';

let registered = false;

/**
 * Registers `UnsortedSegmentSum` for the wasm backend, which ships without it. The gradient of
 * `gather` (our embedding lookup) scatters rows back with this kernel, so without it training
 * fails on wasm. A plain JavaScript loop over the wasm heap is O(tokens x width), which is what
 * an embedding gradient costs anyway, and it beat a one-hot matmul in the measurements in notes.md.
 */
export function registerUnsortedSegmentSumWasm(): void {
  if (registered || tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined) {
    registered = true;
    return;
  }
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmHeapBackend;
      const x = inputs['x'] as tf.TensorInfo;
      const segmentIds = inputs['segmentIds'] as tf.TensorInfo;
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const outerDims = segmentIds.shape.length;
      const innerShape = x.shape.slice(outerDims);
      const inner = innerShape.reduce((a, b) => a * b, 1);
      const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
      const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
      // Views are taken after makeOutput: allocating may grow the heap and detach older views.
      const xs = wasm.typedArrayFromHeap(x);
      const ids = wasm.typedArrayFromHeap(segmentIds);
      const os = wasm.typedArrayFromHeap(out);
      os.fill(0);
      for (let r = 0; r < rows; r++) {
        const s = ids[r]!;
        // Out-of-range ids are dropped, as TensorFlow's kernel does.
        if (s < 0 || s >= numSegments) continue;
        const src = r * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) os[dst + j]! += xs[src + j]!;
      }
      return out;
    },
  });
  registered = true;
}
