import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { wasmBatchMatMulActive } from '../src/ml/kernels/batch-matmul-wasm.ts';
import { transposePlan } from '../src/ml/kernels/transpose-wasm.ts';
import { type Arithmetic, type Formula, elementwiseModuleBytes, scalar } from '../src/ml/kernels/elementwise-module.ts';
import { attend } from '../src/ml/ops/attention.ts';
import { sparseCrossEntropy } from '../src/ml/ops/cross-entropy.ts';
import { gelu } from '../src/ml/ops/gelu.ts';
import { matMul } from '../src/ml/ops/matmul.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';
import { Rng } from '../src/ml/rng.ts';

before(async () => {
  await chooseBackend(['wasm']);
});
after(() => setFastPaths(true));

const rng = new Rng(11);
// Uniform on [-sqrt 3, sqrt 3): unit variance, like the normal draws of an initialisation.
const normals = (n: number): Float32Array =>
  Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * Math.sqrt(3));
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * `a @ b` over row-major arrays of `[batch, m, k]` and `[batch, k, n]` (batch 1 broadcasts): in
 * float64, or with `float32` as the SIMD loops and XNNPACK compute it without a transposed right
 * side, each output 0 + a(i, 0) b(0, j) + a(i, 1) b(1, j) + ..., every product and sum rounded.
 */
function matmulReference(
  a: Float32Array,
  b: Float32Array,
  [ba, m, k]: number[],
  [bb, , n]: number[],
  ta: boolean,
  tb: boolean,
  float32 = false,
): Float64Array | Float32Array {
  const round = float32 ? Math.fround : (x: number): number => x;
  const batch = Math.max(ba!, bb!);
  const out = float32 ? new Float32Array(batch * m! * n!) : new Float64Array(batch * m! * n!);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m!; i++)
      for (let j = 0; j < n!; j++) {
        let acc = 0;
        for (let p = 0; p < k!; p++) {
          const x = a[(ba === 1 ? 0 : s) * m! * k! + (ta ? p * m! + i : i * k! + p)]!;
          const y = b[(bb === 1 ? 0 : s) * k! * n! + (tb ? j * k! + p : p * n! + j)]!;
          acc = round(acc + round(x * y));
        }
        out[(s * m! + i) * n! + j] = acc;
      }
  return out;
}

const bitsOf = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  assert.equal(x.length, y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
};

