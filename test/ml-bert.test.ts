import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { evaluateClassifier, evaluatePerplexity } from '../src/ml/evaluate.ts';
import { Bert, planMaskedLm } from '../src/ml/models/bert.ts';
import { type BertConfig, SMALL_BERT, validateBertConfig } from '../src/ml/models/bert-config.ts';
import type { ParamSubset, SpecialTokens } from '../src/ml/models/language-model.ts';
import { geluErf } from '../src/ml/ops/gelu-erf.ts';
import { makeOptimizer } from '../src/ml/optimizers/make-optimizer.ts';
import { Rng } from '../src/ml/rng.ts';
import { pretrainLM, trainClassifier } from '../src/ml/train.ts';
import { subsetNames } from './helpers/subset-names.ts';

const SPECIAL: SpecialTokens = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
const FILLER_FIRST = 5;
const TOPICS = 3;
const TOPIC_SIZE = 10;
const KEYWORD_A = 35;
const KEYWORD_B = 36;

const config: BertConfig = {
  vocabSize: 40,
  contextLength: 16,
  typeVocabSize: 2,
  layers: 2,
  dModel: 32,
  heads: 2,
  dFF: 64,
  numClasses: 2,
  dropout: 0,
  layerNormEps: 1e-12,
};

/**
 * Framed texts (cls ... sep) a masked LM can learn from and a classifier must read: each text's
 * filler comes from one of three topics of ten tokens, so the other tokens predict a masked one
 * (pseudo-perplexity can fall from about 40 towards 10), and one keyword at a random place alone
 * decides the label, so the pooled first token has to attend to it.
 */
function keywordTask(n: number, seed: number): { ids: number[][]; labels: number[] } {
  const rng = new Rng(seed);
  const pick = (k: number): number => Math.floor(rng.uniform() * k);
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const ids = labels.map((label) => {
    const len = 6 + pick(7);
    const topic = pick(TOPICS);
    const words = Array.from({ length: len }, () => FILLER_FIRST + topic * TOPIC_SIZE + pick(TOPIC_SIZE));
    words.splice(pick(len + 1), 0, label ? KEYWORD_A : KEYWORD_B);
    return [SPECIAL.cls!, ...words, SPECIAL.sep!];
  });
  return { ids, labels };
}

before(async () => {
  await chooseBackend(['wasm']);
});

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]!) <= tol);

function batch(rows: number[][], lengths: number[]): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  return {
    ids: tf.tensor2d(rows, undefined, 'int32'),
    mask: tf.tensor2d(
      rows.map((r, i) => r.map((_, j) => (j < lengths[i]! ? 1 : 0))),
      undefined,
      'float32',
    ),
  };
}

const values = (model: Bert): Map<string, Float32Array> =>
  new Map([...model.variables].map(([n, v]) => [n, v.dataSync() as Float32Array]));

