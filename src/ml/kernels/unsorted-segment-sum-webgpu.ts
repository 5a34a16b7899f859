import * as tf from '@tensorflow/tfjs-core';

interface DisposingBackend {
  disposeData(dataId: object): boolean;
}

let registered = false;

/**
 * Replaces `UnsortedSegmentSum` on the webgpu backend with one whose result does not depend on
 * thread timing. tfjs-backend-webgpu 4.22 scatters with float atomic adds, so the order of the
 * additions into one row (an embedding row gathered several times in a batch) changes from run
 * to run and so do the last bits of the gradient, which breaks byte-for-byte reproducible
 * training. Here the sum is a one-hot matrix product, oneHot(ids)^T x, which every element of
 * the output computes in a fixed order; out-of-range ids get an all-zero row and are dropped, as
 * TensorFlow's kernel drops them. It costs segments x rows x width multiply-adds, which a GPU
 * does in well under a millisecond at the study's sizes.
 */
export function registerUnsortedSegmentSumWebGpu(): void {
  if (registered) return;
  const oneHot = tf.getKernel('OneHot', 'webgpu');
  const matMul = tf.getKernel('BatchMatMul', 'webgpu');
  const reshape = tf.getKernel('Reshape', 'webgpu');
  if (oneHot === undefined || matMul === undefined || reshape === undefined)
    throw new Error('the webgpu backend lacks OneHot, BatchMatMul or Reshape');
  if (tf.getKernel('UnsortedSegmentSum', 'webgpu') !== undefined) tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs['x'] as tf.TensorInfo;
      const segmentIds = inputs['segmentIds'] as tf.TensorInfo;
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
      const innerShape = x.shape.slice(segmentIds.shape.length);
      const inner = innerShape.reduce((a, b) => a * b, 1);
      const call = (kernel: tf.KernelConfig, ins: tf.NamedTensorInfoMap, at: tf.NamedAttrMap): tf.TensorInfo =>
        kernel.kernelFunc({ inputs: ins, backend, attrs: at }) as tf.TensorInfo;
      const ids = call(reshape, { x: segmentIds }, { shape: [rows] });
      const hot = call(oneHot, { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: x.dtype });
      const hot3 = call(reshape, { x: hot }, { shape: [1, rows, numSegments] });
      const x3 = call(reshape, { x }, { shape: [1, rows, inner] });
      const summed = call(matMul, { a: hot3, b: x3 }, { transposeA: true, transposeB: false });
      const out = call(reshape, { x: summed }, { shape: [numSegments, ...innerShape] });
      for (const t of [ids, hot, hot3, x3, summed]) (backend as unknown as DisposingBackend).disposeData(t.dataId);
      return out;
    },
  });
  registered = true;
}
