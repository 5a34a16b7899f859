import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { evaluateClassifier, evaluatePerplexity } from '../src/ml/evaluate.ts';
import type { HeldOutNll, ParamSubset } from '../src/ml/models/language-model.ts';
import { type T5Config, SMALL_T5, validateT5Config } from '../src/ml/models/t5-config.ts';
import { T5, corruptSpans, randomSpansNoiseMask } from '../src/ml/models/t5.ts';
import { Rng } from '../src/ml/rng.ts';
import { type TrainOptions, pretrainLM, trainClassifier } from '../src/ml/train.ts';
import { disposing } from './helpers/disposing.ts';
import { subsetNames } from './helpers/subset-names.ts';

// Vocabulary of the synthetic tasks: 0 pad (also the decoder start), 1 eos, 2..11 sentinels,
// 12.. words.
const PAD = 0;
const EOS = 1;
const SENTINELS = Array.from({ length: 10 }, (_, i) => 2 + i);
const SPECIAL = { pad: PAD, eos: EOS, sentinels: SENTINELS };
const FIRST_WORD = 12;
const A = 20;
const B = 21;
const LABELS = [
  [A, EOS],
  [B, EOS],
];

const config: T5Config = {
  ...SMALL_T5,
  vocabSize: 64,
  contextLength: 24,
  dModel: 32,
  dKv: 8,
  heads: 4,
  dFF: 64,
  maxTargetLength: 4,
};

/** The options every training run here shares (batches of 16, pad id 0), with its own schedule and seed. */
const training = (epochs: number, name: 'adam' | 'adamw', learningRate: number, seed: number): TrainOptions => ({
  batchSize: 16,
  epochs,
  optimizer: { name, learningRate },
  seed,
  padId: PAD,
});

/** Texts (framed: words then eos) that mention A or B once among filler words; the label says which. */
function keywordTask(n: number, seed: number): { ids: number[][]; labels: number[] } {
  const rng = new Rng(seed);
  const fillers = Array.from({ length: config.vocabSize - FIRST_WORD }, (_, i) => FIRST_WORD + i).filter(
    (t) => t !== A && t !== B,
  );
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const ids = labels.map((label) => {
    const len = 6 + Math.floor(rng.uniform() * 12);
    const words = Array.from({ length: len }, () => fillers[Math.floor(rng.uniform() * fillers.length)]!);
    words.splice(Math.floor(rng.uniform() * (len + 1)), 0, label ? B : A);
    return [...words, EOS];
  });
  return { ids, labels };
}

/** Texts with structure to recover: runs of consecutive word ids, so a hidden span follows from its neighbours. */
function countingTexts(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const words = config.vocabSize - FIRST_WORD;
  return Array.from({ length: n }, () => {
    const len = 12 + Math.floor(rng.uniform() * 11);
    const start = Math.floor(rng.uniform() * words);
    return [...Array.from({ length: len }, (_, i) => FIRST_WORD + ((start + i) % words)), EOS];
  });
}

const toTensors = (rows: number[][], masks: number[][]): { ids: tf.Tensor2D; mask: tf.Tensor2D } => ({
  ids: tf.tensor2d(rows, undefined, 'int32'),
  mask: tf.tensor2d(masks),
});

before(async () => {
  await chooseBackend(['wasm']);
});