describe('wasm BatchMatMul on SIMD loops', () => {
  it('is set up on wasm', () => {
    assert.equal(wasmBatchMatMulActive(), true);
  });

  // [batch, m, k] x [batch, k, n], with transposes; odd sizes exercise the scalar tails.
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [6, 5, 7], b: [6, 7, 9], ta: false, tb: false },
    { a: [6, 7, 5], b: [6, 7, 9], ta: true, tb: false },
    { a: [6, 5, 7], b: [6, 9, 7], ta: false, tb: true },
    { a: [1, 5, 7], b: [3, 7, 6], ta: false, tb: false },
    { a: [4, 64, 16], b: [4, 64, 16], ta: false, tb: true },
    { a: [4, 64, 64], b: [4, 64, 16], ta: false, tb: false },
    { a: [1, 9, 13], b: [1, 11, 13], ta: false, tb: true },
    { a: [1, 13, 9], b: [1, 13, 11], ta: true, tb: false },
    // gemm: batched and transposed-a products with a multiple of 16 columns.
    { a: [64, 64, 16], b: [64, 16, 64], ta: false, tb: false },
    { a: [8, 64, 64], b: [1, 64, 16], ta: false, tb: false },
    { a: [5, 300, 17], b: [5, 300, 32], ta: true, tb: false },
    { a: [1, 9, 16], b: [1, 9, 48], ta: true, tb: false },
  ];
  for (const c of cases) {
    it(`${c.a.join('x')}${c.ta ? 'ᵀ' : ''} @ ${c.b.join('x')}${c.tb ? 'ᵀ' : ''} matches float64 and the built-in kernel`, async () => {
      const av = normals(size(c.a));
      const bv = normals(size(c.b));
      const m = c.ta ? c.a[2]! : c.a[1]!;
      const k = c.ta ? c.a[1]! : c.a[2]!;
      const n = c.tb ? c.b[1]! : c.b[2]!;
      const expected = matmulReference(av, bv, [c.a[0]!, m, k], [c.b[0]!, k, n], c.ta, c.tb);
      const a = tf.tensor3d(av, c.a as [number, number, number]);
      const b = tf.tensor3d(bv, c.b as [number, number, number]);
      setFastPaths(true);
      const fast = await tf.matMul(a, b, c.ta, c.tb).data();
      setFastPaths(false);
      const builtIn = await tf.matMul(a, b, c.ta, c.tb).data();
      setFastPaths(true);
      tf.dispose([a, b]);
      assert.ok(maxDiff(fast, expected) < 1e-5 * Math.sqrt(k), `float64: ${maxDiff(fast, expected)}`);
      assert.ok(maxDiff(fast, builtIn) < 1e-5 * Math.sqrt(k), `built-in: ${maxDiff(fast, builtIn)}`);
      if (!c.tb)
        assert.deepEqual(
          bitsOf(fast as Float32Array),
          bitsOf(matmulReference(av, bv, [c.a[0]!, m, k], [c.b[0]!, k, n], c.ta, false, true) as Float32Array),
          'the ascending float32 sum',
        );
    });
  }

  // Plain 2-D products go to gemm where b's columns come in fours (blocks of 16, then of 4): odd
  // row counts (the last row by nn), inner axes past one 256-row chunk, a single row block, a
  // vocabulary-wide right side; one row or two columns go to XNNPACK.
  const plainShapes: [m: number, k: number, n: number][] = [
    [1024, 64, 256],
    [64, 1024, 256],
    [7, 300, 32],
    [2, 5, 16],
    [33, 513, 48],
    [1, 40, 16],
    [9, 20, 24],
    [16, 64, 2],
    [33, 70, 1000],
    [6, 10, 4],
    [4, 300, 8],
  ];
  for (const [m, k, n] of plainShapes) {
    it(`plain [${m}, ${k}] @ [${k}, ${n}] is bit-identical to XNNPACK's product`, async () => {
      const av = normals(m * k);
      const bv = normals(k * n);
      const a = tf.tensor2d(av, [m, k]);
      const b = tf.tensor2d(bv, [k, n]);
      setFastPaths(true);
      const fast = (await tf.matMul(a, b).data()) as Float32Array;
      setFastPaths(false);
      const builtIn = (await tf.matMul(a, b).data()) as Float32Array;
      setFastPaths(true);
      tf.dispose([a, b]);
      assert.deepEqual(bitsOf(fast), bitsOf(builtIn));
      assert.deepEqual(
        bitsOf(fast),
        bitsOf(matmulReference(av, bv, [1, m, k], [1, k, n], false, false, true) as Float32Array),
      );
      const expected = matmulReference(av, bv, [1, m, k], [1, k, n], false, false);
      assert.ok(maxDiff(fast, expected) < 1e-5 * Math.sqrt(k), `float64: ${maxDiff(fast, expected)}`);
    });
  }

  it('gives attention the same values and gradients as the built-in kernel', async () => {
    const shape: [number, number, number, number] = [2, 4, 10, 8];
    const q = tf.tensor4d(normals(size(shape)), shape);
    const k = tf.tensor4d(normals(size(shape)), shape);
    const v = tf.tensor4d(normals(size(shape)), shape);
    const w = tf.tensor4d(normals(size(shape)), shape);
    const run = async (fast: boolean): Promise<Float32Array[]> => {
      setFastPaths(fast);
      const { value, grads } = tf.tidy(() => {
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(attend(x as tf.Tensor4D, y as tf.Tensor4D, z as tf.Tensor4D, { scale: 0.35 }), w));
        const r = tf.valueAndGrads(f)([q, k, v]);
        return { value: r.value, grads: r.grads };
      });
      const out = [await value.data(), ...(await Promise.all(grads.map((g) => g.data())))] as Float32Array[];
      tf.dispose([value, ...grads]);
      setFastPaths(true);
      return out;
    };
    const fast = await run(true);
    const builtIn = await run(false);
    tf.dispose([q, k, v, w]);
    fast.forEach((f, i) => assert.ok(maxDiff(f, builtIn[i]!) < 1e-5, `output ${i}: ${maxDiff(f, builtIn[i]!)}`));
  });
});

