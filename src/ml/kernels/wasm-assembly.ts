/**
 * The few WebAssembly encodings the hand-assembled modules here need (simd-loops-module.ts,
 * elementwise-module.ts): LEB128 numbers, sections, and instructions as byte arrays, so a
 * function body reads as a list of instructions.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export const str = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Instruction helpers (the few this module needs). */
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const i32 = (v: number): number[] => [0x41, ...sleb(v)];
export const add = [0x6a];
export const mul = [0x6c];
export const and = [0x71];
export const geU = [0x4f];
export const shl = [0x74];
export const brIf = (depth: number): number[] => [0x0d, ...uleb(depth)];
export const br = (depth: number): number[] => [0x0c, ...uleb(depth)];
export const end = [0x0b];
/** `block { loop { ... } }`: inside, depth 1 leaves and depth 0 repeats. */
export const loop = (body: number[]): number[] => [0x02, 0x40, 0x03, 0x40, ...body, ...end, ...end];
export const f32Load = [0x2a, 0x02, 0x00];
export const f32Store = [0x38, 0x02, 0x00];
export const f32Add = [0x92];
export const f32Mul = [0x94];
export const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
export const v128Load = simd(0x00, 0x02, 0x00);
export const v128Store = simd(0x0b, 0x02, 0x00);
export const v128Zero = simd(0x0c, ...new Array<number>(16).fill(0));
export const f32x4Splat = simd(0x13);
export const lane = (l: number): number[] => simd(0x1f, l);
export const f32x4Add = simd(0xe4);
export const f32x4Mul = simd(0xe6);
/** Adds element `index` (a float32 count) to the address on the stack. */
export const plusElement = (index: number): number[] => [...get(index), ...i32(2), ...shl, ...add];
/** The address of element `index` (a float32 count) of the array at `base` (bytes). */
export const elementAt = (base: number, index: number): number[] => [...get(base), ...plusElement(index)];
/** `base + index * stride + ...` for pairs of locals [index, stride] (strides in bytes). */
export const addressOf = (base: number, ...terms: [index: number, stride: number][]): number[] => [
  ...get(base),
  ...terms.flatMap(([index, stride]) => [...get(index), ...get(stride), ...mul, ...add]),
];
/** `local += step`. */
export const bump = (local: number, step: number): number[] => [...get(local), ...i32(step), ...add, ...set(local)];
/** `if (local >= limit) leave the enclosing block`. */
export const exitIfDone = (local: number, limit: number[]): number[] => [...get(local), ...limit, ...geU, ...brIf(1)];
/**
 * `while (local < limit) { body; local += step }`, compared unsigned, from the value `local` holds
 * already (a scalar tail after a vectorised part).
 */
export const whileBelow = (local: number, limit: number[], step: number, body: number[]): number[] =>
  loop([...exitIfDone(local, limit), ...body, ...bump(local, step), ...br(0)]);
/** `for (local = 0; local < limit; local += step) body`, compared unsigned: every loop of our modules. */
export const forRange = (local: number, limit: number[], step: number, body: number[]): number[] => [
  ...i32(0),
  ...set(local),
  ...whileBelow(local, limit, step, body),
];
