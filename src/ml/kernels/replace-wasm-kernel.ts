import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from '../ops/fast-paths.ts';

/** The slice of the wasm backend's API that a kernel written in JavaScript needs. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
}

/**
 * What a faster kernel returns: its output, or `undefined` for an input it does not serve (the
 * built-in kernel then runs, so every replacement is partial by design).
 */
export type FastKernel = (args: {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap;
  backend: WasmHeapBackend;
}) => tf.TensorInfo | tf.TensorInfo[] | undefined;

const replaced = new Set<string>();

/**
 * Puts `fast` in front of the wasm backend's kernel `name`: the built-in one serves what `fast`
 * declines, everything while `setFastPaths(false)` (bench/profile.ts's baseline), and every
 * backend but wasm. Registered once per process, before the backend initialises.
 */
export function replaceWasmKernel(name: string, fast: FastKernel): void {
  if (replaced.has(name)) return;
  const original = tf.getKernel(name, 'wasm');
  if (original === undefined) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      if (fastPaths()) {
        const out = fast(args as unknown as Parameters<FastKernel>[0]);
        if (out !== undefined) return out;
      }
      return original.kernelFunc(args);
    },
  });
  replaced.add(name);
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Where a tensor's values start on the backend's heap, in bytes (for the SIMD loops). */
export const heapOffset = (backend: Pick<WasmHeapBackend, 'dataIdMap'>, t: tf.TensorInfo): number =>
  backend.dataIdMap.get(t.dataId).memoryOffset;
