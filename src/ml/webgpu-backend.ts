import * as tf from '@tensorflow/tfjs-core';
import { registerAddNWebGpu } from './kernels/add-n-webgpu.ts';
import { registerUnsortedSegmentSumWebGpu } from './kernels/unsorted-segment-sum-webgpu.ts';
import type { AdapterDescription, FoundAdapter } from './webgpu-adapter.ts';

interface Active {
  found: FoundAdapter;
  device: GPUDevice;
}

let active: Active | undefined;

/** tfjs-backend-webgpu's MatMulProgramType.MatMulPackedProgram (not exported by the package). */
const MATMUL_PACKED_PROGRAM = 3;

function setNavigatorGpu(gpu: GPU | undefined): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (gpu === undefined) {
    if (g.navigator !== undefined && 'gpu' in g.navigator) delete g.navigator.gpu;
    return;
  }
  if (g.navigator === undefined)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true });
}

/**
 * Makes tfjs-backend-webgpu compute on `found`'s adapter. The backend is built here from that
 * adapter, rather than by the package's own factory (which asks navigator.gpu for an adapter
 * again), so the adapter recorded with a run is the one its kernels ran on; the device asks for
 * what the package's factory asks for (the adapter's limits on storage and workgroups).
 */
export async function activateWebGpu(found: FoundAdapter): Promise<AdapterDescription> {
  // The backend's constructor refuses to start without navigator.gpu (a browser's entry point);
  // Node 20 has no navigator, Node 21+ one without gpu.
  setNavigatorGpu(active?.found.gpu ?? found.gpu);
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  if (active === undefined) {
    const { adapter } = found;
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        // More inputs per kernel before AddN has to sum in rounds (registerAddNWebGpu).
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
    // An invalid pipeline or binding does not fail the call that caused it: Dawn reports it
    // later and the kernel's output stays zeros. Wrong numbers must never be stored, so such an
    // error ends the process (a stage then fails with this message).
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      process.nextTick(() => {
        throw new Error(
          `WebGPU error on ${found.description.description || found.description.device}: ${error.message.split('\n')[0]}`,
        );
      });
    });
    const backend = new webgpu.WebGPUBackend(device, adapter.info);
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => backend, 3);
    active = { found, device };
  }
  registerAddNWebGpu();
  registerUnsortedSegmentSumWebGpu();
  // Matrix products of a small output and a long inner dimension (weight gradients over a
  // batch) would otherwise take the split-K program, which sums its partial products with
  // atomic adds in whatever order threads finish. The tiled program sums in a fixed order.
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', MATMUL_PACKED_PROGRAM);
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
  await tf.ready();
  return active.found.description;
}

/** The adapter of the active webgpu backend, if one was activated in this process. */
export function activeAdapter(): AdapterDescription | undefined {
  return active?.found.description;
}

/**
 * Frees the webgpu backend, its device and the Dawn instance. While they are referenced Node
 * does not exit on its own, so a process that used the GPU calls this when it is done with
 * tensors (a stage process exits explicitly, but tests and the bench end by running out of work).
 */
export function releaseWebGpu(): void {
  if (active === undefined) return;
  const { device } = active;
  active = undefined;
  if (tf.findBackend('webgpu') !== null) tf.removeBackend('webgpu');
  device.destroy();
  setNavigatorGpu(undefined);
}
