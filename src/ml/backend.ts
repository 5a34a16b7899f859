import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients.ts';
import { registerBatchMatMulWasm } from './kernels/batch-matmul-wasm.ts';
import { registerGatherRowsWasm } from './kernels/gather-rows-wasm.ts';
import { registerIdentityWasm } from './kernels/identity-wasm.ts';
import { registerSplitWasm } from './kernels/split-wasm.ts';
import { registerSumLeadingAxesWasm } from './kernels/sum-leading-axes-wasm.ts';
import { registerTileWasm } from './kernels/tile-wasm.ts';
import { registerTransposeWasm } from './kernels/transpose-wasm.ts';
import { registerOptimizerStepsWasm } from './kernels/optimizer-steps-wasm.ts';
import { registerUnsortedSegmentSumWasm } from './kernels/unsorted-segment-sum-wasm.ts';
import { type AdapterDescription, findAdapter, mayHaveHardwareGpu } from './webgpu-adapter.ts';
import { withoutNewErrorHandlers } from './without-new-error-handlers.ts';

/** Which TensorFlow.js backend ran, recorded as provenance: results are only comparable within one. */
export interface BackendChoice {
  /** One of `tfjs-node-gpu`, `webgpu`, `tfjs-node`, `wasm`, `cpu`. */
  name: string;
  /** Version of the package that provides the backend. */
  version: string;
  /** tf.getBackend() after selection (tfjs-node and tfjs-node-gpu both call theirs `tensorflow`). */
  tfBackend: string;
  /** Backend settings that affect speed or numerics (wasm: SIMD, threads). */
  details?: Record<string, boolean | number | string>;
  /** webgpu: the adapter its kernels run on. */
  adapter?: AdapterDescription;
  /** Candidates tried before this one and why each was passed over. */
  skipped: { name: string; reason: string }[];
}

export const BACKEND_ORDER = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;

/** Backends whose kernels run on a GPU (floats not bit-identical to the CPU backends'). */
export const GPU_BACKENDS: readonly string[] = ['tfjs-node-gpu', 'webgpu'];

const require = createRequire(import.meta.url);

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Wasm errors can carry the whole minified module in their message: keep the first line, short. */
function summarise(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const first = text.split('\n')[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

let wasmPathsSet = false;

async function activate(name: string, forced: boolean): Promise<Omit<BackendChoice, 'name' | 'skipped'>> {
  switch (name) {
    case 'webgpu': {
      // Chosen on its own only for a hardware adapter: a software one (lavapipe) is correct but
      // slower than wasm. Without a GPU device file Dawn is not even loaded (mayHaveHardwareGpu).
      if (!forced && !mayHaveHardwareGpu())
        throw new Error('no GPU device here (no /dev/dri render node, /dev/nvidia*, /dev/dxg)');
      const found = await findAdapter();
      if (found === undefined)
        throw new Error('no WebGPU adapter (a GPU driver with Vulkan, Metal or D3D12 is needed; README "GPU")');
      const d = found.description;
      if (!forced && d.software)
        throw new Error(
          `only a software adapter (${d.description || d.device}): slower than wasm; PIPELINE_BACKEND=webgpu uses it`,
        );
      const { activateWebGpu } = await import('./webgpu-backend.ts');
      const adapter = await activateWebGpu(found);
      return { tfBackend: 'webgpu', version: packageVersion('@tensorflow/tfjs-backend-webgpu'), adapter };
    }
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      // Optional dependencies that only install where libtensorflow can be downloaded, so they
      // are imported by a computed name: the type checker and bundlers must not require them.
      const pkg = `@tensorflow/${name}`;
      await import(pkg);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
      await tf.ready();
      return { tfBackend: 'tensorflow', version: packageVersion(pkg) };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // The .wasm binaries ship next to the package's main file; pointing there means nothing
        // is fetched, which matters on machines without network.
        const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
        wasm.setWasmPaths(dist + path.sep);
        // Threads do not work in Node (tfjs issue #3830); one thread per process, and the
        // pipeline uses the other cores by running stages in parallel.
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        wasm.setThreadsCount(1);
        wasmPathsSet = true;
      }
      registerUnsortedSegmentSumWasm();
      registerBatchMatMulWasm();
      registerIdentityWasm();
      registerGatherRowsWasm();
      registerSplitWasm();
      registerSumLeadingAxesWasm();
      registerTransposeWasm();
      registerTileWasm();
      registerOptimizerStepsWasm();
      await withoutNewErrorHandlers(async () => {
        if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
        await tf.ready();
      });
      const details = {
        simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
        threads: wasm.getThreadsCount(),
      };
      return { tfBackend: 'wasm', version: wasm.version_wasm, details };
    }
    case 'cpu': {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      await tf.ready();
      return { tfBackend: 'cpu', version: packageVersion('@tensorflow/tfjs-backend-cpu') };
    }
    default:
      throw new Error(`unknown backend "${name}" (known: ${BACKEND_ORDER.join(', ')})`);
  }
}

/**
 * Selects the fastest TensorFlow.js backend that loads here: native GPU, WebGPU on a hardware
 * adapter, native CPU, then wasm (SIMD, one thread: about 35x the pure-JS backend), then the
 * pure-JS cpu backend as a last resort. Each failure is caught and recorded so the choice can be
 * explained in the run's provenance. A list of one backend forces it: webgpu then takes a
 * software adapter too (how the tests run it on lavapipe).
 */
export async function chooseBackend(preferred: readonly string[] = BACKEND_ORDER): Promise<BackendChoice> {
  const skipped: { name: string; reason: string }[] = [];
  for (const name of preferred) {
    try {
      const active = await activate(name, preferred.length === 1);
      await registerGradients();
      return { name, ...active, skipped };
    } catch (error) {
      skipped.push({ name, reason: summarise(error) });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
