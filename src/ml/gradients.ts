import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fastPaths } from './ops/fast-paths.ts';

const require = createRequire(import.meta.url);
let pending: Promise<void> | undefined;

/**
 * Makes `tf.grad` and friends work with @tensorflow/tfjs-core alone.
 *
 * tfjs-core's Node entry (a CommonJS bundle) registers no gradients: the umbrella package
 * @tensorflow/tfjs does that, and it also drags in tfjs-layers, webgl and the converter. The
 * registrations exist in tfjs-core only as ES modules with extensionless relative imports, which
 * Node cannot load. esbuild (already a dependency) bundles them into one module in about 0.3 s;
 * the bundle's copies of the ops find the same engine and registries, because tfjs keeps those on
 * the global object. A gradient already registered (for instance by tfjs-node, which loads the
 * umbrella package) is left alone.
 */
export function registerGradients(): Promise<void> {
  if (tf.getGradient('Sum') !== undefined && tf.getGradient('GatherV2') !== undefined) return Promise.resolve();
  pending ??= (async () => {
    const esbuild = await import('esbuild');
    const entry = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core')), 'register_all_gradients.js');
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'node',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text;
    if (code === undefined) throw new Error('esbuild produced no bundle for the tfjs-core gradients');
    await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    if (tf.getGradient('Sum') === undefined) throw new Error('tfjs-core gradients did not register');
    registerReductionGradients();
  })();
  return pending;
}

/** `dy` reshaped to `x`'s rank with the reduced axes kept as 1, scaled, then spread over them. */
function spread(dy: tf.Tensor, x: tf.Tensor, axes: number[], scale: number): tf.Tensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const expanded = tf.reshape(dy, kept);
  // setFastPaths(false) (bench/profile.ts's baseline) keeps tfjs-core's own formula.
  if (!fastPaths()) {
    const spreadOut = tf.mul(expanded, tf.ones(x.shape, 'float32'));
    return scale === 1 ? spreadOut : tf.div(spreadOut, scale);
  }
  return tf.broadcastTo(scale === 1 ? expanded : tf.div(expanded, scale), x.shape);
}

/**
 * The gradients of `Sum` and `Mean` without a tensor of ones: tfjs-core's multiply `dy` by
 * `ones(x.shape)`, which is filled element by element in JavaScript and copied to the backend at
 * every call (each layer norm's mean and variance, each bias). Broadcasting `dy` gives the same
 * values: dy x 1 is dy exactly, and the mean's division by the count is done on `dy` itself
 * before it is spread, the same division of the same number.
 */
function registerReductionGradients(): void {
  for (const [kernelName, mean] of [
    ['Sum', false],
    ['Mean', true],
  ] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved as [tf.Tensor];
        const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
        const count = mean ? axes.reduce((n, a) => n * x.shape[a]!, 1) : 1;
        return { x: () => spread(dy as tf.Tensor, x, axes, count) };
      },
    });
  }
}
