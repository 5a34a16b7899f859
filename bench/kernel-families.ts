/**
 * Kernel timings of a piece of tfjs work, summed per kernel family (matmul, batched matmul,
 * softmax / cross-entropy, layer norm, GELU, gather / scatter, transpose, optimizer update,
 * other). Each kernel of the backend is wrapped once with a clock around its call (the wasm
 * backend runs kernels synchronously, so that is the kernel's own time). `tf.profile` is not
 * used: it reads every kernel's output back to check it for NaN, which on wasm copied each
 * output and made a 0.13 s step take 2 s, inflating the kernels with large outputs most.
 *
 * A kernel's family comes from its name (matmuls, gathers, transposes), else from the named
 * scopes it runs in: the model's ops wrap their bodies in `tf.tidy('layerNorm', ...)` and the
 * like, and tfjs names each op's scope after the op (`softmax__op`). Backward kernels run
 * outside those scopes, so each tape node remembers the family its forward kernel had and its
 * gradient function runs under it (a patch of the engine's tape, for profiling only).
 */
import * as tf from '@tensorflow/tfjs-core';

export const FAMILIES = [
  'matmul',
  'batched matmul',
  'softmax / cross-entropy',
  'layer norm',
  'GELU',
  'gather / scatter',
  'transpose',
  'optimizer update',
  'other',
] as const;
export type Family = (typeof FAMILIES)[number];

interface ProfiledKernel {
  name: string;
  ms: number;
  family: Family;
}

interface EngineInternals {
  state: {
    scopeStack: { name: string }[];
    activeTape: { gradient?: (dys: tf.Tensor[]) => unknown }[] | null;
  };
  addTapeNode: (...args: unknown[]) => void;
}

const engine = (): EngineInternals => tf.engine() as unknown as EngineInternals;
/** Families of the gradient functions running now, innermost last. */
const backward: Family[] = [];
let forced: Family | undefined;
let patched = false;

function scopeFamily(): Family | undefined {
  const names = engine().state.scopeStack.map((s) => s.name);
  for (let i = names.length - 1; i >= 0; i--) {
    const n = names[i]!;
    if (n === 'layerNorm' || n === 'rmsNorm') return 'layer norm';
    if (n === 'gelu' || n === 'geluErf') return 'GELU';
    if (n === 'crossEntropy' || n === 'softmax__op' || n === 'logSoftmax__op') return 'softmax / cross-entropy';
  }
  return undefined;
}

function familyOf(name: string, inputShapes: number[][]): Family {
  if (forced !== undefined) return forced;
  if (name === 'BatchMatMul' || name === '_FusedMatMul') {
    const a = inputShapes[0] ?? [];
    const batch = a.slice(0, -2).reduce((x, y) => x * y, 1);
    return batch > 1 ? 'batched matmul' : 'matmul';
  }
  if (name === 'GatherV2' || name === 'GatherNd' || name === 'UnsortedSegmentSum' || name === 'ScatterNd')
    return 'gather / scatter';
  if (name === 'Transpose') return 'transpose';
  if (name === 'Softmax' || name === 'LogSoftmax') return 'softmax / cross-entropy';
  return backward.at(-1) ?? scopeFamily() ?? 'other';
}

function patchTape(): void {
  if (patched) return;
  patched = true;
  const e = engine();
  const add = e.addTapeNode.bind(e);
  e.addTapeNode = (...args: unknown[]) => {
    const family = backward.at(-1) ?? scopeFamily();
    add(...args);
    const node = e.state.activeTape?.at(-1);
    const gradient = node?.gradient;
    if (node === undefined || gradient === undefined || family === undefined) return;
    node.gradient = (dys) => {
      backward.push(family);
      try {
        return gradient(dys);
      } finally {
        backward.pop();
      }
    };
  };
}

/** The kernels recorded now, or undefined when nothing is being profiled. */
let recording: ProfiledKernel[] | undefined;
const timed = new Set<string>();

/** Wraps every kernel of the current backend with a clock (once per backend). */
function timeKernels(): void {
  const backend = tf.getBackend();
  if (timed.has(backend)) return;
  timed.add(backend);
  for (const kernel of tf.getKernelsForBackend(backend)) {
    const run = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, backend);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        if (recording === undefined) return run(args);
        const inputShapes = Object.values(args.inputs).map((t) => t?.shape ?? []);
        const family = familyOf(kernel.kernelName, inputShapes);
        const start = performance.now();
        const out = run(args);
        recording.push({ name: kernel.kernelName, ms: performance.now() - start, family });
        return out;
      },
    });
  }
}

/** Milliseconds per family of the kernels `work` runs (every kernel counted as `as`, if given). */
export async function profileFamilies<T>(
  work: () => T | Promise<T>,
  as?: Family,
): Promise<{ result: T; ms: Map<Family, number>; byKernel: Map<string, number> }> {
  patchTape();
  timeKernels();
  forced = as;
  const kernels: ProfiledKernel[] = [];
  recording = kernels;
  try {
    const result = await work();
    const ms = new Map<Family, number>();
    const byKernel = new Map<string, number>();
    for (const k of kernels) {
      ms.set(k.family, (ms.get(k.family) ?? 0) + k.ms);
      const key = `${k.family}: ${k.name}`;
      byKernel.set(key, (byKernel.get(key) ?? 0) + k.ms);
    }
    return { result, ms, byKernel };
  } finally {
    recording = undefined;
    forced = undefined;
  }
}

/** Sums family maps. */
export function addFamilies(...maps: Map<Family, number>[]): Map<Family, number> {
  const out = new Map<Family, number>();
  for (const m of maps) for (const [f, t] of m) out.set(f, (out.get(f) ?? 0) + t);
  return out;
}
