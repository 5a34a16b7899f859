import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

/** How far `got` is from `want`, relative to |want| or to `scale` where that is larger. */
export const relativeError = (got: number, want: number, scale: number): number =>
  Math.abs(got - want) / Math.max(Math.abs(want), scale);

/** Each value of a model's row within `tolerance` of the reference's, relative to the reference row's largest magnitude. */
export function assertRowNear(got: readonly number[], want: ArrayLike<number>, tolerance: number, what: string): void {
  const values = Array.from(want);
  const scale = Math.max(...values.map(Math.abs));
  values.forEach((w, i) =>
    assert.ok(relativeError(got[i]!, w, scale) < tolerance, `${what}[${i}] ${got[i]} vs reference ${w}`),
  );
}

/**
 * A batch of `sequences` right-padded to `time` with random ids below `vocabSize` (the model must
 * ignore whatever stands there) and the mask of their real positions.
 */
export function randomlyPadded(
  sequences: readonly number[][],
  time: number,
  vocabSize: number,
  random: () => number,
): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const padded = sequences.map((s) => [
    ...s,
    ...Array.from({ length: time - s.length }, () => Math.floor(random() * vocabSize)),
  ]);
  const maskRows = sequences.map((s) => Array.from({ length: time }, (_, t) => (t < s.length ? 1 : 0)));
  return {
    ids: tf.tensor2d(padded, [padded.length, time], 'int32'),
    mask: tf.tensor2d(maskRows, [padded.length, time], 'float32'),
  };
}
