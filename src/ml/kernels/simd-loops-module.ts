/**
 * A tiny WebAssembly module (SIMD, no threads) with float32 matmul loops, a column sum and a
 * transpose that work in place on the tfjs wasm backend's heap: the module imports that
 * backend's memory, so tensors are read and written where they lie. Assembled here byte by
 * byte: a handful of short functions do not justify a compiler toolchain, and the bytes stay
 * reviewable next to what they encode.
 *
 * - `gemm` and `gemm4` (at `gemmBody` below): c = a b in register blocks of 2 x 16 and 2 x 4
 *   outputs, for b with rows of contiguous columns; the product tfjs's matMul mostly runs.
 * - `nn(a, b, c, batch, m, k, n, aBatch, aRow, aCol, bBatch)`: c[i, :] = sum over p of
 *   a(i, p) * b[p, :], with a(i, p) at `a + aBatch*batch + aRow*i + aCol*p` (so a plain or a
 *   transposed `a`), b `[k, n]` contiguous per batch, c `[batch, m, n]` contiguous. Sixteen
 *   columns at a time in registers, then four, then one; p ascending, so each output is the
 *   straightforward sum.
 * - `nt(a, b, c, batch, m, k, n, aBatch, bBatch)`: c[i, j] = dot(a[i, :], b[j, :]) for `a`
 *   `[m, k]` and `b` `[n, k]` contiguous rows (a times b transposed): four lanes of partial sums
 *   over p, then added lane by lane.
 *
 * - `colsum(x, out, rows, cols)`: out[j] = sum over r of x[r, j] for `x` `[rows, cols]`
 *   contiguous, `cols` a multiple of 4: four columns per instruction, rows in ascending order,
 *   so each output is the sequential float32 sum.
 * - `transpose(x, out, batch, rows, cols)`: out[b, j, i] = x[b, i, j], rows and cols multiples
 *   of 4, in 4 x 4 blocks of lane shuffles (values are moved, never computed).
 * - `transposeChunks(x, out, batch, rows, cols, chunkBytes)`: the same for matrices whose
 *   elements are runs of `chunkBytes` (a multiple of 16), moved 16 bytes at a time: attention's
 *   split into heads and merge back, [batch, tokens, heads, width] to [batch, heads, tokens, width].
 *
 * Pointers and strides are in bytes. Multiplies and adds are separate instructions (no fused
 * multiply-add), so results are the same on every machine.
 */

import {
  I32,
  F32,
  V128,
  uleb,
  str,
  vec,
  section,
  get,
  set,
  i32,
  add,
  mul,
  and,
  shl,
  end,
  f32Load,
  f32Store,
  f32Add,
  f32Mul,
  simd,
  v128Load,
  v128Store,
  v128Zero,
  f32x4Splat,
  lane,
  f32x4Add,
  f32x4Mul,
  plusElement,
  elementAt,
  addressOf,
  bump,
  forRange,
  whileBelow,
} from './wasm-assembly.ts';

