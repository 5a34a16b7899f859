import * as tf from '@tensorflow/tfjs-core';

type HostArray = Int32Array | Float32Array;

const copies = new WeakMap<tf.Tensor, HostArray>();

/**
 * Model inputs (token ids, masks, labels) as tensors that remember the host array they were made
 * from. A model that must plan on the host from its inputs (BERT's masking, T5's span corruption
 * and label targets) reads that copy with `hostValues` instead of reading the tensor back: on a
 * GPU backend a synchronous read throws once the tensor is on the device, and an asynchronous one
 * cannot happen inside a gradient computation.
 */
export function inputTensor<R extends tf.Rank>(
  values: HostArray,
  shape: number[],
  dtype: 'int32' | 'float32',
): tf.Tensor<R> {
  const t = tf.tensor(values, shape, dtype) as unknown as tf.Tensor<R>;
  copies.set(t, values);
  return t;
}

/**
 * The host copy of an input tensor made by `inputTensor`; for any other tensor, its values read
 * synchronously (fine on the CPU backends, and for a tensor not yet uploaded to a GPU).
 */
export function hostValues(t: tf.Tensor): HostArray {
  return copies.get(t) ?? (t.dataSync() as HostArray);
}
