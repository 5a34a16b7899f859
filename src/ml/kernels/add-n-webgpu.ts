import * as tf from '@tensorflow/tfjs-core';

interface WebGpuDeviceBackend {
  device: GPUDevice;
  disposeData(dataId: object): boolean;
}

let registered = false;

/**
 * Makes `AddN` on the webgpu backend take any number of inputs. tfjs-backend-webgpu 4.22 binds
 * every input as a storage buffer of one shader, and a device allows only
 * `maxStorageBuffersPerShaderStage` of them (8 by default, 16 on lavapipe): with more inputs the
 * pipeline is invalid and the sum silently comes out as zeros. Clipping by global norm sums one
 * term per parameter tensor (dozens), so the sum is done here in rounds of as many inputs as fit.
 */
export function registerAddNWebGpu(): void {
  if (registered) return;
  const original = tf.getKernel('AddN', 'webgpu');
  if (original === undefined) throw new Error('the webgpu backend has no AddN kernel to wrap');
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const gpu = backend as unknown as WebGpuDeviceBackend;
      // One binding is the output.
      const fit = Math.max(2, gpu.device.limits.maxStorageBuffersPerShaderStage - 1);
      const run = (list: tf.TensorInfo[]): tf.TensorInfo =>
        original.kernelFunc({ inputs: list as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
      let parts = inputs as unknown as tf.TensorInfo[];
      const partial: tf.TensorInfo[] = [];
      while (parts.length > fit) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < parts.length; i += fit) next.push(run(parts.slice(i, i + fit)));
        partial.push(...next);
        parts = next;
      }
      const out = run(parts);
      for (const t of partial) gpu.disposeData(t.dataId);
      return out;
    },
  });
  registered = true;
}
