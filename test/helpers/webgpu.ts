import type { TestContext } from 'node:test';
import { findAdapter } from '../../src/ml/webgpu-adapter.ts';

let probed: Promise<string | undefined> | undefined;

/**
 * Why the WebGPU tests cannot run here, or undefined when an adapter (hardware or lavapipe)
 * exists. CI installs lavapipe (scripts/install-vulkan.sh), so there they always run.
 */
export function webgpuMissing(): Promise<string | undefined> {
  probed ??= findAdapter().then(
    (found) =>
      found === undefined
        ? 'no WebGPU adapter: install a Vulkan driver (scripts/install-vulkan.sh installs lavapipe)'
        : undefined,
    (e: unknown) => `Dawn (npm webgpu) did not load: ${(e as Error).message}`,
  );
  return probed;
}

/** Skips the test, saying why, when no adapter exists; true when it was skipped. */
export async function skipWithoutWebGpu(t: TestContext): Promise<boolean> {
  const why = await webgpuMissing();
  if (why !== undefined) t.skip(why);
  return why !== undefined;
}