function nnBody(): number[] {
  // Params 0..10: a b c batch m k n aBatch aRow aCol bBatch. Locals:
  const [bi, i, p, j, cRow, bRow, n4, rowBytes, aAt] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
  const av = 20; // v128
  const as = 21; // f32
  const [n16, j0, bp] = [22, 23, 24]; // i32
  const accs = [25, 26, 27, 28]; // v128
  // Columns [0, n16) in blocks of 16 whose sums stay in four registers over the whole inner
  // axis (one store per block instead of a load and a store per step); the rest as before.
  const blocks = [
    ...forRange(j0, get(n16), 16, [
      ...accs.flatMap((acc) => [...v128Zero, ...set(acc)]),
      // aAt = a + bi*aBatch + i*aRow; bp = b + bi*bBatch + j0*4
      ...addressOf(0, [bi, 7], [i, 8]),
      ...set(aAt),
      ...addressOf(1, [bi, 10]),
      ...plusElement(j0),
      ...set(bp),
      ...forRange(p, get(5), 1, [
        ...get(aAt),
        ...f32Load,
        ...f32x4Splat,
        ...set(av),
        ...accs.flatMap((acc, q) => [
          ...get(acc),
          ...get(av),
          ...get(bp),
          ...simd(0x00, 0x02, ...uleb(16 * q)),
          ...f32x4Mul,
          ...f32x4Add,
          ...set(acc),
        ]),
        ...get(aAt),
        ...get(9),
        ...add,
        ...set(aAt),
        ...get(bp),
        ...get(rowBytes),
        ...add,
        ...set(bp),
      ]),
      ...accs.flatMap((acc, q) => [...elementAt(cRow, j0), ...get(acc), ...simd(0x0b, 0x02, ...uleb(16 * q))]),
    ]),
  ];
  const code = [
    ...get(6),
    ...i32(-16),
    ...and,
    ...set(n16),
    ...get(6),
    ...i32(-4),
    ...and,
    ...set(n4),
    ...get(6),
    ...i32(2),
    ...shl,
    ...set(rowBytes),
    ...forRange(bi, get(3), 1, [
      ...forRange(i, get(4), 1, [
        // cRow = c + (bi*m + i) * rowBytes
        ...get(2),
        ...get(bi),
        ...get(4),
        ...mul,
        ...get(i),
        ...add,
        ...get(rowBytes),
        ...mul,
        ...add,
        ...set(cRow),
        ...blocks,
        ...get(n16),
        ...set(j),
        ...whileBelow(j, get(6), 1, [...elementAt(cRow, j), ...[0x43, 0, 0, 0, 0], ...f32Store]),
        ...forRange(p, get(5), 1, [
          // a(i, p) = a + bi*aBatch + i*aRow + p*aCol
          ...addressOf(0, [bi, 7], [i, 8], [p, 9]),
          ...set(aAt),
          ...get(aAt),
          ...f32Load,
          ...set(as),
          ...get(as),
          ...f32x4Splat,
          ...set(av),
          // bRow = b + bi*bBatch + p*rowBytes
          ...addressOf(1, [bi, 10], [p, rowBytes]),
          ...set(bRow),
          ...get(n16),
          ...set(j),
          ...whileBelow(j, get(n4), 4, [
            ...elementAt(cRow, j),
            ...elementAt(cRow, j),
            ...v128Load,
            ...get(av),
            ...elementAt(bRow, j),
            ...v128Load,
            ...f32x4Mul,
            ...f32x4Add,
            ...v128Store,
          ]),
          ...whileBelow(j, get(6), 1, [
            ...elementAt(cRow, j),
            ...elementAt(cRow, j),
            ...f32Load,
            ...get(as),
            ...elementAt(bRow, j),
            ...f32Load,
            ...f32Mul,
            ...f32Add,
            ...f32Store,
          ]),
        ]),
      ]),
    ]),
  ];
  const locals = vec([
    [...uleb(9), I32],
    [...uleb(1), V128],
    [...uleb(1), F32],
    [...uleb(3), I32],
    [...uleb(4), V128],
  ]);
  return [...locals, ...code, ...end];
}

function ntBody(): number[] {
  // Params 0..8: a b c batch m k n aBatch bBatch. Locals:
  const [bi, i, j, p, aRow, bRow, k4, cAt, rowBytes] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const acc = 18; // v128
  const s = 19; // f32
  const code = [
    ...get(5),
    ...i32(-4),
    ...and,
    ...set(k4),
    ...get(5),
    ...i32(2),
    ...shl,
    ...set(rowBytes),
    ...get(2),
    ...set(cAt),
    ...forRange(bi, get(3), 1, [
      ...forRange(i, get(4), 1, [
        ...addressOf(0, [bi, 7], [i, rowBytes]),
        ...set(aRow),
        ...forRange(j, get(6), 1, [
          ...addressOf(1, [bi, 8], [j, rowBytes]),
          ...set(bRow),
          ...v128Zero,
          ...set(acc),
          ...forRange(p, get(k4), 4, [
            ...get(acc),
            ...elementAt(aRow, p),
            ...v128Load,
            ...elementAt(bRow, p),
            ...v128Load,
            ...f32x4Mul,
            ...f32x4Add,
            ...set(acc),
          ]),
          ...get(acc),
          ...lane(0),
          ...get(acc),
          ...lane(1),
          ...f32Add,
          ...get(acc),
          ...lane(2),
          ...f32Add,
          ...get(acc),
          ...lane(3),
          ...f32Add,
          ...set(s),
          ...whileBelow(p, get(5), 1, [
            ...get(s),
            ...elementAt(aRow, p),
            ...f32Load,
            ...elementAt(bRow, p),
            ...f32Load,
            ...f32Mul,
            ...f32Add,
            ...set(s),
          ]),
          ...get(cAt),
          ...get(s),
          ...f32Store,
          ...bump(cAt, 4),
        ]),
      ]),
    ]),
  ];
  const locals = vec([
    [...uleb(9), I32],
    [...uleb(1), V128],
    [...uleb(1), F32],
  ]);
  return [...locals, ...code, ...end];
}

