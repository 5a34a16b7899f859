import { simdLoopsModuleBytes } from './simd-loops-module.ts';
import { instantiateOnBackend } from './wasm-instances.ts';

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
  transposeChunks: (x: number, out: number, batch: number, rows: number, cols: number, chunkBytes: number) => void;
  gemm: Gemm;
  gemm4: Gemm;
}

/**
 * The SIMD loops instantiated on the wasm backend's memory; `undefined` where the engine cannot
 * compile them (no SIMD) or the backend keeps its heap elsewhere, and the kernels that use them
 * then leave every input to tfjs's own.
 */
export function simdLoops(backend: unknown): SimdLoops | undefined {
  return instantiateOnBackend(simdLoopsModuleBytes, simdLoopsModuleBytes, backend) as SimdLoops | undefined;
}
