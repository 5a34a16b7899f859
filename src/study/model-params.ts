import type { ModelFamily } from '../ml/models/language-model.ts';
import type { ModelSpec } from '../ml/models/model-spec.ts';
import type { JsonObject } from '../stage-api.ts';

/**
 * A model as pipeline.yaml declares it (snake_case, like the rest of the file). `layers` is the
 * encoder's depth for T5 (`decoder_layers` the decoder's, by default the same).
 */
export interface ModelParams extends JsonObject {
  architecture: string;
  layers: number;
  d_model: number;
  heads: number;
  d_ff: number;
  context_length: number;
  dropout: number;
}

const FAMILY_OF_ARCHITECTURE: Record<string, ModelFamily> = { gpt2: 'gpt', bert: 'bert', t5: 't5' };

/** The family of an architecture named in pipeline.yaml. */
export function familyOf(architecture: string): ModelFamily {
  const family = FAMILY_OF_ARCHITECTURE[architecture];
  if (family === undefined)
    throw new Error(
      `unknown architecture "${architecture}" (this build has: ${Object.keys(FAMILY_OF_ARCHITECTURE).join(', ')})`,
    );
  return family;
}

const COMMON_KEYS = ['architecture', 'layers', 'd_model', 'heads', 'd_ff', 'context_length', 'dropout'];
const KEYS: Record<ModelFamily, string[]> = {
  gpt: COMMON_KEYS,
  bert: [...COMMON_KEYS, 'type_vocab_size', 'layer_norm_eps'],
  t5: [
    ...COMMON_KEYS,
    'decoder_layers',
    'd_kv',
    'feed_forward',
    'relative_buckets',
    'relative_max_distance',
    'tie_embeddings',
    'layer_norm_eps',
    'max_target_length',
  ],
};

function optional<T>(p: ModelParams, key: string, fallback: T): T {
  return (p[key] ?? fallback) as T;
}

/**
 * The full model spec for a model trained from scratch: the declared sizes, the tokenizer's
 * vocabulary and the task's classes. Defaults for the family-specific sizes follow the published
 * models (BERT's two token types and 1e-12 epsilon, T5's 32 buckets up to distance 128).
 */
export function specFromParams(p: ModelParams, vocabSize: number, numClasses: number): ModelSpec {
  const family = familyOf(p.architecture);
  // A misspelt size would otherwise fall back to its default without a word.
  const unknown = Object.keys(p).filter((k) => !KEYS[family].includes(k));
  if (unknown.length > 0)
    throw new Error(
      `model params: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} for architecture ${p.architecture} (known: ${KEYS[family].join(', ')})`,
    );
  const common = {
    vocabSize,
    contextLength: p.context_length,
    dModel: p.d_model,
    heads: p.heads,
    dFF: p.d_ff,
    numClasses,
    dropout: p.dropout,
  };
  switch (family) {
    case 'gpt':
      return { family: 'gpt', config: { ...common, layers: p.layers } };
    case 'bert':
      return {
        family: 'bert',
        config: {
          ...common,
          layers: p.layers,
          typeVocabSize: optional(p, 'type_vocab_size', 2),
          layerNormEps: optional(p, 'layer_norm_eps', 1e-12),
        },
      };
    case 't5':
      return {
        family: 't5',
        config: {
          ...common,
          encoderLayers: p.layers,
          decoderLayers: optional(p, 'decoder_layers', p.layers),
          dKv: optional(p, 'd_kv', Math.floor(p.d_model / p.heads)),
          feedForward: optional(p, 'feed_forward', 'gated-gelu'),
          relativeBuckets: optional(p, 'relative_buckets', 32),
          relativeMaxDistance: optional(p, 'relative_max_distance', 128),
          tieEmbeddings: optional(p, 'tie_embeddings', false),
          layerNormEps: optional(p, 'layer_norm_eps', 1e-6),
          maxTargetLength: optional(p, 'max_target_length', p.context_length),
        },
      };
  }
}