describe('cross-entropy from softmax', () => {
  /** Per row, logsumexp(x) - x[target] in float64, and its gradient softmax(x) - onehot. */
  function reference(
    x: Float32Array,
    rows: number,
    cols: number,
    targets: number[],
  ): { nll: number[]; grad: number[] } {
    const nll: number[] = [];
    const grad: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
      const m = Math.max(...row);
      const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
      nll.push(m + Math.log(s) - row[targets[r]!]!);
      row.forEach((v, j) => grad.push(Math.exp(v - m) / s - (j === targets[r] ? 1 : 0)));
    }
    return { nll, grad };
  }

  for (const scale of [1, 30]) {
    it(`matches float64 in value and gradient (logits scaled by ${scale})`, async () => {
      const [rows, cols] = [37, 101];
      const xv = normals(rows * cols).map((v) => v * scale);
      const targets = Array.from({ length: rows }, (_, i) => (i * 17) % cols);
      const ref = reference(xv, rows, cols, targets);
      const x = tf.tensor2d(xv, [rows, cols]);
      const t = tf.tensor1d(targets, 'int32');
      for (const fast of [true, false]) {
        setFastPaths(fast);
        const { value, grad } = tf.tidy(() => {
          const r = tf.valueAndGrad((l: tf.Tensor) => tf.sum(sparseCrossEntropy(l as tf.Tensor2D, t)))(x);
          return { value: r.value, grad: r.grad };
        });
        const nll = tf.tidy(() => sparseCrossEntropy(x, t));
        const [nv, gv, sv] = [await nll.data(), await grad.data(), (await value.data())[0]!];
        tf.dispose([value, grad, nll]);
        assert.ok(maxDiff(nv, ref.nll) < 1e-5 * scale, `${fast ? 'fast' : 'built-in'} nll: ${maxDiff(nv, ref.nll)}`);
        assert.ok(maxDiff(gv, ref.grad) < 1e-5 * scale, `${fast ? 'fast' : 'built-in'} grad: ${maxDiff(gv, ref.grad)}`);
        assert.ok(Math.abs(sv - ref.nll.reduce((a, b) => a + b, 0)) < 1e-3 * scale);
      }
      setFastPaths(true);
      tf.dispose([x, t]);
    });
  }

  it('stays finite where a probability underflows', async () => {
    const x = tf.tensor2d([
      [1000, 0, -1000],
      [0, 0, 0],
    ]);
    const t = tf.tensor1d([2, 1], 'int32');
    const nll = tf.tidy(() => sparseCrossEntropy(x, t));
    const values = Array.from(await nll.data());
    tf.dispose([x, t, nll]);
    assert.ok(Math.abs(values[0]! - 2000) < 1e-3);
    assert.ok(Math.abs(values[1]! - Math.log(3)) < 1e-6);
  });
});

