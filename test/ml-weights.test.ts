import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';
import { listWeights, loadWeights, saveWeights } from '../src/ml/weights.ts';

const config: GptConfig = {
  vocabSize: 40,
  contextLength: 8,
  layers: 2,
  dModel: 8,
  heads: 2,
  dFF: 16,
  numClasses: 2,
  dropout: 0,
};

before(async () => {
  await chooseBackend(['wasm']);
});

describe('weight files', () => {
  it('round-trip: loading into a differently initialised model reproduces it exactly', async () => {
    const a = new Gpt(config, 1);
    const b = new Gpt(config, 2);
    const bytes = await saveWeights(a.variables);
    assert.notDeepEqual(await saveWeights(b.variables), bytes);
    loadWeights(b.variables, bytes);
    assert.deepEqual(await saveWeights(b.variables), bytes);
    for (const [name, v] of a.variables) assert.deepEqual(b.variables.get(name)!.dataSync(), v.dataSync(), name);
    a.dispose();
    b.dispose();
  });

  it('is deterministic and sorted by name, with a readable header', async () => {
    const a = new Gpt(config, 3);
    assert.deepEqual(await saveWeights(a.variables), await saveWeights(a.variables));
    const listed = listWeights(await saveWeights(a.variables));
    const names = listed.map((e) => e.name);
    assert.deepEqual(names, [...a.variables.keys()].sort());
    assert.deepEqual(
      listed.find((e) => e.name === 'wte'),
      { name: 'wte', shape: [40, 8], dtype: 'float32' },
    );
    a.dispose();
  });

  it('stores float32 little-endian after a 4-byte-aligned header', async () => {
    const t = tf.tensor1d([1.5, -2]);
    const bytes = await saveWeights(new Map([['x', t]]));
    const headerLength = new DataView(bytes.buffer).getUint32(4, true);
    assert.equal((8 + headerLength) % 4, 0);
    const data = new DataView(bytes.buffer, 8 + headerLength);
    assert.equal(data.getFloat32(0, true), 1.5);
    assert.equal(data.getFloat32(4, true), -2);
    t.dispose();
  });

  it('a missing tensor is an error that names it, and nothing is assigned', async () => {
    const a = new Gpt(config, 1);
    const b = new Gpt(config, 2);
    const partial = new Map([...a.variables].filter(([n]) => n !== 'h1/mlp/fc/w'));
    const before = await saveWeights(b.variables);
    const partialBytes = await saveWeights(partial);
    assert.throws(() => loadWeights(b.variables, partialBytes), /"h1\/mlp\/fc\/w"/);
    assert.deepEqual(await saveWeights(b.variables), before);
    a.dispose();
    b.dispose();
  });

  it('a wrong shape is an error that names the tensor and both shapes', async () => {
    const small = new Gpt(config, 1);
    const wide = new Gpt({ ...config, numClasses: 3 }, 1);
    const smallBytes = await saveWeights(small.variables);
    assert.throws(
      () => loadWeights(wide.variables, smallBytes),
      /tensor "cls\/(b|w)" has shape \[(2|8, 2)\] in the weight file but \[(3|8, 3)\] in the model/,
    );
    // A head of another size can be left out on purpose (pre-trained body, new task).
    loadWeights(wide.variables, smallBytes, { skip: (n) => n.startsWith('cls/') });
    assert.deepEqual(wide.variables.get('wte')!.dataSync(), small.variables.get('wte')!.dataSync());
    small.dispose();
    wide.dispose();
  });

  it('rejects bytes that are not a weight file', async () => {
    const a = new Gpt(config, 1);
    assert.throws(() => loadWeights(a.variables, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /bad magic/);
    const bytes = await saveWeights(a.variables);
    assert.throws(() => loadWeights(a.variables, bytes.subarray(0, bytes.length - 4)), /truncated inside tensor "wte"/);
    a.dispose();
  });
});
