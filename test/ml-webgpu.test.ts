import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { batchTensors, padBatch } from '../src/ml/batches.ts';
import { evaluateClassifier, evaluatePerplexity } from '../src/ml/evaluate.ts';
import { Bert } from '../src/ml/models/bert.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { LanguageModel } from '../src/ml/models/language-model.ts';
import { T5 } from '../src/ml/models/t5.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { makeOptimizer } from '../src/ml/optimizers/make-optimizer.ts';
import { Rng } from '../src/ml/rng.ts';
import { pretrainLM, trainClassifier } from '../src/ml/train.ts';
import { saveWeights } from '../src/ml/weights.ts';
import { releaseWebGpu } from '../src/ml/webgpu-backend.ts';
import { skipWithoutWebGpu } from './helpers/webgpu.ts';

// Small sizes: lavapipe runs every kernel on the CPU and compiles each shader once (seconds).
const VOCAB = 48;
const SPECIAL = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4, eos: 5, sentinels: [6, 7, 8, 9, 10, 11] };
const FIRST_WORD = 12;
const LABELS = [
  [20, SPECIAL.eos],
  [21, SPECIAL.eos],
];

const ARCHITECTURES: Record<string, () => LanguageModel> = {
  gpt: () =>
    new Gpt(
      { vocabSize: VOCAB, contextLength: 16, layers: 2, dModel: 16, heads: 2, dFF: 32, numClasses: 2, dropout: 0 },
      3,
    ),
  bert: () =>
    new Bert(
      {
        vocabSize: VOCAB,
        contextLength: 16,
        typeVocabSize: 2,
        layers: 2,
        dModel: 16,
        heads: 2,
        dFF: 32,
        numClasses: 2,
        dropout: 0,
        layerNormEps: 1e-12,
      },
      SPECIAL,
      3,
    ),
  t5: () =>
    new T5(
      {
        vocabSize: VOCAB,
        contextLength: 16,
        encoderLayers: 2,
        decoderLayers: 2,
        dModel: 16,
        dKv: 8,
        heads: 2,
        dFF: 32,
        feedForward: 'gated-gelu',
        relativeBuckets: 8,
        relativeMaxDistance: 16,
        tieEmbeddings: true,
        dropout: 0,
        layerNormEps: 1e-6,
        maxTargetLength: 4,
        numClasses: 2,
      },
      SPECIAL,
      LABELS,
      3,
    ),
};

/** Texts with a keyword (20 or 21) that decides the label, framed as every family frames them. */
function task(n: number, seed: number): { ids: number[][]; labels: number[] } {
  const rng = new Rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const ids = labels.map((label) => {
    const words = Array.from(
      { length: 5 + Math.floor(rng.uniform() * 8) },
      () => FIRST_WORD + 10 + Math.floor(rng.uniform() * 20),
    );
    words.splice(Math.floor(rng.uniform() * words.length), 0, label ? 21 : 20);
    return [SPECIAL.cls, ...words, SPECIAL.eos];
  });
  return { ids, labels };
}