describe('tanh GELU through sigmoid with a written-out gradient', () => {
  it('matches float64 in value and gradient, and the differentiated formula', async () => {
    const xv = Float32Array.from({ length: 401 }, (_, i) => (i - 200) / 40);
    const c = Math.sqrt(2 / Math.PI);
    const value64 = Array.from(xv, (x) => 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x ** 3))));
    const grad64 = Array.from(xv, (x) => {
      const t = Math.tanh(c * (x + 0.044715 * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
    });
    const x = tf.tensor1d(xv);
    const results: Float32Array[][] = [];
    for (const fast of [true, false]) {
      setFastPaths(fast);
      const { value, grad } = tf.tidy(() => {
        const r = tf.valueAndGrad((z: tf.Tensor) => tf.sum(gelu(z)))(x);
        return { value: gelu(x), grad: r.grad };
      });
      results.push([await value.data(), await grad.data()] as Float32Array[]);
      tf.dispose([value, grad]);
    }
    setFastPaths(true);
    x.dispose();
    const [[fv, fg], [bv, bg]] = results as [[Float32Array, Float32Array], [Float32Array, Float32Array]];
    // The fast path computes x sigmoid(2u) for x (1 + tanh u) / 2: equal up to float32 rounding.
    assert.ok(maxDiff(fv, bv) < 2e-6, `tanh form: ${maxDiff(fv, bv)}`);
    assert.ok(maxDiff(fv, value64) < 1e-5);
    assert.ok(maxDiff(fg, grad64) < 1e-5, `fast: ${maxDiff(fg, grad64)}`);
    assert.ok(maxDiff(fg, bg) < 1e-5, `built-in: ${maxDiff(fg, bg)}`);
  });
});

/** Runs `f` with the fast paths on and off; the raw bytes of every output of each. */
async function bothWays(f: () => tf.Tensor | tf.Tensor[]): Promise<[Uint8Array[], Uint8Array[], number[][]]> {
  const runs: Uint8Array[][] = [];
  let shapes: number[][] = [];
  for (const fast of [true, false]) {
    setFastPaths(fast);
    const outs = [f()].flat();
    shapes = outs.map((t) => t.shape);
    runs.push(await Promise.all(outs.map(async (t) => new Uint8Array((await t.data()).slice().buffer))));
    tf.dispose(outs);
  }
  setFastPaths(true);
  return [runs[0]!, runs[1]!, shapes];
}