describe('T5 span corruption', () => {
  it('hides about 15% of the tokens in spans of mean length 3, sentinels in order, and the spans put back give the text', () => {
    const rng = new Rng(11);
    let hidden = 0;
    let total = 0;
    let spans = 0;
    for (let n = 0; n < 400; n++) {
      const length = 2 + (n % 62);
      const text = Array.from({ length }, () => FIRST_WORD + Math.floor(rng.uniform() * 50));
      const { input, target } = corruptSpans(text, SENTINELS, EOS, rng);
      assert.equal(input.at(-1), EOS);
      assert.equal(target.at(-1), EOS);
      const inputSentinels = input.filter((t) => SENTINELS.includes(t));
      const targetSentinels = target.filter((t) => SENTINELS.includes(t));
      assert.deepEqual(
        inputSentinels,
        SENTINELS.slice(0, inputSentinels.length),
        'input sentinels in order from <extra_id_0>',
      );
      assert.deepEqual(targetSentinels, inputSentinels, 'one target span per input sentinel, same order');
      assert.equal(target[0], SENTINELS[0]);
      // Put the spans back.
      const restored: number[] = [];
      for (const token of input.slice(0, -1)) {
        if (!SENTINELS.includes(token)) {
          restored.push(token);
          continue;
        }
        let at = target.indexOf(token) + 1;
        assert.ok(at > 0 && !SENTINELS.includes(target[at]!) && target[at] !== EOS, 'every span is non-empty');
        while (!SENTINELS.includes(target[at]!) && target[at] !== EOS) restored.push(target[at++]!);
      }
      assert.deepEqual(restored, text);
      hidden += target.length - 1 - targetSentinels.length;
      total += length;
      spans += targetSentinels.length;
    }
    assert.ok(Math.abs(hidden / total - 0.15) < 0.01, `noise fraction ${hidden / total}`);
    assert.ok(Math.abs(hidden / spans - 3) < 0.5, `mean span length ${hidden / spans}`);
  });

  it('follows Hugging Face random_spans_noise_mask counts, starts clean, and caps spans at the sentinels', () => {
    const rng = new Rng(3);
    for (const [length, noise, spanCount] of [
      [63, 9, 3], // round(9.45) = 9 noise tokens, round(9 / 3) = 3 spans
      [10, 2, 1], // round(1.5) = 2 (half to even), round(2 / 3) = 1
      [30, 4, 1], // round(4.5) = 4 (half to even), round(4 / 3) = 1
      [2, 1, 1], // at least one noise and one clean token
    ] as const) {
      const mask = randomSpansNoiseMask(length, rng);
      assert.equal(mask.length, length);
      assert.equal(mask.filter(Boolean).length, noise, `noise tokens of ${length}`);
      assert.equal(mask.filter((m, i) => m && (i === 0 || !mask[i - 1])).length, spanCount, `spans of ${length}`);
      assert.equal(mask[0], false);
      assert.equal(mask.at(-1), true, "Hugging Face's layout ends with a noise span");
    }
    assert.deepEqual(randomSpansNoiseMask(1, rng), [false]);
    const capped = randomSpansNoiseMask(63, rng, 1);
    assert.equal(capped.filter((m, i) => m && (i === 0 || !capped[i - 1])).length, 1);
    assert.equal(capped.filter(Boolean).length, 9);
  });

  it('scores each row on its real tokens, the same way every time without a seed, differently per training seed', async () => {
    // Texts of 30 tokens or more: with fewer, Hugging Face's sampler makes a single span, which
    // always ends the text, so the seed would have nothing to choose.
    await disposing(new T5({ ...config, contextLength: 64 }, SPECIAL, LABELS, 4), async (model) => {
      const texts = [40, 55, 33].map((n, r) => [
        ...Array.from({ length: n }, (_, i) => FIRST_WORD + ((i * (r + 3)) % 50)),
        EOS,
      ]);
      const time = Math.max(...texts.map((t) => t.length)) + 2;
      const rows = texts.map((t) => [
        ...t,
        ...Array.from({ length: time - t.length }, (_, i) => FIRST_WORD + ((i * 7) % 40)),
      ]);
      const masks = texts.map((t) => Array.from({ length: time }, (_, j) => (j < t.length ? 1 : 0)));
      const score = async (r: number[][], m: number[][]): Promise<HeldOutNll> => {
        const { ids, mask } = toTensors(r, m);
        const out = await model.heldOutNll(ids, mask);
        tf.dispose([ids, mask]);
        return out;
      };
      const batch = await score(rows, masks);
      assert.ok(batch.tokens > 0 && Number.isFinite(batch.nll));
      // The evaluation corruption is fixed: scoring twice gives the same numbers.
      assert.deepEqual(await score(rows, masks), batch, 'held-out scoring is deterministic');
      // What stands in the pad slots, and how many there are, does not matter.
      const longest = Math.max(...texts.map((x) => x.length));
      const trimmed = await score(
        texts.map((t) => [...t, ...new Array<number>(longest - t.length).fill(PAD)]),
        texts.map((t) => Array.from({ length: longest }, (_, j) => (j < t.length ? 1 : 0))),
      );
      assert.equal(trimmed.tokens, batch.tokens);
      assert.ok(Math.abs(trimmed.nll - batch.nll) < 1e-3 * batch.nll, `${trimmed.nll} vs ${batch.nll}`);
      const loss = tf.tidy(() => {
        const { ids, mask } = toTensors(rows, masks);
        return model.lmLoss(ids, mask).dataSync()[0]!;
      });
      assert.ok(Math.abs(loss - batch.nll / batch.tokens) < 1e-4 * loss, 'lmLoss without a seed is the held-out mean');
      const seeded = (seed: number): number =>
        tf.tidy(() => {
          const { ids, mask } = toTensors(rows, masks);
          return model.lmLoss(ids, mask, { dropoutSeed: seed }).dataSync()[0]!;
        });
      assert.equal(seeded(9), seeded(9));
      assert.notEqual(seeded(9), seeded(10), 'a training seed draws other spans');
    });
  });

  it('needs sentinels for the language-model objectives, with a clear error', async () => {
    await disposing(new T5(config, { pad: PAD, eos: EOS }, LABELS, 1), async (model) => {
      const { ids, mask } = toTensors([[12, 13, 14, EOS]], [[1, 1, 1, 1]]);
      assert.throws(() => model.lmLoss(ids, mask), /needs sentinel tokens/);
      await assert.rejects(async () => model.heldOutNll(ids, mask), /needs sentinel tokens/);
      tf.dispose([ids, mask]);
    });
  });
});

