import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { fusedStepAvailable } from '../src/ml/kernels/optimizer-steps-wasm.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';
import { Rng } from '../src/ml/rng.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { makeOptimizer } from '../src/ml/optimizers/make-optimizer.ts';
import { radamRectification } from '../src/ml/optimizers/proposed.ts';
import { learningRateAt } from '../src/ml/optimizers/schedule.ts';
import { declaredOptimizers } from '../src/study/declared-optimizers.ts';

before(async () => {
  await chooseBackend(['wasm']);
});

// Two parameters: a matrix (takes weight decay) and a bias (does not).
const W0 = [0.5, -1.2, 0.3, 2.0, -0.7, 0.05];
const B0 = [0.1, -0.2, 0.3];
// A fixed gradient sequence, deliberately uneven in scale across elements and sign-flipping.
const GRADS_W = [
  [0.3, -0.1, 0.02, 1.5, -0.4, 0.001],
  [0.25, 0.2, -0.03, 1.1, -0.5, 0.002],
  [-0.1, 0.15, 0.01, 0.9, 0.3, -0.001],
  [0.2, -0.3, 0.05, 1.3, -0.2, 0.004],
  [0.05, 0.1, -0.02, 0.7, -0.6, 0.0],
  [0.3, -0.05, 0.04, 1.0, 0.1, 0.003],
  [0.1, 0.25, -0.01, 1.2, -0.3, -0.002],
];
const GRADS_B = GRADS_W.map((g) => [g[0]! * 2, g[1]! - 0.1, g[2]! * 10]);

let counter = 0;
/** Runs the real optimizer over the fixed gradients; returns final [W, B] values. */
function runReal(config: OptimizerConfig, steps = GRADS_W.length, totalSteps = steps): [number[], number[]] {
  const id = ++counter;
  const w = tf.variable(tf.tensor2d(W0, [2, 3]), true, `optest${id}/w`);
  const b = tf.variable(tf.tensor1d(B0), true, `optest${id}/b`);
  const opt = makeOptimizer(config, totalSteps);
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      opt.apply({ [w.name]: tf.tensor2d(GRADS_W[s]!, [2, 3]), [b.name]: tf.tensor1d(GRADS_B[s]!) });
    });
  }
  const out: [number[], number[]] = [Array.from(w.dataSync()), Array.from(b.dataSync())];
  opt.dispose();
  w.dispose();
  b.dispose();
  return out;
}

type Ref = (
  theta: number[],
  g: number[],
  t: number,
  lr: number,
  state: Record<string, number[]>,
  decays: boolean,
) => void;
/** Runs a float64 reference update rule over the same gradients. */
function runRef(update: Ref, lrAt: (t: number) => number = () => NaN, steps = GRADS_W.length): [number[], number[]] {
  const w = [...W0];
  const b = [...B0];
  const sw: Record<string, number[]> = {};
  const sb: Record<string, number[]> = {};
  for (let s = 0; s < steps; s++) {
    update(w, GRADS_W[s]!, s + 1, lrAt(s + 1), sw, true);
    update(b, GRADS_B[s]!, s + 1, lrAt(s + 1), sb, false);
  }
  return [w, b];
}

function assertClose(actual: number[], expected: number[], tol: number, label: string): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    assert.ok(
      Math.abs(a - expected[i]!) <= tol,
      `${label}[${i}]: got ${a}, expected ${expected[i]} (tolerance ${tol})`,
    );
  });
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const slot = (state: Record<string, number[]>, key: string, n: number, fill = 0): number[] =>
  (state[key] ??= new Array<number>(n).fill(fill));