describe('wasm data-movement kernels and the sum over rows', () => {
  it('Sum over leading axes is bit-identical to the built-in kernel, and declines what it does not serve', async () => {
    const cases: [number[], number | number[], boolean][] = [
      [[1024, 64], 0, false],
      [[1000, 256], 0, true],
      [[7, 5, 12], [0, 1], false],
      [[7, 5, 12], [1, 0], true],
      [[9, 8], -2, false],
      [[9, 7], 0, false], // 7 columns: the built-in kernel serves it
      [[9, 8], 1, false], // innermost: built-in
      [[4, 6, 8], [0, 2], false], // not a leading run: built-in
      [[0, 8], 0, false],
    ];
    for (const [shape, axis, keepDims] of cases) {
      const x = tf.tensor(
        normals(size(shape)).map((v) => v * 1000),
        shape,
      );
      const [fast, slow] = await bothWays(() => tf.sum(x, axis, keepDims));
      assert.deepEqual(fast, slow, `sum of ${JSON.stringify(shape)} over ${JSON.stringify(axis)}`);
      x.dispose();
    }
  });

  it('GatherV2 of rows copies the same values; batch dimensions and other axes go to the built-in kernel', async () => {
    const table = tf.tensor2d(normals(50 * 12), [50, 12]);
    const ids = tf.tensor2d([3, 0, 49, 3, 17, 8], [2, 3], 'int32');
    const ints = tf.tensor2d(
      Int32Array.from({ length: 50 * 4 }, (_, i) => i * 7 - 90),
      [50, 4],
      'int32',
    );
    for (const f of [
      () => tf.gather(table, ids),
      () => tf.gather(ints, ids),
      () => tf.gather(table, tf.tensor1d([5, 1, 2], 'int32'), 1),
      () => tf.gather(tf.reshape(table, [2, 25, 12]), tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 1, 1),
    ]) {
      const [fast, slow, shapes] = await bothWays(f);
      assert.deepEqual(fast, slow, `gather to ${JSON.stringify(shapes)}`);
    }
    tf.dispose([table, ids, ints]);
  });

  it('SplitV moves the same values along any axis', async () => {
    const x = tf.tensor3d(normals(6 * 10 * 4), [6, 10, 4]);
    for (const f of [
      () => tf.split(x, [3, 3, 4], 1),
      () => tf.split(x, 2, 0),
      () => tf.split(x, [1, 3], -1),
      () => tf.split(x, [4, -1], 1), // -1: built-in
    ]) {
      const [fast, slow, shapes] = await bothWays(f);
      assert.deepEqual(fast, slow, `split to ${JSON.stringify(shapes)}`);
    }
    x.dispose();
  });

  it('Transpose of a batch of matrices moves the same bits; other permutations go to the built-in kernel', async () => {
    const cases: [number[], number[]][] = [
      [
        [1024, 64],
        [1, 0],
      ],
      [
        [16, 4, 64, 16],
        [0, 1, 3, 2],
      ],
      [
        [8, 1, 12],
        [2, 1, 0],
      ],
      [
        [12, 7],
        [1, 0],
      ], // 7: built-in
      [
        [2, 3, 4, 8],
        [1, 0, 3, 2],
      ], // a batch reordered too: built-in
      // The last axis kept: runs of it move (attention's head split and merge, odd token counts).
      [
        [16, 63, 4, 16],
        [0, 2, 1, 3],
      ],
      [
        [3, 4, 13, 8],
        [0, 2, 1, 3],
      ],
      [
        [5, 3, 12],
        [1, 0, 2],
      ],
      [
        [2, 5, 1, 3, 8],
        [0, 3, 2, 1, 4],
      ],
      [
        [2, 5, 3, 6],
        [0, 2, 1, 3],
      ], // runs of 6: built-in
      [
        [2, 3, 5, 4],
        [2, 1, 0, 3],
      ], // a batch reordered: built-in
    ];
    const served = cases.map(([shape, perm]) => transposePlan(shape, perm)?.loop ?? 'built-in');
    assert.deepEqual(served, [
      'transpose',
      'transpose',
      'transpose',
      'built-in',
      'built-in',
      'transposeChunks',
      'transposeChunks',
      'transposeChunks',
      'transposeChunks',
      'built-in',
      'built-in',
    ]);
    for (const [shape, perm] of cases) {
      const x = tf.tensor(normals(size(shape)), shape);
      const ints = tf.tensor(
        Int32Array.from({ length: size(shape) }, (_, i) => i * 31 - 500),
        shape,
        'int32',
      );
      for (const t of [x, ints]) {
        const [fast, slow, shapes] = await bothWays(() => tf.transpose(t, perm));
        assert.deepEqual(fast, slow, `transpose of ${JSON.stringify(shape)} by ${JSON.stringify(perm)} (${t.dtype})`);
        assert.deepEqual(
          shapes[0],
          perm.map((a) => shape[a]),
        );
      }
      tf.dispose([x, ints]);
    }
  });

  it('Tile that broadcasts moves the same bits; other repetitions go to the built-in kernel', async () => {
    const cases: [number[], number[]][] = [
      [
        [6, 1],
        [1, 8],
      ],
      [
        [1, 8],
        [5, 1],
      ],
      [
        [2, 1, 3],
        [1, 4, 1],
      ],
      [
        [3, 1, 1],
        [1, 2, 5],
      ],
      [
        [2, 3],
        [2, 2],
      ], // repeats axes longer than 1: built-in
    ];
    for (const [shape, reps] of cases) {
      const x = tf.tensor(normals(size(shape)), shape);
      const [fast, slow] = await bothWays(() => tf.tile(x, reps));
      assert.deepEqual(fast, slow, `tile of ${JSON.stringify(shape)} by ${JSON.stringify(reps)}`);
      x.dispose();
    }
  });

  it('the gradients of Sum and Mean spread dy over the reduced axes, the mean divided by the count', async () => {
    const x = tf.tensor3d(normals(2 * 3 * 5), [2, 3, 5]);
    const w = tf.tensor3d(normals(2 * 3 * 5), [2, 3, 5]);
    for (const [axis, count] of [
      [2, 5],
      [[0, 2], 10],
      [0, 2],
    ] as [number | number[], number][]) {
      const dy = tf.tidy(() => tf.sum(w, axis, true));
      const [dSum, dMean] = tf.tidy(() => [
        tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.sum(z, axis, true), dy)))(x),
        tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.mean(z, axis, true), dy)))(x),
      ]);
      const spread = await tf.broadcastTo(dy, x.shape).data();
      assert.deepEqual(await dSum!.data(), spread);
      assert.deepEqual(
        await dMean!.data(),
        Float32Array.from(spread, (v) => Math.fround(v / count)),
      );
      tf.dispose([dy, dSum!, dMean!]);
    }
    tf.dispose([x, w]);
  });

  it('Identity shares memory safely: a clone outlives its source, and the source outlives a disposed clone', async () => {
    const before = tf.memory().numBytes;
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
    const z = tf.clone(y);
    z.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
    y.dispose();
    assert.equal(tf.memory().numBytes, before, 'the shared memory is freed with its last tensor');
  });

  it('a training step gives the same loss and gradients with the kernels on and off', async () => {
    // Gradients clone what they keep (Identity), sum bias gradients over rows (Sum) and gather
    // embeddings (GatherV2): one small network through all of them.
    const emb = tf.variable(tf.tensor2d(normals(30 * 8), [30, 8]));
    const w = tf.variable(tf.tensor2d(normals(8 * 12), [8, 12]));
    const bias = tf.variable(tf.tensor1d(normals(12)));
    const ids = tf.tensor1d([1, 4, 4, 29, 0, 7], 'int32');
    const [fast, slow] = await bothWays(() =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          // ops/matmul.ts's product: its gradient stays on plain 2-D products, which XNNPACK
          // serves either way (tf.matMul's own gradient would switch the BatchMatMul loops too).
          const h = tf.add(matMul(tf.gather(emb, ids), w), bias);
          const [a, b] = tf.split(h, 2, 1) as [tf.Tensor, tf.Tensor];
          return tf.sum(tf.mul(tf.sigmoid(a), b));
        }, [emb, w, bias]);
        return [value, grads[emb.name]!, grads[w.name]!, grads[bias.name]!];
      }),
    );
    assert.deepEqual(fast, slow);
    tf.dispose([emb, w, bias, ids]);
  });
});

