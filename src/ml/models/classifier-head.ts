import * as tf from '@tensorflow/tfjs-core';
import { sparseCrossEntropy } from '../ops/cross-entropy.ts';
import type { ForwardOptions } from './language-model.ts';
import { type CommonModelConfig, ModelBase } from './model-base.ts';

/**
 * A model that classifies through a linear head on a pooled hidden state (GPT: the last real
 * token; BERT: the pooled first token): the fine-tuning loss and the predictions follow from
 * its class logits alone.
 */
export abstract class HeadClassifier<C extends CommonModelConfig> extends ModelBase<C> {
  /** Unnormalised class scores `[batch, numClasses]`. */
  abstract classLogits(ids: tf.Tensor2D, mask: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D;

  /** Mean cross-entropy of the head over the batch. */
  classificationLoss(ids: tf.Tensor2D, mask: tf.Tensor2D, labels: tf.Tensor1D, options?: ForwardOptions): tf.Scalar {
    const logits = this.classLogits(ids, mask, options);
    return tf.tidy(() => tf.mean(sparseCrossEntropy(logits, labels)) as tf.Scalar);
  }

  /** Each row's highest-scoring class. */
  async predictClasses(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<number[]> {
    const predicted = tf.tidy(() => tf.argMax(this.classLogits(ids, mask), 1));
    // Read asynchronously: a GPU backend cannot read a tensor back synchronously.
    const out = Array.from(await predicted.data());
    predicted.dispose();
    return out;
  }
}