describe('optimizer updates match float64 references', () => {
  it('sgd with momentum and with nesterov', () => {
    for (const nesterov of [false, true]) {
      const lr = 0.01;
      const mu = 0.9;
      const ref = runRef((theta, g, _t, _lr, st) => {
        const buf = slot(st, 'buf', theta.length);
        for (let i = 0; i < theta.length; i++) {
          buf[i] = mu * buf[i]! + g[i]!;
          theta[i]! -= lr * (nesterov ? g[i]! + mu * buf[i]! : buf[i]!);
        }
      });
      const real = runReal({ name: 'sgd', learningRate: lr, momentum: mu, nesterov });
      assertClose(real[0], ref[0], 1e-6, `sgd nesterov=${nesterov} W`);
      assertClose(real[1], ref[1], 1e-6, `sgd nesterov=${nesterov} b`);
    }
  });

  it('plain sgd with L2 weight decay on matrices only', () => {
    const lr = 0.1;
    const wd = 0.5;
    const ref = runRef((theta, g, _t, _lr, _st, decays) => {
      for (let i = 0; i < theta.length; i++) theta[i]! -= lr * (g[i]! + (decays ? wd * theta[i]! : 0));
    });
    const real = runReal({ name: 'sgd', learningRate: lr, weightDecay: wd });
    assertClose(real[0], ref[0], 1e-6, 'W');
    assertClose(real[1], ref[1], 1e-6, 'b');
  });

  const adamRef =
    (lr: number, b1: number, b2: number, eps: number, decoupled: number): Ref =>
    (theta, g, t, _lr, st, decays) => {
      const m = slot(st, 'm', theta.length);
      const v = slot(st, 'v', theta.length);
      for (let i = 0; i < theta.length; i++) {
        if (decays) theta[i]! *= 1 - lr * decoupled;
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** t);
        const vHat = v[i]! / (1 - b2 ** t);
        theta[i]! -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    };

  it('adam', () => {
    const ref = runRef(adamRef(0.01, 0.9, 0.999, 1e-8, 0));
    const real = runReal({ name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999 });
    assertClose(real[0], ref[0], 1e-5, 'W');
    assertClose(real[1], ref[1], 1e-5, 'b');
  });

  it('adamw decays matrices (decoupled) but not biases', () => {
    const ref = runRef(adamRef(0.01, 0.9, 0.99, 1e-8, 0.1));
    const real = runReal({ name: 'adamw', learningRate: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 });
    assertClose(real[0], ref[0], 1e-5, 'W');
    assertClose(real[1], ref[1], 1e-5, 'b');
  });

  it('rmsprop (TensorFlow form: epsilon inside the root, rate inside the momentum)', () => {
    const lr = 0.01;
    const rho = 0.9;
    const mu = 0.5;
    const eps = 1e-8;
    const ref = runRef((theta, g, _t, _lr, st) => {
      const s = slot(st, 's', theta.length);
      const mom = slot(st, 'mom', theta.length);
      for (let i = 0; i < theta.length; i++) {
        s[i] = rho * s[i]! + (1 - rho) * g[i]! ** 2;
        mom[i] = mu * mom[i]! + (lr * g[i]!) / Math.sqrt(s[i]! + eps);
        theta[i]! -= mom[i]!;
      }
    });
    const real = runReal({ name: 'rmsprop', learningRate: lr, rho, momentum: mu, epsilon: eps });
    assertClose(real[0], ref[0], 1e-5, 'W');
    assertClose(real[1], ref[1], 1e-5, 'b');
  });

  /** The proposed rule in float64, written from the doc comment's equations. */
  function proposedRef(
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    adaptiveLr: boolean,
    adaptiveMomentum: boolean,
    maxB1 = 0.999,
  ): [number[], number[]] {
    const params = [[...W0], [...B0]];
    const decays = [true, false];
    const m = params.map((p) => zeros(p.length));
    const v = params.map((p) => zeros(p.length));
    const p = params.map((q) => new Array<number>(q.length).fill(1));
    for (let s = 0; s < GRADS_W.length; s++) {
      const t = s + 1;
      const grads = [GRADS_W[s]!, GRADS_B[s]!];
      const vHat = params.map((q, k) =>
        q.map((_, i) => {
          v[k]![i] = b2 * v[k]![i]! + (1 - b2) * grads[k]![i]! ** 2;
          return v[k]![i]! / (1 - b2 ** t);
        }),
      );
      const all = vHat.flat();
      const mean = all.reduce((a, x) => a + x, 0) / all.length;
      const r = radamRectificationRef(b2, t);
      params.forEach((q, k) => {
        for (let i = 0; i < q.length; i++) {
          const g = grads[k]![i]!;
          const b = adaptiveMomentum ? Math.min(maxB1, Math.max(0, 1 - ((1 - b1) * vHat[k]![i]!) / mean)) : b1;
          m[k]![i] = b * m[k]![i]! + (1 - b) * g;
          p[k]![i] = adaptiveMomentum ? p[k]![i]! * b : b1 ** t;
          const mHat = m[k]![i]! / (1 - p[k]![i]!);
          const adaptive = mHat / (Math.sqrt(vHat[k]![i]!) + eps);
          const u = adaptiveLr ? (r === undefined ? mHat : r * adaptive) : adaptive;
          if (decays[k]) q[i]! *= 1 - lr * wd;
          q[i]! -= lr * u;
        }
      });
    }
    return [params[0]!, params[1]!];
  }

  function radamRectificationRef(b2: number, t: number): number | undefined {
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
    return rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : undefined;
  }

  for (const [adaptiveLr, adaptiveMomentum] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`proposed (adaptiveLr=${adaptiveLr}, adaptiveMomentum=${adaptiveMomentum})`, () => {
      // With beta2 = 0.9, rho_t crosses RAdam's threshold of 5 at t = 6 (rho_inf = 19), so both of
      // its regimes fall within the 7 steps.
      const b2 = 0.9;
      assert.equal(radamRectification(b2, 5), undefined);
      assert.ok(radamRectification(b2, 6)! > 0);
      const ref = proposedRef(0.01, 0.9, b2, 1e-8, 0.1, adaptiveLr, adaptiveMomentum);
      const real = runReal({
        name: 'proposed',
        learningRate: 0.01,
        beta1: 0.9,
        beta2: b2,
        weightDecay: 0.1,
        adaptiveLr,
        adaptiveMomentum,
      });
      assertClose(real[0], ref[0], 1e-5, 'W');
      assertClose(real[1], ref[1], 1e-5, 'b');
    });
  }

  it('RAdam rectification: undefined early, then rising toward 1', () => {
    assert.equal(radamRectification(0.999, 1), undefined);
    assert.equal(radamRectification(0.999, 5), undefined);
    const r10 = radamRectification(0.999, 10)!;
    const r1000 = radamRectification(0.999, 1000)!;
    const r100000 = radamRectification(0.999, 100000)!;
    assert.ok(r10 > 0 && r10 < r1000 && r1000 < r100000 && Math.abs(r100000 - 1) < 1e-3, `${r10} ${r1000} ${r100000}`);
  });

  it('a schedule sets the rate of each step (warm-up then linear decay)', () => {
    const schedule = { kind: 'linear', warmupSteps: 3 } as const;
    const total = GRADS_W.length;
    const lrAt = (t: number): number => learningRateAt(0.05, schedule, t, total);
    const ref = runRef((theta, g, _t, lr, st) => {
      const buf = slot(st, 'buf', theta.length);
      for (let i = 0; i < theta.length; i++) {
        buf[i] = 0.9 * buf[i]! + g[i]!;
        theta[i]! -= lr * buf[i]!;
      }
    }, lrAt);
    const real = runReal({ name: 'sgd', learningRate: 0.05, momentum: 0.9, schedule });
    assertClose(real[0], ref[0], 1e-6, 'W');
  });

  it('clip-by-global-norm rescales all gradients together', () => {
    const clip = 0.5;
    const ref = runRef((theta, g, t, _lr) => {
      const all = [...GRADS_W[t - 1]!, ...GRADS_B[t - 1]!];
      const norm = Math.sqrt(all.reduce((a, x) => a + x * x, 0));
      const scale = Math.min(1, clip / norm);
      for (let i = 0; i < theta.length; i++) theta[i]! -= 0.1 * g[i]! * scale;
    });
    const real = runReal({ name: 'sgd', learningRate: 0.1, clipNorm: clip });
    assertClose(real[0], ref[0], 1e-6, 'W');
    assertClose(real[1], ref[1], 1e-6, 'b');
  });
});

