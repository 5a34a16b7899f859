import { existsSync, readdirSync } from 'node:fs';

/** The GPU adapter a WebGPU run used, as recorded with the run (fields from GPUAdapterInfo). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  /** The driver's own words, e.g. `llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)` or an NVIDIA driver version. */
  description: string;
  /** True for a software rasteriser (lavapipe, SwiftShader, WARP) or an adapter that says it is a fallback. */
  software: boolean;
}

/** What a found adapter is, and the Dawn objects that have to stay together to use it. */
export interface FoundAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  description: AdapterDescription;
}

const SOFTWARE = /\b(cpu|software|llvmpipe|lavapipe|swiftshader|warp)\b/i;

/** Whether an adapter runs on the CPU: correct results, but no speed to gain over wasm. */
export function isSoftwareAdapter(
  info: Pick<AdapterDescription, 'vendor' | 'architecture' | 'device' | 'description'>,
  fallback: boolean,
): boolean {
  return fallback || [info.vendor, info.architecture, info.device, info.description].some((s) => SOFTWARE.test(s));
}

/**
 * Whether this machine can have a hardware GPU that Vulkan (Dawn's backend on Linux) can open:
 * a DRM render node (Mesa's drivers, AMD, Intel), NVIDIA's device files, or WSL's /dev/dxg.
 * Without one only a software adapter can exist, so the automatic choice does not load Dawn at
 * all and a machine without a GPU pays nothing for the probe. Other platforms (Metal, D3D12)
 * are always probed.
 */
export function mayHaveHardwareGpu(): boolean {
  if (process.platform !== 'linux') return true;
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri') : [];
  return (
    dri.some((n) => n.startsWith('renderD')) ||
    existsSync('/dev/nvidiactl') ||
    existsSync('/dev/nvidia0') ||
    existsSync('/dev/dxg')
  );
}

type Dawn = { create(options: string[]): GPU; globals: Record<string, unknown> };

let dawn: Dawn | undefined;

/**
 * Loads Dawn's Node bindings (npm `webgpu`) and makes its WebGPU classes (GPUBufferUsage, ...)
 * global, as @tensorflow/tfjs-backend-webgpu expects of a browser. Globals already defined are
 * left alone.
 */
async function loadDawn(): Promise<Dawn> {
  if (dawn !== undefined) return dawn;
  // XDG_RUNTIME_DIR unset makes Mesa's Vulkan drivers print a warning on every start.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const loaded = (await import('webgpu')) as unknown as Dawn;
  for (const [name, value] of Object.entries(loaded.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  dawn = loaded;
  return loaded;
}

/**
 * The adapter WebGPU would give a compute program here (high-performance preference, as
 * tfjs-backend-webgpu asks), or undefined when there is none. The Dawn instance it returns is
 * only referenced by the result: drop it (or call releaseWebGpu) and the process can exit.
 */
export async function findAdapter(): Promise<FoundAdapter | undefined> {
  const dawn = await loadDawn();
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) return undefined;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback = Boolean(
    info.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  const fields = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
  return { gpu, adapter, description: { ...fields, software: isSoftwareAdapter(fields, fallback) } };
}
