import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { BpeTokenizer } from '../src/ml/bpe.ts';
import { evaluateClassifier, evaluatePerplexity } from '../src/ml/evaluate.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';
import { Rng } from '../src/ml/rng.ts';
import { pretrainLM, trainClassifier } from '../src/ml/train.ts';
import { tokenizedSplit } from './helpers/tokenized-split.ts';

/**
 * A task a model must read to solve: filler words in random order with one keyword at a random
 * place; the keyword alone decides the label. A classifier reading the last token has to learn
 * to attend back to the keyword.
 */
function keywordTask(n: number, seed: number): { texts: string[]; labels: number[] } {
  const filler = [
    'the',
    'film',
    'plot',
    'was',
    'and',
    'actors',
    'story',
    'a',
    'very',
    'quite',
    'scene',
    'music',
    'ending',
    'we',
    'saw',
    'it',
  ];
  const rng = new Rng(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const texts = labels.map((label) => {
    const len = 5 + Math.floor(rng.uniform() * 6);
    const words = Array.from({ length: len }, () => filler[Math.floor(rng.uniform() * filler.length)]!);
    words.splice(Math.floor(rng.uniform() * (len + 1)), 0, label ? 'excellent' : 'terrible');
    return words.join(' ');
  });
  return { texts, labels };
}

let tokenizer: BpeTokenizer;
let train: { ids: number[][]; labels: number[] };
let validation: { ids: number[][]; labels: number[] };
let config: GptConfig;

before(async () => {
  await chooseBackend(['wasm']);
  const { texts, labels } = keywordTask(240, 7);
  ({ tokenizer, train, validation } = await tokenizedSplit(texts, labels, {
    trainSize: 200,
    vocabSize: 400,
    maxLength: 32,
  }));
  config = {
    vocabSize: tokenizer.vocabSize,
    contextLength: 32,
    layers: 2,
    dModel: 64,
    heads: 2,
    dFF: 128,
    numClasses: 2,
    dropout: 0,
  };
});

describe('training a tiny GPT', () => {
  it('pre-training lowers held-out perplexity; fine-tuning then learns the keyword task (accuracy >= 0.9)', async () => {
    const model = new Gpt(config, 1);
    const before = await evaluatePerplexity(model, validation.ids, { batchSize: 32, padId: tokenizer.special.pad });
    // An untrained model with near-zero logits is close to uniform over the vocabulary.
    assert.ok(Math.abs(before.perplexity / config.vocabSize - 1) < 0.2, `initial perplexity ${before.perplexity}`);
    const lm = await pretrainLM(model, train.ids, validation.ids, {
      batchSize: 16,
      epochs: 3,
      optimizer: { name: 'adamw', learningRate: 3e-3 },
      seed: 1,
      padId: tokenizer.special.pad,
    });
    assert.equal(lm.epochs.length, 3);
    assert.ok(
      lm.epochs.at(-1)!.validation.perplexity < before.perplexity / 5,
      `perplexity ${before.perplexity} -> ${lm.epochs.at(-1)!.validation.perplexity}`,
    );
    assert.ok(lm.lossCurve.at(-1)! < lm.lossCurve[0]!);

    const ft = await trainClassifier(model, train, validation, {
      batchSize: 8,
      epochs: 8,
      optimizer: { name: 'adamw', learningRate: 3e-3, schedule: { kind: 'linear', warmupSteps: 10 } },
      seed: 1,
      padId: tokenizer.special.pad,
      labelNames: ['negative', 'positive'],
    });
    assert.equal(ft.lossCurve.length, 8 * 25);
    assert.equal(ft.learningRates[4], 3e-3 / 2);
    const last = ft.epochs.at(-1)!.validation;
    assert.ok(last.accuracy >= 0.9, `validation accuracy ${last.accuracy}`);
    assert.ok(last.macroF1 >= 0.9, `validation macro F1 ${last.macroF1}`);
    assert.ok(ft.trainSeconds > 0 && ft.seconds >= ft.trainSeconds);
    const again = await evaluateClassifier(model, validation, { batchSize: 16, padId: tokenizer.special.pad });
    assert.equal(again.accuracy, last.accuracy);
    model.dispose();
  });

  it('keeps the tensor count flat across steps', async () => {
    const model = new Gpt(config, 2);
    const counts: number[] = [];
    await trainClassifier(model, train, validation, {
      batchSize: 16,
      epochs: 2,
      optimizer: { name: 'proposed', learningRate: 1e-3, adaptiveLr: true, adaptiveMomentum: true, clipNorm: 1 },
      seed: 2,
      padId: tokenizer.special.pad,
      onProgress: (p) => {
        if (p.phase === 'train') counts.push(tf.memory().numTensors);
      },
    });
    // The optimizer creates its state on the first update; from then on nothing may accumulate.
    assert.ok(counts.length === 26);
    assert.deepEqual(new Set(counts.slice(1)).size, 1, `tensor counts: ${counts.join(' ')}`);
    model.dispose();
  });

  it('frees everything it made: only the model remains', async () => {
    const start = tf.memory().numTensors;
    const model = new Gpt(config, 3);
    const withModel = tf.memory().numTensors;
    await pretrainLM(model, train.ids.slice(0, 32), validation.ids, {
      batchSize: 16,
      epochs: 1,
      optimizer: { name: 'adam', learningRate: 1e-3 },
      seed: 3,
      padId: 0,
    });
    assert.equal(tf.memory().numTensors, withModel);
    model.dispose();
    assert.equal(tf.memory().numTensors, start);
  });

  it('stops when the signal aborts', async () => {
    const model = new Gpt(config, 4);
    const controller = new AbortController();
    let steps = 0;
    await assert.rejects(
      trainClassifier(model, train, validation, {
        batchSize: 16,
        epochs: 5,
        optimizer: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
        seed: 4,
        padId: 0,
        signal: controller.signal,
        onProgress: (p) => {
          steps = p.step;
          if (p.step === 3) controller.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.equal(steps, 3);
    model.dispose();
  });

  it('updates only the chosen subset', async () => {
    const model = new Gpt(config, 5);
    const snapshot = (): Map<string, Float32Array> =>
      new Map([...model.variables].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));
    const beforeTraining = snapshot();
    await trainClassifier(model, { ids: train.ids.slice(0, 32), labels: train.labels.slice(0, 32) }, validation, {
      batchSize: 16,
      epochs: 1,
      optimizer: { name: 'adamw', learningRate: 1e-2 },
      seed: 5,
      padId: 0,
      subset: 'last-1',
    });
    const after = snapshot();
    const changed = [...after]
      .filter(([n, v]) => v.some((x, i) => x !== beforeTraining.get(n)![i]))
      .map(([n]) => n)
      .sort();
    const expected = model
      .trainableVariables('last-1')
      .map((v) => [...model.variables].find(([, w]) => w === v)![0])
      .sort();
    assert.deepEqual(changed, expected);
    assert.ok(!changed.includes('wte') && !changed.some((n) => n.startsWith('h0/')));
    model.dispose();
  });
});