/** Loss and gradients of both objectives on one batch, as host arrays. */
async function lossesAndGradients(make: () => LanguageModel): Promise<Map<string, Float32Array>> {
  const model = make();
  const data = task(6, 1);
  const out = new Map<string, Float32Array>();
  try {
    const batch = padBatch(data.ids, [0, 1, 2, 3, 4, 5], model.contextLength, SPECIAL.pad);
    for (const objective of ['lm', 'classification'] as const) {
      const { value, grads } = tf.tidy(() => {
        const { ids, mask } = batchTensors(batch);
        const labels = tf.tensor1d(data.labels, 'int32');
        return tf.variableGrads(() =>
          objective === 'lm'
            ? model.lmLoss(ids, mask, { dropoutSeed: 5 })
            : model.classificationLoss(ids, mask, labels),
        );
      });
      out.set(`${objective} loss`, (await value.data()) as Float32Array);
      // tfjs names variables uniquely per process; the model's own names are stable.
      for (const [name, v] of model.variables) {
        const g = grads[v.name];
        if (g !== undefined) out.set(`${objective} d${name}`, (await g.data()) as Float32Array);
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
  } finally {
    model.dispose();
  }
  return out;
}

/** Largest difference relative to `scale`. */
function relativeError(got: Float32Array, want: Float32Array, scale: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  return worst;
}

/**
 * Every tensor within `tolerance` of its own scale. A tensor that is zero up to rounding (the
 * gradient of a key bias, which softmax cancels) is held to the scale of the whole set instead:
 * 1e-6 of the largest magnitude in it.
 */
function assertClose(
  got: Map<string, Float32Array>,
  want: Map<string, Float32Array>,
  tolerance: number,
  what: string,
): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same tensors`);
  const overall = Math.max(...[...want.values()].map((w) => Math.max(...Array.from(w, Math.abs))));
  for (const [name, w] of want) {
    const scale = Math.max(...Array.from(w, Math.abs));
    const err = relativeError(got.get(name)!, w, Math.max(scale, 1e-6 * overall));
    assert.ok(
      err <= tolerance,
      `${what} ${name}: relative error ${err.toExponential(2)} > ${tolerance} (scale ${scale.toExponential(2)})`,
    );
  }
}

const OPTIMIZERS: Record<string, OptimizerConfig> = {
  'sgd with momentum': { name: 'sgd', learningRate: 0.05, momentum: 0.9 },
  adam: { name: 'adam', learningRate: 0.01 },
  adamw: { name: 'adamw', learningRate: 0.01, weightDecay: 0.1 },
  rmsprop: { name: 'rmsprop', learningRate: 0.01, rho: 0.9 },
  proposed: { name: 'proposed', learningRate: 0.01, weightDecay: 0.1, adaptiveLr: true, adaptiveMomentum: true },
  'proposed without adaptive learning rate': {
    name: 'proposed',
    learningRate: 0.01,
    weightDecay: 0.1,
    adaptiveLr: false,
    adaptiveMomentum: true,
  },
  'proposed without adaptive momentum': {
    name: 'proposed',
    learningRate: 0.01,
    weightDecay: 0.1,
    adaptiveLr: true,
    adaptiveMomentum: false,
  },
};

/**
 * Parameters (matrices, which decay, and a bias, which does not) after two updates of `config`
 * with fixed gradients, clipped by global norm so the norm's sum over many tensors runs too.
 * Fixed, well-scaled gradients compare the optimizers' arithmetic; a model's gradients have
 * elements that are zero up to rounding (a key bias), which Adam's normalisation would blow up
 * into steps of random sign on either backend.
 */
async function afterUpdates(config: OptimizerConfig, step: number): Promise<Map<string, Float32Array>> {
  const shapes: Record<string, number[]> = { bias: [8] };
  for (let i = 0; i < 20; i++) shapes[`w${String(i).padStart(2, '0')}`] = [6, 8];
  const variables = Object.entries(shapes).map(([name, shape], i) =>
    tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 10 + i), true, `opt-${step}-${name}`),
  );
  const optimizer = makeOptimizer({ ...config, clipNorm: 2 }, 2);
  try {
    for (let s = 0; s < 2; s++) {
      tf.tidy(() => {
        const grads = Object.fromEntries(
          variables.map((v, i) => [v.name, tf.randomNormal(v.shape, 0, 0.5, 'float32', 1000 + 100 * s + i)]),
        );
        optimizer.apply(grads).gradNorm?.dispose();
      });
    }
    const out = new Map<string, Float32Array>();
    for (const [i, name] of Object.keys(shapes).entries()) out.set(name, (await variables[i]!.data()) as Float32Array);
    return out;
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
}

/** Runs `fn` with every synchronous read of a tensor throwing, as it would for any GPU tensor. */
async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<T> {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(['dataSync', 'arraySync', 'bufferSync'].map((k) => [k, proto[k]]));
  for (const name of Object.keys(saved)) {
    proto[name] = function (this: tf.Tensor) {
      throw new Error(`synchronous ${name}() of a ${this.shape.join('x') || 'scalar'} tensor on ${tf.getBackend()}`);
    };
  }
  try {
    return await fn();
  } finally {
    Object.assign(proto, saved);
  }
}

after(() => releaseWebGpu());

describe('webgpu backend (lavapipe in CI)', () => {
  for (const [arch, make] of Object.entries(ARCHITECTURES)) {
    it(`${arch}: losses and gradients of both objectives agree with wasm to 1e-4 relative`, async (t) => {
      if (await skipWithoutWebGpu(t)) return;
      await chooseBackend(['wasm']);
      const want = await lossesAndGradients(make);
      const gpu = await chooseBackend(['webgpu']);
      assert.equal(tf.getBackend(), 'webgpu');
      assert.ok(gpu.adapter !== undefined && gpu.adapter.vendor.length > 0, 'the adapter is described');
      assertClose(await lossesAndGradients(make), want, 1e-4, arch);
    });
  }

  for (const [name, config] of Object.entries(OPTIMIZERS)) {
    it(`${name}: two updates agree with wasm to 1e-4 relative`, async (t) => {
      if (await skipWithoutWebGpu(t)) return;
      await chooseBackend(['wasm']);
      const want = await afterUpdates(config, 1);
      await chooseBackend(['webgpu']);
      assertClose(await afterUpdates(config, 2), want, 1e-4, name);
    });
  }

  it('training, validation, evaluation and saving never read a tensor synchronously', async (t) => {
    if (await skipWithoutWebGpu(t)) return;
    await chooseBackend(['webgpu']);
    const data = task(12, 3);
    for (const [arch, make] of Object.entries(ARCHITECTURES)) {
      const model = make();
      try {
        await withoutSyncReads(async () => {
          const options = {
            batchSize: 6,
            epochs: 1,
            seed: 1,
            padId: SPECIAL.pad,
            optimizer: { name: 'adamw', learningRate: 1e-3, clipNorm: 1 } as const,
          };
          await pretrainLM(model, data.ids, data.ids, options);
          const curve = await trainClassifier(model, data, data, options);
          assert.equal(curve.steps, 2, arch);
          const scored = await evaluateClassifier(model, data, { batchSize: 6, padId: SPECIAL.pad });
          assert.equal(scored.predictions.length, data.ids.length, arch);
          assert.ok(
            Number.isFinite(
              (await evaluatePerplexity(model, data.ids, { batchSize: 6, padId: SPECIAL.pad })).perplexity,
            ),
            arch,
          );
          assert.ok((await saveWeights(model.variables)).length > 0, arch);
        });
      } finally {
        model.dispose();
      }
    }
  });

  it('training is bit-identical from run to run (no atomics decide an order of additions)', async (t) => {
    if (await skipWithoutWebGpu(t)) return;
    await chooseBackend(['webgpu']);
    const data = task(24, 4);
    for (const [arch, make] of Object.entries(ARCHITECTURES)) {
      const weights: Uint8Array[] = [];
      for (let run = 0; run < 2; run++) {
        const model = make();
        try {
          const options = {
            batchSize: 8,
            epochs: 1,
            seed: 2,
            padId: SPECIAL.pad,
            optimizer: { name: 'adam', learningRate: 1e-2 } as const,
          };
          await pretrainLM(model, data.ids, data.ids.slice(0, 4), options);
          await trainClassifier(model, data, { ids: data.ids.slice(0, 4), labels: data.labels.slice(0, 4) }, options);
          weights.push(await saveWeights(model.variables));
        } finally {
          model.dispose();
        }
      }
      assert.deepEqual(weights[1], weights[0], `${arch}: two runs, the same bytes`);
    }
  });

  it('the patched read would have caught a synchronous read', async (t) => {
    if (await skipWithoutWebGpu(t)) return;
    await chooseBackend(['webgpu']);
    const x = tf.ones([2, 2]);
    await assert.rejects(
      withoutSyncReads(async () => x.dataSync()),
      /synchronous dataSync\(\) of a 2x2 tensor on webgpu/,
    );
    x.dispose();
  });
});