function colsumBody(): number[] {
  // Params 0..3: x out rows cols (cols a multiple of 4). Locals:
  const [r, j, rowBytes, row] = [4, 5, 6, 7];
  const code = [
    ...get(3),
    ...i32(2),
    ...shl,
    ...set(rowBytes),
    ...forRange(j, get(rowBytes), 16, [...get(1), ...get(j), ...add, ...v128Zero, ...v128Store]),
    ...get(0),
    ...set(row),
    ...forRange(r, get(2), 1, [
      ...forRange(j, get(rowBytes), 16, [
        ...get(1),
        ...get(j),
        ...add,
        ...get(1),
        ...get(j),
        ...add,
        ...v128Load,
        ...get(row),
        ...get(j),
        ...add,
        ...v128Load,
        ...f32x4Add,
        ...v128Store,
      ]),
      ...get(row),
      ...get(rowBytes),
      ...add,
      ...set(row),
    ]),
  ];
  return [...vec([[...uleb(4), I32]]), ...code, ...end];
}

/** `i8x16.shuffle` of two vectors by 32-bit lanes (0-3 the first vector's, 4-7 the second's). */
const shuffle32 = (lanes: number[]): number[] =>
  simd(0x0d, ...lanes.flatMap((l) => [0, 1, 2, 3].map((b) => 4 * l + b)));

function transposeBody(): number[] {
  // Params 0..4: x out batch rows cols (rows and cols multiples of 4). Locals:
  const [bi, i, j, src, dst, inRow, outRow, size] = [5, 6, 7, 8, 9, 10, 11, 12];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = [13, 14, 15, 16, 17, 18, 19, 20]; // v128
  const rowsOf = (base: number, stride: number): number[][] =>
    [0, 1, 2, 3].map((q) => [...get(base), ...(q === 0 ? [] : [...get(stride), ...i32(q), ...mul, ...add])]);
  const code = [
    ...get(4),
    ...i32(2),
    ...shl,
    ...set(inRow),
    ...get(3),
    ...i32(2),
    ...shl,
    ...set(outRow),
    ...get(3),
    ...get(4),
    ...mul,
    ...i32(2),
    ...shl,
    ...set(size),
    ...forRange(bi, get(2), 1, [
      ...forRange(i, get(3), 4, [
        ...forRange(j, get(4), 4, [
          // src = x + bi*size + i*inRow + j*4; dst = out + bi*size + j*outRow + i*4
          ...addressOf(0, [bi, size], [i, inRow]),
          ...plusElement(j),
          ...set(src),
          ...addressOf(1, [bi, size], [j, outRow]),
          ...plusElement(i),
          ...set(dst),
          ...rowsOf(src, inRow).flatMap((at, q) => [...at, ...v128Load, ...set([r0, r1, r2, r3][q]!)]),
          // Rows a, b, c, d to columns: interleave pairs, then pairs of pairs.
          ...[...get(r0), ...get(r1), ...shuffle32([0, 4, 1, 5]), ...set(t0)],
          ...[...get(r0), ...get(r1), ...shuffle32([2, 6, 3, 7]), ...set(t1)],
          ...[...get(r2), ...get(r3), ...shuffle32([0, 4, 1, 5]), ...set(t2)],
          ...[...get(r2), ...get(r3), ...shuffle32([2, 6, 3, 7]), ...set(t3)],
          ...rowsOf(dst, outRow).flatMap((at, q) => [
            ...at,
            ...get(q < 2 ? t0 : t1),
            ...get(q < 2 ? t2 : t3),
            ...shuffle32(q % 2 === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7]),
            ...v128Store,
          ]),
        ]),
      ]),
    ]),
  ];
  return [
    ...vec([
      [...uleb(8), I32],
      [...uleb(8), V128],
    ]),
    ...code,
    ...end,
  ];
}

