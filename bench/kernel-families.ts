/**
 * Kernel timings of a piece of tfjs work, summed per kernel family (matmul, batched matmul,
 * softmax / cross-entropy, layer norm, GELU, gather / scatter, transpose, optimizer update,
 * other), from `tf.profile`'s per-kernel `kernelMs` (wall time of each kernel call; the wasm
 * backend runs kernels synchronously, so that is the kernel's own time).
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
  kernelTimeMs: number | { error: string } | Promise<number | { error: string }>;
  inputShapes: (number[] | null)[];
  family?: Family;
}

interface EngineInternals {
  state: {
    scopeStack: { name: string }[];
    activeTape: { gradient?: (dys: tf.Tensor[]) => unknown }[] | null;
    activeProfile: { kernels: ProfiledKernel[] };
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

function familyOf(kernel: ProfiledKernel): Family {
  if (forced !== undefined) return forced;
  const { name } = kernel;
  if (name === 'BatchMatMul' || name === '_FusedMatMul') {
    const a = kernel.inputShapes[0] ?? [];
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

/** Milliseconds per family of the kernels `work` runs (every kernel counted as `as`, if given). */
export async function profileFamilies<T>(
  work: () => T | Promise<T>,
  as?: Family,
): Promise<{ result: T; ms: Map<Family, number>; byKernel: Map<string, number> }> {
  patchTape();
  const registered = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;
  forced = as;
  let result!: T;
  try {
    const info = await tf.profile(async () => {
      // Tag each kernel as the engine records it, while the scopes it ran in are still open.
      const kernels: ProfiledKernel[] = [];
      kernels.push = (...items: ProfiledKernel[]): number => {
        for (const k of items) k.family = familyOf(k);
        return Array.prototype.push.apply(kernels, items);
      };
      engine().state.activeProfile.kernels = kernels;
      result = await work();
      return [];
    });
    const ms = new Map<Family, number>();
    const byKernel = new Map<string, number>();
    for (const k of info.kernels as unknown as ProfiledKernel[]) {
      // customGrad's forward appears as a scope wrapping its kernels: count the kernels only.
      if (!registered(k.name)) continue;
      const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      ms.set(k.family!, (ms.get(k.family!) ?? 0) + t);
      const key = `${k.family}: ${k.name}`;
      byKernel.set(key, (byKernel.get(key) ?? 0) + t);
    }
    return { result, ms, byKernel };
  } finally {
    forced = undefined;
  }
}

/** Sums family maps. */
export function addFamilies(...maps: Map<Family, number>[]): Map<Family, number> {
  const out = new Map<Family, number>();
  for (const m of maps) for (const [f, t] of m) out.set(f, (out.get(f) ?? 0) + t);
  return out;
}