describe('learning-rate schedules', () => {
  it('warm-up, constant, linear, cosine and triangular cycles', () => {
    assert.equal(learningRateAt(1, { kind: 'constant', warmupSteps: 4 }, 1, 100), 0.25);
    assert.equal(learningRateAt(1, { kind: 'constant', warmupSteps: 4 }, 4, 100), 1);
    assert.equal(learningRateAt(1, { kind: 'constant', warmupSteps: 4 }, 50, 100), 1);
    assert.equal(learningRateAt(1, { kind: 'linear' }, 100, 100), 0);
    assert.equal(learningRateAt(1, { kind: 'linear' }, 50, 100), 0.5);
    assert.ok(Math.abs(learningRateAt(1, { kind: 'cosine', minRatio: 0.1 }, 50, 100) - 0.55) < 1e-12);
    assert.ok(Math.abs(learningRateAt(1, { kind: 'cosine', minRatio: 0.1 }, 100, 100) - 0.1) < 1e-12);
    const cyc = { kind: 'cyclical', maxLearningRate: 3, halfCycleSteps: 2 } as const;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((t) => learningRateAt(1, cyc, t, 100)),
      [1, 2, 3, 2, 1, 2],
    );
  });
});

describe('the proposed optimizer and AdamW', () => {
  /** Trains a small least-squares problem and returns the final weights. */
  function train(config: OptimizerConfig, steps: number): { weights: number[]; losses: number[] } {
    const id = ++counter;
    const a = tf.tensor2d([1, 2, 0.5, -1, 3, 0.2, 0.3, -0.4, 1.5, 2.5, -0.6, 0.9], [4, 3]);
    const target = tf.tensor2d([1, -2, 0.5, 3], [4, 1]);
    const w = tf.variable(tf.tensor2d([0.2, -0.1, 0.4], [3, 1]), true, `conv${id}/w`);
    const opt = makeOptimizer(config, steps);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(tf.sub(tf.matMul(a, w), target))) as tf.Scalar,
          [w],
        );
        opt.apply(grads);
        return value;
      });
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    const weights = Array.from(w.dataSync());
    [a, target, w].forEach((t) => t.dispose());
    opt.dispose();
    return { weights, losses };
  }

  it('with both components off, updates equal AdamW to 1e-6', () => {
    const common = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, weightDecay: 0.1 };
    for (const steps of [1, 3, 8]) {
      const adamw = train({ name: 'adamw', ...common }, steps).weights;
      const proposed = train(
        { name: 'proposed', ...common, adaptiveLr: false, adaptiveMomentum: false },
        steps,
      ).weights;
      assertClose(proposed, adamw, 1e-6, `after ${steps} steps`);
    }
  });

  it('each component changes the update', () => {
    const common = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, weightDecay: 0.1 };
    const base = train({ name: 'proposed', ...common, adaptiveLr: false, adaptiveMomentum: false }, 8).weights;
    const withLr = train({ name: 'proposed', ...common, adaptiveLr: true, adaptiveMomentum: false }, 8).weights;
    const withMomentum = train({ name: 'proposed', ...common, adaptiveLr: false, adaptiveMomentum: true }, 8).weights;
    const maxDiff = (x: number[], y: number[]): number => Math.max(...x.map((xi, i) => Math.abs(xi - y[i]!)));
    assert.ok(maxDiff(base, withLr) > 1e-3, `adaptive lr made no difference: ${maxDiff(base, withLr)}`);
    assert.ok(
      maxDiff(base, withMomentum) > 1e-4,
      `adaptive momentum made no difference: ${maxDiff(base, withMomentum)}`,
    );
  });

  const convex: OptimizerConfig[] = [
    { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    { name: 'sgd', learningRate: 0.01, momentum: 0.9, nesterov: true },
    { name: 'adam', learningRate: 0.05 },
    { name: 'adamw', learningRate: 0.05 },
    { name: 'rmsprop', learningRate: 0.01 },
    { name: 'proposed', learningRate: 0.05, adaptiveLr: true, adaptiveMomentum: true },
    { name: 'proposed', learningRate: 0.05, adaptiveLr: false, adaptiveMomentum: true },
    { name: 'proposed', learningRate: 0.05, adaptiveLr: true, adaptiveMomentum: false },
  ];
  for (const config of convex) {
    it(`${JSON.stringify(config)} reduces a convex loss`, () => {
      const { losses } = train(config, 150);
      assert.ok(losses.at(-1)! < 0.1 * losses[0]!, `loss went from ${losses[0]} to ${losses.at(-1)}`);
    });
  }

  it("the paper's two settings build, as pipeline.yaml (Table 1) and profiles/section82.yaml declare them", async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const table1 = await declaredOptimizers(root);
    const section82 = await declaredOptimizers(root, 'section82');
    const variants = ['sgd', 'adam', 'adamw', 'rmsprop', 'proposed', 'proposed-no-lr', 'proposed-no-momentum'];
    for (const setting of [table1, section82]) {
      assert.deepEqual([...setting.keys()].sort(), [...variants].sort());
      for (const config of setting.values()) makeOptimizer(config, 10).dispose();
    }
    // The ablations differ from the full proposed optimizer in their one component only.
    assert.deepEqual(table1.get('proposed-no-lr'), { ...table1.get('proposed')!, adaptiveLr: false });
    assert.deepEqual(table1.get('proposed-no-momentum'), { ...table1.get('proposed')!, adaptiveMomentum: false });
    assert.notDeepEqual(section82.get('adamw'), table1.get('adamw'), 'the profile replaces the setting');
  });
});