function transposeChunksBody(): number[] {
  // Params 0..5: x out batch rows cols chunkBytes (a multiple of 16). Locals:
  const [bi, i, j, q, src, dst, inRow, outRow, size] = [6, 7, 8, 9, 10, 11, 12, 13, 14];
  const code = [
    ...[...get(4), ...get(5), ...mul, ...set(inRow)],
    ...[...get(3), ...get(5), ...mul, ...set(outRow)],
    ...[...get(inRow), ...get(3), ...mul, ...set(size)],
    ...forRange(bi, get(2), 1, [
      ...forRange(i, get(3), 1, [
        ...forRange(j, get(4), 1, [
          ...addressOf(0, [bi, size], [i, inRow], [j, 5]),
          ...set(src),
          ...addressOf(1, [bi, size], [j, outRow], [i, 5]),
          ...set(dst),
          ...forRange(q, get(5), 16, [
            ...get(dst),
            ...get(q),
            ...add,
            ...get(src),
            ...get(q),
            ...add,
            ...v128Load,
            ...v128Store,
          ]),
        ]),
      ]),
    ]),
  ];
  return [...vec([[...uleb(9), I32]]), ...code, ...end];
}

/** `v128.load32_splat`: one float32 from memory into all four lanes. */
const loadSplat = simd(0x09, 0x02, 0x00);

/**
 * `gemm(a, b, c, m, k, cols, aRow, aCol, accumulate, rowBytes)`: c[i, j] (+)= sum over p of
 * a(i, p) * b[p, j] for the first `cols` columns of `b` `[k, n]` and `c` `[m, n]`, both with rows
 * `rowBytes` apart, a(i, p) at `a + aRow*i + aCol*p`; `m` a multiple of `rows`, `cols` of
 * `4 * vectors`. A block of `rows` x `4 * vectors` outputs stays in registers over the whole
 * inner axis, so each step loads `vectors` vectors of b and `rows` scalars of a for
 * `rows * vectors` multiply-adds (the row loop of `nn` loads `vectors` vectors for `vectors`).
 * With `accumulate` 0 the sums start from zero, else from what c holds: an inner axis split into
 * chunks gives the same sums as one pass. Each output is 0 + a(i, 0) b[0, j] + a(i, 1) b[1, j] +
 * ... in ascending p, the order XNNPACK's kernels sum in, so the two agree bit for bit; XNNPACK
 * first packs b, which costs as much as the product itself when b is a gradient or a weight that
 * changed since its last use.
 */