describe('BERT encoder', () => {
  it('pre-training (MLM) lowers the pseudo-perplexity; fine-tuning then learns the keyword task (accuracy >= 0.9)', async () => {
    const data = keywordTask(300, 11);
    const train = { ids: data.ids.slice(0, 240), labels: data.labels.slice(0, 240) };
    const heldOut = { ids: data.ids.slice(240), labels: data.labels.slice(240) };
    const model = new Bert(config, SPECIAL, 1);
    try {
      const start = await evaluatePerplexity(model, heldOut.ids, { batchSize: 32, padId: SPECIAL.pad });
      // Near-zero initial logits: about uniform over the vocabulary.
      assert.ok(
        Math.abs(start.perplexity / config.vocabSize - 1) < 0.2,
        `initial pseudo-perplexity ${start.perplexity}`,
      );
      const lm = await pretrainLM(model, train.ids, heldOut.ids, {
        batchSize: 16,
        epochs: 8,
        optimizer: { name: 'adamw', learningRate: 5e-3 },
        seed: 1,
        padId: SPECIAL.pad,
      });
      const end = lm.epochs.at(-1)!.validation;
      // Each masked token scored: one per filler/keyword token of every held-out row.
      assert.equal(
        end.tokens,
        heldOut.ids.reduce((n, s) => n + s.length - 2, 0),
      );
      assert.ok(end.perplexity < start.perplexity / 2, `pseudo-perplexity ${start.perplexity} -> ${end.perplexity}`);
      assert.ok(lm.epochs.at(-1)!.trainLoss < lm.epochs[0]!.trainLoss);

      const ft = await trainClassifier(model, train, heldOut, {
        batchSize: 16,
        epochs: 6,
        optimizer: { name: 'adamw', learningRate: 3e-3, schedule: { kind: 'linear', warmupSteps: 5 } },
        seed: 1,
        padId: SPECIAL.pad,
      });
      const last = ft.epochs.at(-1)!.validation;
      assert.ok(last.accuracy >= 0.9, `held-out accuracy ${last.accuracy}`);
      assert.ok(last.macroF1 >= 0.9, `held-out macro F1 ${last.macroF1}`);
      assert.equal(
        (await evaluateClassifier(model, heldOut, { batchSize: 7, padId: SPECIAL.pad })).accuracy,
        last.accuracy,
      );
    } finally {
      model.dispose();
    }
  });

  it('same seeds give identical weights after training steps; another seed gives others', async () => {
    const dropConfig = { ...config, dropout: 0.1 };
    const data = keywordTask(48, 3);
    const run = async (modelSeed: number, trainSeed: number): Promise<Map<string, Float32Array>> => {
      const model = new Bert(dropConfig, SPECIAL, modelSeed);
      try {
        const options = {
          batchSize: 16,
          epochs: 1,
          optimizer: { name: 'adam' as const, learningRate: 1e-3 },
          seed: trainSeed,
          padId: SPECIAL.pad,
        };
        await pretrainLM(model, data.ids, data.ids.slice(0, 4), options);
        await trainClassifier(model, data, { ids: data.ids.slice(0, 4), labels: data.labels.slice(0, 4) }, options);
        return values(model);
      } finally {
        model.dispose();
      }
    };
    const a = await run(1, 1);
    const b = await run(1, 1);
    for (const [name, v] of a) assert.deepEqual(b.get(name), v, `${name} differs between identical runs`);
    const otherModel = await run(2, 1);
    assert.ok(!close(otherModel.get('l0/attn/q/w')!, a.get('l0/attn/q/w')!, 0), 'another model seed');
    const otherTraining = await run(1, 2);
    // The initial weights are the same, so only training (shuffle, dropout, masking) separates them.
    assert.ok(!close(otherTraining.get('l1/ffn/out/w')!, a.get('l1/ffn/out/w')!, 0), 'another training seed');
  });

  it('a training step leaks no tensors (MLM and classification), nor does evaluation', async () => {
    const model = new Bert({ ...config, dropout: 0.1 }, SPECIAL, 4);
    // One optimizer per objective, as pretrainLM and trainClassifier do: tfjs optimizers keep
    // their state by position in the gradient list, and the two objectives reach different heads.
    const optimizers = {
      mlm: makeOptimizer({ name: 'adamw', learningRate: 1e-3 }, 10),
      cls: makeOptimizer({ name: 'adamw', learningRate: 1e-3 }, 10),
    };
    try {
      const data = keywordTask(8, 5);
      const rows = data.ids.map((s) => [...s, ...new Array<number>(config.contextLength - s.length).fill(SPECIAL.pad)]);
      const lengths = data.ids.map((s) => s.length);
      const step = (kind: 'mlm' | 'cls', seed: number): void => {
        const loss = tf.tidy(() => {
          const { ids, mask } = batch(rows, lengths);
          const labels = tf.tensor1d(data.labels, 'int32');
          const f = (): tf.Scalar =>
            kind === 'mlm'
              ? model.lmLoss(ids, mask, { dropoutSeed: seed })
              : model.classificationLoss(ids, mask, labels, { dropoutSeed: seed });
          const { value, grads } = tf.variableGrads(f, model.trainableVariables('all'));
          optimizers[kind].apply(grads);
          return value;
        });
        assert.ok(Number.isFinite(loss.dataSync()[0]!));
        loss.dispose();
      };
      // The first steps create the optimizer's slots; after that the count must stay flat.
      step('mlm', 1);
      step('cls', 2);
      const count = tf.memory().numTensors;
      for (let s = 3; s < 7; s++) step(s % 2 ? 'mlm' : 'cls', s);
      assert.equal(tf.memory().numTensors, count, 'tensors leaked by training steps');
      const { ids, mask } = batch(rows, lengths);
      const held = tf.memory().numTensors;
      await model.heldOutNll(ids, mask, { tokensPerForward: 40 });
      await model.predictClasses(ids, mask);
      model.classLogits(ids, mask).dispose();
      model.mlmLogits(ids, mask).dispose();
      model.lmLoss(ids, mask).dispose();
      assert.equal(tf.memory().numTensors, held, 'tensors leaked by evaluation');
      tf.dispose([ids, mask]);
    } finally {
      optimizers.mlm.dispose();
      optimizers.cls.dispose();
      model.dispose();
    }
  });

  it('padding never changes a row: not its logits, not its pseudo-log-likelihood', async () => {
    const model = new Bert(config, SPECIAL, 6);
    try {
      const seq = [2, 7, 8, 9, 35, 12, 3];
      const alone = batch([seq], [seq.length]);
      // The same row with a longer neighbour, its pad slots holding random ids (specials included).
      const other = [2, 20, 21, 22, 23, 24, 25, 26, 27, 36, 3];
      const padded = batch(
        [
          [...other, 14, 0, 4],
          [...seq, 31, 2, 35, 0, 1, 19, 3],
        ],
        [other.length, seq.length],
      );
      const logits = tf.tidy(() => [
        model.classLogits(alone.ids, alone.mask).dataSync(),
        model.classLogits(padded.ids, padded.mask).dataSync(),
      ]);
      assert.ok(close(logits[0]!, logits[1]!.slice(2, 4)), `${logits[0]} vs ${logits[1]!.slice(2, 4)}`);
      const mlm = tf.tidy(() => [
        model.mlmLogits(alone.ids, alone.mask).arraySync()[0]!,
        model.mlmLogits(padded.ids, padded.mask).arraySync()[1]!,
      ]);
      for (let t = 0; t < seq.length; t++) assert.ok(close(mlm[0]![t]!, mlm[1]![t]!), `MLM logits at ${t}`);
      const pllAlone = await model.heldOutNll(alone.ids, alone.mask);
      const otherAlone = batch([other], [other.length]);
      const pllOther = await model.heldOutNll(otherAlone.ids, otherAlone.mask);
      const pllBoth = await model.heldOutNll(padded.ids, padded.mask);
      assert.equal(pllAlone.tokens, seq.length - 2);
      assert.equal(pllBoth.tokens, pllAlone.tokens + pllOther.tokens);
      assert.ok(
        Math.abs(pllBoth.nll - pllAlone.nll - pllOther.nll) < 1e-3,
        `${pllBoth.nll} vs ${pllAlone.nll} + ${pllOther.nll}`,
      );
      // And a real token does matter.
      const changed = batch([[2, 7, 8, 9, 36, 12, 3]], [7]);
      assert.ok(
        !close(
          tf.tidy(() => model.classLogits(changed.ids, changed.mask).dataSync()),
          logits[0]!,
        ),
      );
      tf.dispose([alone, otherAlone, padded, changed].flatMap((b) => [b.ids, b.mask]));
    } finally {
      model.dispose();
    }
  });

  it('masks 15% of the real, non-special tokens, 80/10/10, at least one per row, reproducibly', () => {
    const rows = 400;
    const time = 24;
    const random = new Rng(8);
    const ids = new Int32Array(rows * time);
    const mask = new Float32Array(rows * time);
    const lengths: number[] = [];
    for (let r = 0; r < rows; r++) {
      const n = r === 0 ? 2 : r === 1 ? 4 : 4 + Math.floor(random.uniform() * (time - 4));
      lengths.push(n);
      for (let j = 0; j < time; j++) {
        // Framed rows whose pad slots hold ordinary token ids: only the mask says they are padding.
        ids[r * time + j] = j === 0 ? 2 : j === n - 1 ? 3 : 5 + Math.floor(random.uniform() * 30);
        mask[r * time + j] = j < n ? 1 : 0;
      }
    }
    const options = { maskId: 4, vocabSize: 40, excluded: new Set([0, 1, 2, 3, 4]) };
    const plan = planMaskedLm(ids, mask, rows, time, options, new Rng(1));
    const perRow = new Array<number>(rows).fill(0);
    let masked = 0;
    let kept = 0;
    for (let i = 0; i < plan.positions.length; i++) {
      const at = plan.positions[i]!;
      const r = Math.floor(at / time);
      const j = at % time;
      assert.ok(j > 0 && j < lengths[r]! - 1, `position ${j} of row ${r} (length ${lengths[r]}) is special or padding`);
      assert.equal(plan.targets[i], ids[at]);
      perRow[r]! += 1;
      if (plan.ids[at] === 4) masked++;
      else if (plan.ids[at] === ids[at]) kept++;
    }
    for (let at = 0; at < ids.length; at++)
      if (!plan.positions.includes(at)) assert.equal(plan.ids[at], ids[at], 'unselected tokens are untouched');
    perRow.forEach((k, r) =>
      assert.equal(k, r === 0 ? 0 : Math.max(1, Math.round(0.15 * (lengths[r]! - 2))), `row ${r}`),
    );
    const total = plan.positions.length;
    assert.ok(Math.abs(masked / total - 0.8) < 0.05, `masked share ${masked / total}`);
    // "Kept" also counts random replacements that drew the original token (1 in 40).
    assert.ok(Math.abs(kept / total - 0.1) < 0.04, `kept share ${kept / total}`);
    assert.deepEqual(planMaskedLm(ids, mask, rows, time, options, new Rng(1)), plan);
    assert.notDeepEqual(planMaskedLm(ids, mask, rows, time, options, new Rng(2)).positions, plan.positions);
  });

  it('MLM loss: fixed masking without a seed, seeded masking and dropout with one', () => {
    const model = new Bert({ ...config, dropout: 0.1 }, SPECIAL, 9);
    try {
      const data = keywordTask(6, 1);
      const rows = data.ids.map((s) => [...s, ...new Array<number>(config.contextLength - s.length).fill(SPECIAL.pad)]);
      const { ids, mask } = batch(
        rows,
        data.ids.map((s) => s.length),
      );
      const loss = (seed?: number): number =>
        tf.tidy(() => model.lmLoss(ids, mask, seed === undefined ? undefined : { dropoutSeed: seed }).dataSync()[0]!);
      const plain = loss();
      assert.equal(loss(), plain);
      assert.ok(Math.abs(plain - Math.log(config.vocabSize)) < 0.3, `untrained MLM loss ${plain} should be near log V`);
      assert.equal(loss(5), loss(5));
      assert.notEqual(loss(5), loss(6));
      const cls = (seed?: number): Float32Array =>
        tf.tidy(
          () =>
            model
              .classLogits(ids, mask, seed === undefined ? undefined : { dropoutSeed: seed })
              .dataSync() as Float32Array,
        );
      assert.deepEqual(cls(), cls());
      assert.deepEqual(cls(3), cls(3));
      assert.ok(!close(cls(), cls(3), 0));
      // Rows without any eligible token give a zero loss that still has a gradient path.
      const empty = batch([[2, 3, 0]], [2]);
      const { value, grads } = tf.variableGrads(
        () => model.lmLoss(empty.ids, empty.mask),
        model.trainableVariables('all'),
      );
      assert.equal(value.dataSync()[0], 0);
      assert.ok(Object.keys(grads).length > 0);
      for (const [name, g] of Object.entries(grads))
        assert.ok(
          g.dataSync().every((x) => x === 0),
          `gradient of ${name} is zero`,
        );
      tf.dispose([value, ...Object.values(grads), ids, mask, empty.ids, empty.mask]);
    } finally {
      model.dispose();
    }
  });

  it('MLM loss equals the cross-entropy of the full MLM logits at the planned positions', () => {
    const model = new Bert(config, SPECIAL, 12);
    try {
      // Rows with 2, 1 and 0 predicted positions: the last layer groups queries per row.
      const long = [2, ...Array.from({ length: 14 }, (_, i) => 5 + ((i * 7) % 30)), 3];
      const rows = [
        long,
        [2, 9, 10, 11, 12, 35, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [2, 3, 17, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      ];
      const { ids, mask } = batch(rows, [16, 7, 2]);
      for (const options of [undefined, { dropoutSeed: 3 }]) {
        const plan = model.maskingPlan(ids, mask, options);
        const perRow = [0, 1, 2].map((r) => Array.from(plan.positions).filter((p) => Math.floor(p / 16) === r).length);
        assert.deepEqual(perRow, [2, 1, 0]);
        const corrupted = tf.tensor2d(plan.ids, [3, 16], 'int32');
        const logits = tf.tidy(
          () => tf.reshape(model.mlmLogits(corrupted, mask), [48, config.vocabSize]).arraySync() as number[][],
        );
        let sum = 0;
        plan.positions.forEach((p, i) => {
          const row = logits[p]!;
          const max = Math.max(...row);
          sum += max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)) - row[plan.targets[i]!]!;
        });
        const want = sum / plan.positions.length;
        const got = tf.tidy(() => model.lmLoss(ids, mask, options).dataSync()[0]!);
        assert.ok(Math.abs(got - want) < 1e-5, `lmLoss ${got} vs ${want}`);
        corrupted.dispose();
      }
      tf.dispose([ids, mask]);
    } finally {
      model.dispose();
    }
  });

  it('selects parameter subsets', () => {
    const model = new Bert({ ...config, layers: 3 }, SPECIAL, 1);
    try {
      const names = (s: ParamSubset): string[] => subsetNames(model, s);
      assert.deepEqual(names('head'), ['cls/b', 'cls/w']);
      const last1 = names('last-1');
      assert.deepEqual(
        last1.filter((n) => !n.startsWith('l2/')),
        ['cls/b', 'cls/w', 'pool/b', 'pool/w'],
      );
      assert.equal(last1.filter((n) => n.startsWith('l2/')).length, 16);
      assert.equal(names('last-3').length, 3 * 16 + 4);
      assert.equal(names('all').length, model.variables.size);
      assert.deepEqual(names('all'), [...model.variables.keys()].sort());
      assert.throws(() => model.trainableVariables('last-4'), /asks for 4 blocks but the model has 3/);
      const { vocabSize: V, contextLength: T, dModel: d, dFF: f, numClasses: C } = config;
      const block = 4 * (d * d + d) + 2 * 2 * d + (d * f + f) + (f * d + d);
      assert.equal(
        model.parameterCount(),
        V * d + T * d + 2 * d + 2 * d + 3 * block + (d * d + d) + (d * d + d + 2 * d + V) + (d * C + C),
      );
      assert.deepEqual(model.variables.get('l1/ffn/in/w')!.shape, [d, f]);
      // The padding token's embedding starts at zero, as with Hugging Face's padding_idx.
      assert.ok((model.variables.get('emb/word')!.arraySync() as number[][])[SPECIAL.pad]!.every((x) => x === 0));
    } finally {
      model.dispose();
    }
  });

  it('validates its configuration and special tokens', () => {
    validateBertConfig(SMALL_BERT);
    assert.throws(() => new Bert({ ...config, heads: 5 }, SPECIAL, 1), /not divisible by heads/);
    assert.throws(() => new Bert({ ...config, layers: 0 }, SPECIAL, 1), /layers must be a positive integer/);
    assert.throws(() => new Bert({ ...config, layerNormEps: 0 }, SPECIAL, 1), /layerNormEps must be a positive number/);
    assert.throws(
      () => new Bert(config, { pad: 0, cls: 2 }, 1),
      /^Error: BERT needs the special tokens pad, mask and cls; missing: mask$/,
    );
    assert.throws(() => new Bert(config, { pad: 0 }, 1), /missing: mask, cls$/);
    assert.throws(
      () => new Bert(config, { ...SPECIAL, sep: 40 }, 1),
      /special token sep = 40 is outside the vocabulary \[0, 40\)/,
    );
    const model = new Bert(config, SPECIAL, 1);
    try {
      const long = batch([new Array<number>(17).fill(5)], [17]);
      assert.throws(() => model.classLogits(long.ids, long.mask), /17 positions but the context length is 16/);
      tf.dispose([long.ids, long.mask]);
    } finally {
      model.dispose();
    }
  });

  it('the erf GELU and its hand-written gradient agree with differentiating the formula', () => {
    const x = tf.tensor1d([-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6]);
    const formula = (t: tf.Tensor): tf.Tensor => tf.mul(tf.mul(t, 0.5), tf.add(tf.erf(tf.div(t, Math.SQRT2)), 1));
    const [y, want] = tf.tidy(() => [geluErf(x), formula(x)]);
    assert.ok(close(y!.dataSync(), want!.dataSync(), 1e-6));
    const [g, gWant] = tf.tidy(() => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(geluErf(t), t)))(x),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(formula(t), t)))(x),
    ]);
    assert.ok(close(g!.dataSync(), gWant!.dataSync(), 1e-5), `${g!.dataSync()} vs ${gWant!.dataSync()}`);
    tf.dispose([x, y!, want!, g!, gWant!]);
  });
});
