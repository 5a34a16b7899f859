import type * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel } from './replace-wasm-kernel.ts';

/**
 * `Identity` sharing its input's memory (a reference count more) instead of copying it. The
 * engine clones every tensor a gradient keeps (`saveTensorsForBackwardMode`), and the wasm
 * kernel copied each one: 50-70 copies of [1024, 64] per training step here. Tensors are
 * immutable and the wasm backend already shares memory this way for `Reshape`, as the cpu
 * backend does for `Identity`; values are the same bits either way.
 */
export function registerIdentityWasm(): void {
  replaceWasmKernel('Identity', ({ inputs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return undefined;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  });
}