describe('fused wasm updates (optimizer-steps-wasm.ts)', () => {
  // Sizes with and without a tail past a multiple of four, and one that is all tail.
  const SHAPES: number[][] = [[16, 8], [5, 3], [7], [2]];
  /** Every parameter's bits after `steps` updates of `config`, with the fast paths on or off. */
  function finalBits(config: OptimizerConfig, fast: boolean, steps: number): Uint32Array[] {
    setFastPaths(fast);
    try {
      const id = ++counter;
      const rng = new Rng(19);
      let drawn = 0;
      // An infinite gradient element now and then: the NaNs it leads to must match too, bit for bit.
      const draw = (n: number): Float32Array =>
        Float32Array.from({ length: n }, () => (++drawn % 97 === 0 ? Infinity : (rng.uniform() - 0.45) * 3));
      const vars = SHAPES.map((shape, i) =>
        tf.variable(tf.tensor(draw(shape.reduce((a, b) => a * b, 1)), shape), true, `fused${id}/p${i}`),
      );
      const opt = makeOptimizer(config, steps);
      for (let s = 0; s < steps; s++)
        tf.tidy(() => {
          const info = opt.apply(Object.fromEntries(vars.map((v) => [v.name, tf.tensor(draw(v.size), v.shape)])));
          info.gradNorm?.dispose();
        });
      const bits = vars.map((v) => new Uint32Array((v.dataSync() as Float32Array).slice().buffer));
      opt.dispose();
      tf.dispose(vars);
      return bits;
    } finally {
      setFastPaths(true);
    }
  }

  it('every declared optimizer, and centred RMSProp, ends bit for bit where tfjs ops end', async () => {
    const declared = await declaredOptimizers(fileURLToPath(new URL('..', import.meta.url)));
    const configs: OptimizerConfig[] = [
      ...declared.values(),
      { name: 'rmsprop', learningRate: 0.01, rho: 0.9, momentum: 0.5, centered: true },
      { name: 'adam', learningRate: 0.01, weightDecay: 0.1 },
    ];
    // 12 steps: past RAdam's threshold (rho_t > 5 from step 6), so both of its forms run.
    for (const config of configs)
      assert.deepEqual(finalBits(config, true, 12), finalBits(config, false, 12), JSON.stringify(config));
  });

  it('is what the wasm backend runs, with the fast paths on', () => {
    assert.equal(fusedStepAvailable('AdamStepF32'), true);
    setFastPaths(false);
    assert.equal(fusedStepAvailable('AdamStepF32'), false);
    setFastPaths(true);
  });
});
