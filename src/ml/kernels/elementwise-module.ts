import {
  F32,
  I32,
  V128,
  add,
  f32x4Splat,
  get,
  section,
  set,
  simd,
  str,
  uleb,
  v128Load,
  v128Store,
  vec,
  end,
  forRange,
} from './wasm-assembly.ts';

/**
 * Float32 arithmetic as an elementwise formula sees it. One formula, written once against this,
 * runs two ways: `scalar` computes one element in JavaScript, `vectorCode` emits WebAssembly
 * SIMD that computes four at a time. Both round every result to float32 as it is made, so they
 * agree bit for bit, with each other and with tfjs's ops applied one by one.
 */
export interface Arithmetic<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  sqrt(a: T): T;
  min(a: T, b: T): T;
  max(a: T, b: T): T;
  /** A value used more than once: computed once. */
  keep(a: T): T;
}

/** A formula: the inputs' elements and the constants in, the outputs' elements out. */
export type Formula = <T>(ar: Arithmetic<T>, inputs: T[], constants: T[]) => T[];

const f = Math.fround;

/** One element at a time (the tails past a multiple of four, and where SIMD is missing). */
export const scalar: Arithmetic<number> = {
  add: (a, b) => f(a + b),
  sub: (a, b) => f(a - b),
  mul: (a, b) => f(a * b),
  div: (a, b) => f(a / b),
  sqrt: (a) => f(Math.sqrt(a)),
  // As wasm's f32x4.min/max for numbers; a NaN stays NaN.
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  keep: (a) => a,
};

const binary =
  (op: number) =>
  (a: number[], b: number[]): number[] => [...a, ...b, ...simd(op)];

/**
 * The bytes of a module (importing `env.memory`) exporting `run(bytes, in..., out..., c...)`:
 * for every byte offset below `bytes` in steps of 16, four elements of each input array in,
 * the formula, four of each output out. Pointers in bytes; constants as float32 parameters.
 */
export function elementwiseModuleBytes(
  formula: Formula,
  inputs: number,
  outputs: number,
  constants: number,
): Uint8Array<ArrayBuffer> {
  const params = 1 + inputs + outputs + constants;
  const offset = params; // i32 local
  const splatAt = (c: number): number => params + 1 + c; // v128 locals
  let kept = 0;
  const statements: number[][] = [];
  const keptAt = (k: number): number => params + 1 + constants + k;
  const code: Arithmetic<number[]> = {
    add: binary(0xe4),
    sub: binary(0xe5),
    mul: binary(0xe6),
    div: binary(0xe7),
    min: binary(0xe8),
    max: binary(0xe9),
    sqrt: (a) => [...a, ...simd(0xe3)],
    keep: (a) => {
      const local = keptAt(kept++);
      statements.push([...a, ...set(local)]);
      return get(local);
    },
  };
  const load = (pointer: number): number[] => [...get(pointer), ...get(offset), ...add, ...v128Load];
  const results = formula(
    code,
    Array.from({ length: inputs }, (_, k) => load(1 + k)),
    Array.from({ length: constants }, (_, c) => get(splatAt(c))),
  );
  if (results.length !== outputs) throw new Error(`formula gives ${results.length} outputs, ${outputs} declared`);
  const stores = results.map((r, o) => [...get(1 + inputs + o), ...get(offset), ...add, ...r, ...v128Store]);
  const body = [
    ...Array.from({ length: constants }, (_, c) => [
      ...get(1 + inputs + outputs + c),
      ...f32x4Splat,
      ...set(splatAt(c)),
    ]).flat(),
    ...forRange(offset, get(0), 16, [...statements.flat(), ...stores.flat()]),
  ];
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(constants + kept), V128],
  ]);
  const fn = [...locals, ...body, ...end];
  const type = [
    0x60,
    ...vec([...new Array<number[]>(1 + inputs + outputs).fill([I32]), ...new Array<number[]>(constants).fill([F32])]),
    0x00,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...str('run'), 0x00, 0x00]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}