describe('T5 encoder-decoder', () => {
  it('pre-training by span corruption lowers the held-out span-corruption perplexity', async () => {
    await disposing(new T5(config, SPECIAL, LABELS, 1), async (model) => {
      const train = countingTexts(160, 1);
      const validation = countingTexts(32, 2);
      const eval0 = await evaluatePerplexity(model, validation, { batchSize: 32, padId: PAD });
      const curve = await pretrainLM(model, train, validation, training(3, 'adamw', 3e-3, 1));
      const last = curve.epochs.at(-1)!.validation;
      assert.equal(last.tokens, eval0.tokens, 'the evaluation corruption is fixed');
      // The untrained model's N(0, 1) lm_head makes its initial perplexity huge; ask for a model
      // that has learned the runs, far below a uniform guess over the vocabulary.
      const perplexities = [eval0.perplexity, ...curve.epochs.map((e) => e.validation.perplexity)];
      assert.ok(
        perplexities.every((p, i) => i === 0 || p < perplexities[i - 1]!),
        `perplexity per epoch ${perplexities.join(', ')}`,
      );
      assert.ok(last.perplexity < config.vocabSize / 4, `perplexity ${eval0.perplexity} -> ${last.perplexity}`);
      assert.ok(curve.lossCurve.at(-1)! < curve.lossCurve[0]!);
    });
  });

  it('fine-tunes to write the right label (exact-match accuracy >= 0.9)', async () => {
    await disposing(new T5(config, SPECIAL, LABELS, 2), async (model) => {
      const data = keywordTask(240, 3);
      const train = { ids: data.ids.slice(0, 200), labels: data.labels.slice(0, 200) };
      const validation = { ids: data.ids.slice(200), labels: data.labels.slice(200) };
      const untrained = await evaluateClassifier(model, validation, { batchSize: 40, padId: PAD });
      assert.ok(untrained.predictions.includes(-1), 'an untrained model writes text that is no label');
      const curve = await trainClassifier(model, train, validation, training(4, 'adamw', 3e-3, 2));
      const last = curve.epochs.at(-1)!.validation;
      assert.ok(
        last.accuracy >= 0.9,
        `validation accuracy ${last.accuracy} (per epoch ${curve.epochs.map((e) => e.validation.accuracy).join(', ')})`,
      );
      assert.ok(last.loss < untrained.loss);
    });
  });

  it('is deterministic: same seed same weights and training, another seed other weights', async () => {
    const withDropout = { ...config, dropout: 0.1 };
    const data = keywordTask(32, 4);
    let names: string[] = [];
    const trained = async (seed: number): Promise<Float32Array[]> => {
      const model = new T5(withDropout, SPECIAL, LABELS, seed);
      names = [...model.variables.keys()];
      const initial = [...model.variables.values()].map((v) => v.dataSync().slice() as Float32Array);
      await trainClassifier(model, data, data, training(1, 'adam', 1e-3, 7));
      await pretrainLM(model, data.ids, data.ids, training(1, 'adam', 1e-3, 7));
      const out = [...initial, ...[...model.variables.values()].map((v) => v.dataSync().slice() as Float32Array)];
      model.dispose();
      return out;
    };
    const a = await trained(1);
    const b = await trained(1);
    const c = await trained(2);
    assert.deepEqual(a, b);
    const half = a.length / 2;
    // Norm gains start at 1 whatever the seed; every other tensor is drawn from it.
    const drawn = names.map((n) => !/\/ln(\d|_f)$/.test(n));
    assert.ok(
      a.slice(0, half).every((t, i) => !drawn[i] || t.some((x, j) => x !== c[i]![j])),
      'every drawn tensor differs under another seed',
    );
    assert.ok(
      a.slice(half).some((t, i) => t.some((x, j) => x !== a[i]![j])),
      'training moved the weights',
    );
  });

  it('leaks no tensors: flat count across training steps, and evaluation frees what it makes', async () => {
    await disposing(new T5({ ...config, dropout: 0.1 }, SPECIAL, LABELS, 3), async (model) => {
      const data = keywordTask(64, 5);
      const counts: number[] = [];
      const onProgress = (p: { phase: string }): void => {
        if (p.phase === 'train') counts.push(tf.memory().numTensors);
      };
      await trainClassifier(model, data, data, { ...training(1, 'adamw', 1e-3, 3), onProgress });
      await pretrainLM(model, data.ids, data.ids, { ...training(1, 'adamw', 1e-3, 3), onProgress });
      // Each run's optimizer creates its state on its first update and frees it at the end.
      assert.equal(new Set(counts.slice(1, 4)).size, 1, `classifier steps: ${counts.join(' ')}`);
      assert.equal(new Set(counts.slice(5)).size, 1, `pre-training steps: ${counts.join(' ')}`);
      const start = tf.memory().numTensors;
      const { ids, mask } = toTensors([data.ids[0]!], [data.ids[0]!.map(() => 1)]);
      await model.predictClasses(ids, mask);
      await model.heldOutNll(ids, mask);
      tf.dispose([ids, mask]);
      assert.equal(tf.memory().numTensors, start);
    });
  });

  it('pads invariantly: encoder and decoder padding, whatever its ids, leave the real logits unchanged', async () => {
    await disposing(new T5(config, SPECIAL, LABELS, 6), async (model) => {
      const enc = [14, 33, 21, 40, 17, EOS];
      const dec = [PAD, 30, 31];
      // The logits of `enc` alone, unpadded, with a 3-token decoder input.
      const unpadded = (decoder: number[]): number[] =>
        tf.tidy(() =>
          Array.from(
            model
              .logits(
                tf.tensor2d([enc], undefined, 'int32'),
                tf.ones([1, 6]),
                tf.tensor2d([decoder], undefined, 'int32'),
                tf.ones([1, 3]),
              )
              .dataSync(),
          ),
        );
      const alone = unpadded(dec);
      const padded = tf.tidy(() => {
        const encIds = tf.tensor2d(
          [
            [...enc, 50, 51, 52, 53],
            [12, 13, 14, 15, 16, 17, 18, 19, 20, EOS],
          ],
          undefined,
          'int32',
        );
        const encMask = tf.tensor2d([
          [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
          [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        ]);
        const decIds = tf.tensor2d(
          [
            [...dec, 44, 45],
            [PAD, 22, 23, 24, 25],
          ],
          undefined,
          'int32',
        );
        const decMask = tf.tensor2d([
          [1, 1, 1, 0, 0],
          [1, 1, 1, 1, 1],
        ]);
        const all = model.logits(encIds, encMask, decIds, decMask);
        return Array.from(tf.slice(all, [0, 0, 0], [1, 3, config.vocabSize]).dataSync());
      });
      assert.equal(padded.length, alone.length);
      const worst = Math.max(...alone.map((x, i) => Math.abs(x - padded[i]!)));
      assert.ok(worst < 1e-4, `padding changed the logits by ${worst}`);
      // The causal decoder: a later decoder token does not change earlier positions.
      const changedFuture = unpadded([PAD, 30, 50]);
      const V = config.vocabSize;
      assert.ok(Math.max(...alone.slice(0, 2 * V).map((x, i) => Math.abs(x - changedFuture[i]!))) < 1e-5);
      assert.ok(Math.max(...alone.slice(2 * V).map((x, i) => Math.abs(x - changedFuture[2 * V + i]!))) > 1e-3);
    });
  });

  it('predicts by greedy decoding, batched, and matches generated text against the labels exactly', async () => {
    await disposing(new T5(config, SPECIAL, LABELS, 8), async (model) => {
      const data = keywordTask(48, 9);
      await trainClassifier(model, data, data, training(3, 'adamw', 3e-3, 8));
      const rows = data.ids.slice(0, 12);
      const time = Math.max(...rows.map((r) => r.length));
      const { ids, mask } = toTensors(
        rows.map((r) => [...r, ...new Array<number>(time - r.length).fill(PAD)]),
        rows.map((r) => Array.from({ length: time }, (_, j) => (j < r.length ? 1 : 0))),
      );
      const batched = await model.predictClasses(ids, mask);
      tf.dispose([ids, mask]);
      const single: (number | undefined)[] = [];
      for (const r of rows) {
        const t = toTensors([r], [r.map(() => 1)]);
        const [p] = await model.predictClasses(t.ids, t.mask);
        tf.dispose([t.ids, t.mask]);
        single.push(p);
      }
      assert.deepEqual(batched, single);
      assert.ok(batched.every((p) => p === -1 || p === 0 || p === 1));
    });
  });

  it('selects parameter subsets by stack, and names its parameters stably', async () => {
    await disposing(
      new T5({ ...config, encoderLayers: 2, decoderLayers: 3, tieEmbeddings: false }, SPECIAL, LABELS, 1),
      async (model) => {
        const names = (s: ParamSubset): string[] => subsetNames(model, s);
        assert.deepEqual(names('head'), ['dec/ln_f', 'lm_head']);
        const last1 = names('last-1');
        assert.ok(
          ['enc/b1/attn/q', 'enc/b1/ff/wi0', 'dec/b2/cross/k', 'dec/b2/ln3', 'enc/ln_f', 'dec/ln_f', 'lm_head'].every(
            (n) => last1.includes(n),
          ),
        );
        assert.ok(
          !last1.some(
            (n) => n.startsWith('enc/b0/') || n.startsWith('dec/b1/') || n === 'shared' || n.endsWith('rel_bias'),
          ),
        );
        const last2 = names('last-2');
        assert.ok(
          last2.includes('enc/rel_bias') && !last2.includes('dec/rel_bias'),
          'a table comes with its first block',
        );
        assert.ok(names('last-3').includes('dec/rel_bias'));
        assert.equal(names('all').length, model.variables.size);
        assert.throws(() => model.trainableVariables('last-4'), /asks for 4 blocks/);
        assert.deepEqual(model.variables.get('lm_head')!.shape, [32, 64]);
        assert.deepEqual(model.variables.get('dec/b0/cross/o')!.shape, [32, 32]);
        const { vocabSize: V, dModel: d, dKv, heads, dFF, relativeBuckets: R } = config;
        const attn = 4 * d * heads * dKv;
        const ff = 3 * d * dFF;
        assert.equal(
          model.parameterCount(),
          V * d + 2 * R * heads + 2 * (attn + ff + 2 * d) + 3 * (2 * attn + ff + 3 * d) + 2 * d + d * V,
        );
      },
    );
    await disposing(new T5({ ...config, tieEmbeddings: true }, SPECIAL, LABELS, 1), (tied) => {
      assert.deepEqual(subsetNames(tied, 'head'), ['dec/ln_f', 'shared']);
      assert.ok(!tied.variables.has('lm_head'));
    });
  });

  it('validates its configuration, special tokens and label targets', async () => {
    validateT5Config(SMALL_T5);
    assert.throws(() => validateT5Config({ ...config, dKv: 0 }), /dKv must be a positive integer/);
    assert.throws(() => validateT5Config({ ...config, feedForward: 'swiglu' as 'relu' }), /feedForward/);
    assert.throws(
      () => validateT5Config({ ...config, relativeBuckets: 8, relativeMaxDistance: 4 }),
      /relativeMaxDistance/,
    );
    assert.throws(() => new T5(config, { pad: PAD }, LABELS, 1), /eos/);
    const aTarget = [A, EOS];
    const refusedTargets: [number[][], RegExp][] = [
      [[aTarget], /1 label targets for 2 classes/],
      [[aTarget, [A, EOS]], /same tokens/],
      [[aTarget, [B]], /must end with the eos/],
      [[aTarget, [B, B, B, B, EOS]], /maxTargetLength/],
    ];
    for (const [targets, message] of refusedTargets) assert.throws(() => new T5(config, SPECIAL, targets, 1), message);
    assert.throws(() => new T5(config, { ...SPECIAL, sentinels: [2, EOS] }, LABELS, 1), /sentinel/);
    const model = new T5(config, SPECIAL, LABELS, 1);
    const long = tf.ones([1, 25], 'int32') as tf.Tensor2D;
    await assert.rejects(
      async () => model.predictClasses(long, tf.ones([1, 25])),
      /25 positions but the context length is 24/,
    );
    long.dispose();
    model.dispose();
  });
});
