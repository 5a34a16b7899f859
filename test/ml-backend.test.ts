import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendChoice, chooseBackend } from '../src/ml/backend.ts';
import { matMul } from '../src/ml/ops/matmul.ts';
import { mayHaveHardwareGpu } from '../src/ml/webgpu-adapter.ts';

const require = createRequire(import.meta.url);
const installed = (pkg: string): boolean => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

let choice: BackendChoice;

before(async () => {
  choice = await chooseBackend();
});

describe('backend choice', () => {
  it('falls back past the native backends when they are not installed, to wasm', (t) => {
    if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) {
      t.skip('a native backend is installed here');
      return;
    }
    assert.equal(choice.name, 'wasm');
    assert.equal(choice.tfBackend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(choice.version, /^\d+\.\d+\.\d+/);
    // webgpu is passed over too: this machine has no GPU (at most lavapipe, a software adapter).
    assert.deepEqual(
      choice.skipped.map((s) => s.name),
      ['tfjs-node-gpu', 'webgpu', 'tfjs-node'],
    );
    assert.ok(choice.skipped.every((s) => s.reason.length > 0 && s.reason.length <= 201));
  });

  it('passes over webgpu without loading Dawn where no GPU device exists', (t) => {
    if (mayHaveHardwareGpu()) {
      t.skip('this machine has a GPU device file');
      return;
    }
    const webgpu = choice.skipped.find((s) => s.name === 'webgpu');
    assert.match(webgpu?.reason ?? '', /no GPU device here/);
    // Dawn's globals are installed when it loads; the automatic choice must not pay for that.
    assert.equal((globalThis as Record<string, unknown>).GPUBufferUsage, undefined);
  });

  it('runs wasm with SIMD and one thread, and records both', async (t) => {
    if (choice.name !== 'wasm') {
      t.skip(`backend is ${choice.name}`);
      return;
    }
    assert.deepEqual(choice.details, { simd: true, threads: 1 });
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    assert.equal(wasm.getThreadsCount(), 1);
  });

  it('leaves none of the process-wide error handlers of the wasm module behind', () => {
    // Emscripten's handlers rethrow: `if(!(ex instanceof ExitStatus)){throw ex}`, `throw reason`.
    const sources = [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')].map(String);
    assert.ok(
      !sources.some((s) => s.includes('ExitStatus') || /^function\s*\(reason\)\s*\{\s*throw reason\s*\}$/.test(s)),
      sources.join('\n'),
    );
  });

  it('reports every failure when nothing can start', async () => {
    await assert.rejects(
      chooseBackend(['no-such-backend']),
      /no TensorFlow\.js backend could start: no-such-backend: unknown backend/,
    );
    assert.equal(tf.getBackend(), choice.tfBackend);
  });

  it('can switch to the pure-JS cpu backend and back', async () => {
    const cpu = await chooseBackend(['cpu']);
    assert.equal(cpu.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    const again = await chooseBackend([choice.name]);
    assert.equal(again.tfBackend, choice.tfBackend);
  });

  it('has gradients registered (tfjs-core alone ships none)', () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, -2, 3]));
    assert.deepEqual(Array.from(g.dataSync()), [2, -4, 6]);
  });

  it('computes the gradient of gather (UnsortedSegmentSum) as the cpu backend does', async () => {
    const run = (): number[] =>
      tf.tidy(() => {
        const table = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
        const ids = tf.tensor2d([0, 3, 0, 2, 3, 3], [2, 3], 'int32');
        const weights = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
        return Array.from(
          tf
            .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table)
            .dataSync(),
        );
      });
    const onChoice = run();
    await chooseBackend(['cpu']);
    const onCpu = run();
    await chooseBackend([choice.name]);
    assert.deepEqual(onChoice, onCpu);
    // Row 0 is gathered at positions 0 and 2, row 2 at 3, row 3 at 1, 4 and 5, row 1 never.
    assert.deepEqual(onChoice, [1 + 5, 2 + 6, 0, 0, 7, 8, 3 + 9 + 11, 4 + 10 + 12]);
  });

  it('the explicit-transpose matmul has the same value and gradients as tf.matMul', () => {
    for (const [sa, sb] of [
      [
        [3, 4],
        [4, 5],
      ],
      [
        [2, 3, 4],
        [2, 4, 5],
      ],
      [
        [2, 2, 3, 4],
        [2, 2, 4, 3],
      ],
    ] as const) {
      tf.tidy(() => {
        const a = tf.randomNormal([...sa], 0, 1, 'float32', 1);
        const b = tf.randomNormal([...sb], 0, 1, 'float32', 2);
        const w = tf.randomNormal([...sa.slice(0, -1), sb.at(-1)!], 0, 1, 'float32', 3);
        const loss = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(f(x, y), w));
        const mine = tf.grads(loss(matMul))([a, b]);
        const builtIn = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
        const close = (x: tf.Tensor, y: tf.Tensor): boolean => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]! < 1e-4;
        assert.ok(close(matMul(a, b), tf.matMul(a, b)), `value ${sa} x ${sb}`);
        assert.ok(close(mine[0]!, builtIn[0]!) && close(mine[1]!, builtIn[1]!), `gradient ${sa} x ${sb}`);
      });
    }
  });
});