describe('elementwise formulas (elementwise-module.ts)', () => {
  it('the SIMD loop and the scalar evaluation of one formula agree bit for bit', () => {
    const formula: Formula = <T>(ar: Arithmetic<T>, [x, y]: T[], [c, d]: T[]): T[] => {
      const s = ar.keep(ar.add(ar.mul(x!, c!), y!));
      return [ar.div(ar.sqrt(ar.max(s, d!)), ar.sub(y!, c!)), ar.min(ar.max(ar.mul(s, s), d!), c!)];
    };
    const n = 64;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new Float32Array(memory.buffer);
    const special = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3.5e38];
    for (let i = 0; i < 2 * n; i++) heap[i] = i % 9 < special.length ? special[i % 9]! : (rng.uniform() - 0.5) * 10;
    const run = new WebAssembly.Instance(new WebAssembly.Module(elementwiseModuleBytes(formula, 2, 2, 2)), {
      env: { memory },
    }).exports['run'] as (...args: number[]) => void;
    const [c, d] = [0.7, 0.25];
    run(4 * n, 0, 4 * n, 8 * n, 12 * n, c, d);
    for (let i = 0; i < n; i++) {
      const expected = formula(scalar, [heap[i]!, heap[n + i]!], [Math.fround(c), Math.fround(d)]);
      // A NaN is a NaN: its sign and payload are the machine's (the optimizers keep their
      // tails on the SIMD path for that reason).
      const bits = (xs: number[]): Uint32Array => bitsOf(Float32Array.from(xs.map((v) => (Number.isNaN(v) ? NaN : v))));
      assert.deepEqual(bits([heap[2 * n + i]!, heap[3 * n + i]!]), bits(expected), `element ${i}`);
    }
  });
});
