import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';
import { parseParamSubset } from '../src/ml/models/language-model.ts';

const config: GptConfig = {
  vocabSize: 30,
  contextLength: 10,
  layers: 3,
  dModel: 16,
  heads: 4,
  dFF: 24,
  numClasses: 3,
  dropout: 0.2,
};
let model: Gpt;

before(async () => {
  await chooseBackend(['wasm']);
  model = new Gpt(config, 1);
});
after(() => model.dispose());

const logitsOf = (rows: number[][], mask: number[][], dropoutSeed?: number): number[] =>
  tf.tidy(() => {
    const ids = tf.tensor2d(rows, undefined, 'int32');
    return Array.from(
      model.classLogits(ids, tf.tensor2d(mask), dropoutSeed === undefined ? undefined : { dropoutSeed }).dataSync(),
    );
  });

const close = (a: number[], b: number[], tol = 1e-5): boolean =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tol);

describe('GPT decoder', () => {
  it('has GPT-2 parameter shapes and count', () => {
    const { vocabSize: V, contextLength: T, layers: L, dModel: d, dFF: f, numClasses: C } = config;
    const block = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * f + f) + (f * d + d);
    assert.equal(model.parameterCount(), V * d + T * d + L * block + 2 * d + d * C + C);
    assert.deepEqual(model.variables.get('h2/attn/qkv/w')!.shape, [d, 3 * d]);
  });

  it('is causal: a token never depends on later ones, so right padding changes nothing', () => {
    const seq = [5, 9, 2, 7];
    const short = logitsOf([seq], [[1, 1, 1, 1]]);
    const padded = logitsOf([[...seq, 0, 0, 0]], [[1, 1, 1, 1, 0, 0, 0]]);
    const otherFuture = logitsOf([[...seq, 11, 12, 13]], [[1, 1, 1, 1, 0, 0, 0]]);
    assert.ok(close(short, padded), `${short} vs ${padded}`);
    assert.ok(close(short, otherFuture), `${short} vs ${otherFuture}`);
    const otherPast = logitsOf([[6, 9, 2, 7]], [[1, 1, 1, 1]]);
    assert.ok(!close(short, otherPast), 'an earlier token must matter');
  });

  it('batches rows independently, each read at its own last real token', () => {
    const a = logitsOf([[1, 2, 3]], [[1, 1, 1]]);
    const b = logitsOf([[4, 5, 6, 7, 8]], [[1, 1, 1, 1, 1]]);
    const both = logitsOf(
      [
        [1, 2, 3, 0, 0],
        [4, 5, 6, 7, 8],
      ],
      [
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1],
      ],
    );
    assert.ok(close(both, [...a, ...b]));
  });

  it('applies dropout only with a seed, reproducibly', () => {
    const rows = [[3, 1, 4, 1, 5]];
    const mask = [[1, 1, 1, 1, 1]];
    const plain = logitsOf(rows, mask);
    assert.ok(close(plain, logitsOf(rows, mask)));
    const dropped = logitsOf(rows, mask, 42);
    assert.ok(!close(plain, dropped));
    assert.deepEqual(dropped, logitsOf(rows, mask, 42));
    assert.ok(!close(dropped, logitsOf(rows, mask, 43)));
  });

  it('language-model loss ignores padded targets', () => {
    const loss = (rows: number[][], mask: number[][]): number =>
      tf.tidy(() => model.lmLoss(tf.tensor2d(rows, undefined, 'int32'), tf.tensor2d(mask)).dataSync()[0]!);
    const a = loss([[1, 2, 3, 4]], [[1, 1, 1, 1]]);
    const b = loss([[1, 2, 3, 4, 9, 9]], [[1, 1, 1, 1, 0, 0]]);
    assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
    assert.ok(Math.abs(a - Math.log(config.vocabSize)) < 0.3, `untrained loss ${a} should be near log V`);
  });

  it('rejects inputs longer than the context', () => {
    assert.throws(
      () => logitsOf([new Array<number>(11).fill(1)], [new Array<number>(11).fill(1)]),
      /11 positions but the context length is 10/,
    );
  });

  it('selects parameter subsets', () => {
    const names = (s: Parameters<Gpt['trainableVariables']>[0]): string[] =>
      model.trainableVariables(s).map((v) => [...model.variables].find(([, w]) => w === v)![0]);
    assert.deepEqual(names('head'), ['cls/b', 'cls/w']);
    const last1 = names('last-1');
    assert.ok(last1.includes('lnf/g') && last1.includes('h2/mlp/fc/w') && last1.includes('cls/w'));
    assert.ok(!last1.some((n) => n.startsWith('h1/') || n === 'wte' || n === 'wpe'));
    assert.equal(names('last-3').length, model.variables.size - 2);
    assert.equal(names('all').length, model.variables.size);
    assert.throws(() => model.trainableVariables('last-4'), /asks for 4 blocks but the model has 3/);
    assert.equal(parseParamSubset('last-2'), 'last-2');
    assert.throws(() => parseParamSubset('last-0'), /unknown parameter subset/);
    assert.throws(() => parseParamSubset('body'), /unknown parameter subset/);
  });

  it('validates its configuration', () => {
    assert.throws(() => new Gpt({ ...config, heads: 5 }, 1), /not divisible by heads/);
    assert.throws(() => new Gpt({ ...config, layers: 0 }, 1), /layers must be a positive integer/);
  });
});
