import { simdLoopsModuleBytes } from './simd-loops-module.ts';

type Gemm = (
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  cols: number,
  aRow: number,
  aCol: number,
  accumulate: number,
  rowBytes: number,
) => void;

/** The exports of simd-loops-module.ts; pointers and strides in bytes. */
export interface SimdLoops {
  nn: (...args: number[]) => void;
  nt: (...args: number[]) => void;
  colsum: (x: number, out: number, rows: number, cols: number) => void;
  transpose: (x: number, out: number, batch: number, rows: number, cols: number) => void;
  gemm: Gemm;
  gemm4: Gemm;
}

const instances = new WeakMap<WebAssembly.Memory, SimdLoops | null>();

/**
 * The SIMD loops instantiated on the wasm backend's memory, once per memory; `undefined` where
 * the engine cannot compile them (no SIMD) or the backend keeps its heap elsewhere, and the
 * kernels that use them then leave every input to tfjs's own.
 */
export function simdLoops(backend: unknown): SimdLoops | undefined {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } } | undefined)?.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  let loops = instances.get(memory);
  if (loops === undefined) {
    try {
      const module = new WebAssembly.Module(simdLoopsModuleBytes());
      loops = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdLoops;
    } catch {
      loops = null;
    }
    instances.set(memory, loops);
  }
  return loops ?? undefined;
}
