/*
 * Our wasm modules import the wasm backend's own memory, so they read and write tensors where
 * tfjs keeps them, without a copy. Each module is compiled once and instantiated once per memory
 * (a new backend, as the tests make, has a new one).
 */

const modules = new Map<object, WebAssembly.Module | null>();
const instances = new WeakMap<WebAssembly.Memory, Map<object, WebAssembly.Exports | null>>();

function compiled(key: object, bytes: () => Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  let module = modules.get(key);
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(bytes());
    } catch {
      // An engine without SIMD refuses the module; the callers then leave the work to tfjs.
      module = null;
    }
    modules.set(key, module);
  }
  return module;
}

/**
 * The exports of the module that `bytes` builds (one module per `key`), instantiated on the wasm
 * backend's memory; undefined where the backend keeps its heap elsewhere or the engine cannot
 * compile or link the module.
 */
export function instantiateOnBackend(
  key: object,
  bytes: () => Uint8Array<ArrayBuffer>,
  backend: unknown,
): WebAssembly.Exports | undefined {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } } | undefined)?.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  let perMemory = instances.get(memory);
  if (perMemory === undefined) instances.set(memory, (perMemory = new Map()));
  let exports = perMemory.get(key);
  if (exports === undefined) {
    const module = compiled(key, bytes);
    try {
      exports = module === null ? null : new WebAssembly.Instance(module, { env: { memory } }).exports;
    } catch {
      exports = null;
    }
    perMemory.set(key, exports);
  }
  return exports ?? undefined;
}