function gemmBody(rows: number, vectors: number): number[] {
  // Params 0..9: a b c m k cols aRow aCol accumulate rowBytes. Locals:
  const rowBytes = 9;
  const [i0, j0, p, bAt, cAt] = [10, 11, 12, 13, 14];
  const aAt = Array.from({ length: rows }, (_, r) => 15 + r); // i32, row r's a(i0 + r, p)
  const firstV = 15 + rows;
  const bv = Array.from({ length: vectors }, (_, v) => firstV + v);
  const av = firstV + vectors;
  const acc = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: vectors }, (_, v) => av + 1 + r * vectors + v),
  );
  // One step of p: b[p, j0 ..] into registers, each row's a(i, p) splat and multiplied into its
  // accumulators, then a and b one step on.
  const step = [
    ...bv.flatMap((x, v) => [...get(bAt), ...simd(0x00, 0x02, ...uleb(16 * v)), ...set(x)]),
    ...aAt.flatMap((at, r) => [
      ...get(at),
      ...loadSplat,
      ...set(av),
      ...bv.flatMap((x, v) => [
        ...get(acc[r]![v]!),
        ...get(av),
        ...get(x),
        ...f32x4Mul,
        ...f32x4Add,
        ...set(acc[r]![v]!),
      ]),
    ]),
    ...aAt.flatMap((at) => [...get(at), ...get(7), ...add, ...set(at)]),
    ...get(bAt),
    ...get(rowBytes),
    ...add,
    ...set(bAt),
  ];
  const code = [
    ...forRange(i0, get(3), rows, [
      ...forRange(j0, get(5), 4 * vectors, [
        // cAt = c + i0*rowBytes + j0*4; row r at cAt + r*rowBytes
        ...addressOf(2, [i0, rowBytes]),
        ...plusElement(j0),
        ...set(cAt),
        ...acc.flatMap((row, r) =>
          row.flatMap((x, v) => [
            ...get(8),
            ...[0x04, V128],
            ...get(cAt),
            ...(r === 0 ? [] : [...get(rowBytes), ...i32(r), ...mul, ...add]),
            ...simd(0x00, 0x02, ...uleb(16 * v)),
            0x05,
            ...v128Zero,
            ...end,
            ...set(x),
          ]),
        ),
        ...aAt.flatMap((at, r) => [
          ...addressOf(0, [i0, 6]),
          ...(r === 0 ? [] : [...get(6), ...i32(r), ...mul, ...add]),
          ...set(at),
        ]),
        ...elementAt(1, j0),
        ...set(bAt),
        ...forRange(p, get(4), 1, step),
        ...acc.flatMap((row, r) => [
          ...row.flatMap((x, v) => [...get(cAt), ...get(x), ...simd(0x0b, 0x02, ...uleb(16 * v))]),
          ...(r === rows - 1 ? [] : [...get(cAt), ...get(rowBytes), ...add, ...set(cAt)]),
        ]),
      ]),
    ]),
  ];
  const locals = vec([
    [...uleb(5 + rows), I32],
    [...uleb(vectors + 1 + rows * vectors), V128],
  ]);
  return [...locals, ...code, ...end];
}

/**
 * The register blocks of `gemm`: 2 rows x 16 columns, eight accumulators and four vectors of b
 * (thirteen of the sixteen SIMD registers V8 has on x86-64), the fastest of the blocks measured
 * here (4 x 8, 3 x 8, 2 x 8, 1 x 16, 2 x 16: b's rows are read a whole 64-byte line at a time);
 * `gemm4`, 2 x 4, takes the columns past the last multiple of 16.
 */
export const GEMM_BLOCK = { rows: 2, columns: 16, tailColumns: 4 } as const;

/** The module's bytes; it imports `env.memory` and exports `nn`, `nt`, `colsum` and `transpose`. */
export function simdLoopsModuleBytes(): Uint8Array<ArrayBuffer> {
  const fn = (params: number): number[] => [0x60, ...vec(new Array<number>(params).fill(I32).map((t) => [t])), 0x00];
  const types = section(1, vec([fn(11), fn(9), fn(4), fn(5), fn(10), fn(6)]));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]]));
  const functions = section(3, vec([[0x00], [0x01], [0x02], [0x03], [0x04], [0x04], [0x05]]));
  const exports = section(
    7,
    vec([
      [...str('nn'), 0x00, 0x00],
      [...str('nt'), 0x00, 0x01],
      [...str('colsum'), 0x00, 0x02],
      [...str('transpose'), 0x00, 0x03],
      [...str('gemm'), 0x00, 0x04],
      [...str('gemm4'), 0x00, 0x05],
      [...str('transposeChunks'), 0x00, 0x06],
    ]),
  );
  const body = (b: number[]): number[] => [...uleb(b.length), ...b];
  const code = section(
    10,
    vec([
      body(nnBody()),
      body(ntBody()),
      body(colsumBody()),
      body(transposeBody()),
      body(gemmBody(GEMM_BLOCK.rows, GEMM_BLOCK.columns / 4)),
      body(gemmBody(GEMM_BLOCK.rows, GEMM_BLOCK.tailColumns / 4)),
      body(transposeChunksBody()),
    ]),
  );
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...functions,
    ...exports,
    ...code,
  ]);
}
