import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunk, lmWindows, padBatch } from '../src/ml/batches.ts';

describe('batching', () => {
  it('right-pads to the longest row of the batch, capped at the context length', () => {
    const seqs = [
      [5, 6],
      [7, 8, 9],
      [1, 2, 3, 4, 5, 6],
    ];
    const b = padBatch(seqs, [0, 1], 4, 0);
    assert.equal(b.time, 3);
    assert.deepEqual([...b.ids], [5, 6, 0, 7, 8, 9]);
    assert.deepEqual([...b.mask], [1, 1, 0, 1, 1, 1]);
    const capped = padBatch(seqs, [2], 4, 0);
    assert.deepEqual([...capped.ids], [1, 2, 3, 4]);
  });

  it('reads trailing pad ids as padding only when told the input is pre-padded', () => {
    const seqs = [[5, 3, 3, 3]];
    assert.deepEqual([...padBatch(seqs, [0], 8, 3).mask], [1, 1, 1, 1]);
    const trimmed = padBatch(seqs, [0], 8, 3, true);
    assert.deepEqual([...trimmed.mask], [1]);
    assert.deepEqual([...trimmed.ids], [5]);
  });

  it('cuts language-model windows so that every token after the first is a target once', () => {
    const seq = Array.from({ length: 10 }, (_, i) => i + 1);
    const windows = lmWindows([seq, [42]], 4);
    assert.deepEqual(windows, [
      [1, 2, 3, 4],
      [4, 5, 6, 7],
      [7, 8, 9, 10],
    ]);
    const targets = windows.flatMap((w) => w.slice(1));
    assert.deepEqual(targets, seq.slice(1));
    assert.deepEqual(lmWindows([[1, 2, 0, 0]], 8, 0, true), [[1, 2]]);
  });

  it('chunks an order into batches, the last one shorter', () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.throws(() => chunk([1], 0), /batch size/);
  });
});
