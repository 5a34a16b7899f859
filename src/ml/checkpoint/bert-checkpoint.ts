import type { Bert } from '../models/bert.ts';
import { type BertConfig, validateBertConfig } from '../models/bert-config.ts';
import { type MappedTensor, assignVariables, transpose2d } from './assign.ts';
import { configInteger, configPositive, configProbability, configString } from './config-fields.ts';
import type { SafeTensors } from './safetensors.ts';

/*
 * Hugging Face BERT checkpoints (transformers' modeling_bert.py) to our variables. The encoder's
 * tensors sit under `bert.` in BertForPreTraining, BertForMaskedLM and
 * BertForSequenceClassification, and at the top level in a bare BertModel. Layer norms are
 * `.weight/.bias`, or `.gamma/.beta` in checkpoints converted from the original TensorFlow
 * release. Every nn.Linear stores its weight as [out, in]; ours are [in, out].
 */

/** Defaults of transformers' BertConfig for fields that old config.json files leave out. */
const HF_DEFAULTS = {
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  hidden_act: 'gelu',
  position_embedding_type: 'absolute',
} as const;

/**
 * Our BertConfig from a Hugging Face BERT config.json. The number of classes is the caller's (the
 * task decides it, not the checkpoint). Refuses what this model does not implement: an activation
 * other than the exact GELU, relative position embeddings, a decoder, another model type.
 */
export function bertConfigFromHf(
  config: Record<string, unknown>,
  numClasses: number,
  file = 'config.json',
): BertConfig {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  const modelType = config.model_type;
  if (modelType !== undefined && modelType !== 'bert') fail(`model_type is ${JSON.stringify(modelType)}, not "bert"`);
  // transformers' "gelu" is the exact erf GELU; "gelu_new" and the others are approximations.
  const act = configString(config, 'hidden_act', file, HF_DEFAULTS.hidden_act);
  if (act !== 'gelu')
    fail(`hidden_act is ${JSON.stringify(act)}; this BERT implements only "gelu" (the exact erf GELU)`);
  const positions = configString(config, 'position_embedding_type', file, HF_DEFAULTS.position_embedding_type);
  if (positions !== 'absolute')
    fail(`position_embedding_type is ${JSON.stringify(positions)}; this BERT implements only "absolute"`);
  if (config.is_decoder === true) fail('is_decoder is true; this BERT is an encoder only');
  const positiveInt = (key: string, fallback?: number): number => configInteger(config, key, file, fallback);
  const out: BertConfig = {
    vocabSize: positiveInt('vocab_size'),
    contextLength: positiveInt('max_position_embeddings'),
    typeVocabSize: positiveInt('type_vocab_size', HF_DEFAULTS.type_vocab_size),
    layers: positiveInt('num_hidden_layers'),
    dModel: positiveInt('hidden_size'),
    heads: positiveInt('num_attention_heads'),
    dFF: positiveInt('intermediate_size'),
    numClasses,
    dropout: configProbability(config, 'hidden_dropout_prob', file, HF_DEFAULTS.hidden_dropout_prob),
    layerNormEps: configPositive(config, 'layer_norm_eps', file, HF_DEFAULTS.layer_norm_eps),
  };
  if (out.dModel % out.heads !== 0)
    fail(`hidden_size ${out.dModel} is not divisible by num_attention_heads ${out.heads}`);
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`number of classes must be a positive integer, got ${numClasses}`);
  validateBertConfig(out);
  return out;
}

/**
 * Checkpoint tensors that no parameter of ours corresponds to and that change nothing we compute:
 * the position-id buffer, the next-sentence head, the tied decoder (checked against the word
 * embeddings), other task heads outside the encoder.
 */
function isUnusedHead(name: string, prefix: string): boolean {
  if (name === `${prefix}embeddings.position_ids`) return true;
  if (name.startsWith('cls.seq_relationship.')) return true;
  if (name.startsWith('cls.predictions.')) return false;
  if (prefix === 'bert.') return !name.startsWith('bert.');
  return !/^(embeddings|encoder|pooler)\./.test(name);
}

/**
 * Maps a Hugging Face BERT checkpoint to our parameter names and layout. The encoder is
 * required; the pooler, the masked-LM head (`cls.predictions.*`) and the classifier are taken
 * when the checkpoint has them, each all or nothing (a BertForMaskedLM has no pooler, a BertModel
 * no heads). The classifier is taken only when it has `numClasses` outputs: a head trained for
 * other labels is left to the new task. Errors are one line naming the tensor: a missing or
 * mis-shaped tensor, and an unknown tensor inside the encoder or MLM head (a checkpoint with more
 * layers, or another architecture, would otherwise load silently wrong).
 */
export function bertTensorsFromHf(
  st: SafeTensors,
  config: BertConfig,
  file = 'model.safetensors',
): Map<string, MappedTensor> {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  const prefix = st.has('bert.embeddings.word_embeddings.weight')
    ? 'bert.'
    : st.has('embeddings.word_embeddings.weight')
      ? ''
      : fail(
          'missing the tensor "bert.embeddings.word_embeddings.weight" (nor "embeddings.word_embeddings.weight" of a bare BertModel)',
        );
  const { vocabSize: V, contextLength: P, typeVocabSize, dModel: d, dFF, layers, numClasses } = config;
  const used = new Set<string>();
  const out = new Map<string, MappedTensor>();

  const read = (name: string, shape: readonly number[]): { shape: number[]; data: Float32Array } => {
    if (!st.has(name)) fail(`missing the tensor "${name}"`);
    const stored = st.tensors.get(name)!;
    if (stored.shape.length !== shape.length || stored.shape.some((n, i) => n !== shape[i])) {
      fail(`tensor "${name}" has shape [${stored.shape.join(', ')}] but the config needs [${shape.join(', ')}]`);
    }
    let value: { shape: number[]; data: Float32Array };
    try {
      value = st.float32(name);
    } catch (e) {
      return fail((e as Error).message);
    }
    used.add(name);
    return value;
  };
  const copy = (ours: string, name: string, shape: number[]): void => {
    out.set(ours, { shape, data: read(name, shape).data, source: name });
  };
  const linear = (ours: string, hf: string, inputs: number, outputs: number): void => {
    const w = read(`${hf}.weight`, [outputs, inputs]);
    out.set(`${ours}/w`, {
      shape: [inputs, outputs],
      data: transpose2d(w.data, outputs, inputs),
      source: `${hf}.weight`,
    });
    copy(`${ours}/b`, `${hf}.bias`, [outputs]);
  };
  const norm = (ours: string, hf: string): void => {
    const old = !st.has(`${hf}.weight`) && st.has(`${hf}.gamma`);
    copy(`${ours}/g`, `${hf}.${old ? 'gamma' : 'weight'}`, [d]);
    copy(`${ours}/b`, `${hf}.${old ? 'beta' : 'bias'}`, [d]);
  };

  const e = `${prefix}embeddings`;
  copy('emb/word', `${e}.word_embeddings.weight`, [V, d]);
  copy('emb/pos', `${e}.position_embeddings.weight`, [P, d]);
  copy('emb/type', `${e}.token_type_embeddings.weight`, [typeVocabSize, d]);
  norm('emb/ln', `${e}.LayerNorm`);
  for (let i = 0; i < layers; i++) {
    const l = `${prefix}encoder.layer.${i}`;
    linear(`l${i}/attn/q`, `${l}.attention.self.query`, d, d);
    linear(`l${i}/attn/k`, `${l}.attention.self.key`, d, d);
    linear(`l${i}/attn/v`, `${l}.attention.self.value`, d, d);
    linear(`l${i}/attn/out`, `${l}.attention.output.dense`, d, d);
    norm(`l${i}/attn/ln`, `${l}.attention.output.LayerNorm`);
    linear(`l${i}/ffn/in`, `${l}.intermediate.dense`, d, dFF);
    linear(`l${i}/ffn/out`, `${l}.output.dense`, dFF, d);
    norm(`l${i}/ffn/ln`, `${l}.output.LayerNorm`);
  }

  const pooler = `${prefix}pooler.dense`;
  if (st.has(`${pooler}.weight`) || st.has(`${pooler}.bias`)) linear('pool', pooler, d, d);

  const mlm = 'cls.predictions';
  if ([...st.tensors.keys()].some((n) => n.startsWith(`${mlm}.`))) {
    linear('mlm/dense', `${mlm}.transform.dense`, d, d);
    norm('mlm/ln', `${mlm}.transform.LayerNorm`);
    // transformers ties decoder.bias to predictions.bias; a file keeps one or both.
    const bias = st.has(`${mlm}.bias`) ? `${mlm}.bias` : `${mlm}.decoder.bias`;
    copy('mlm/bias', bias, [V]);
    const other = `${mlm}.decoder.bias`;
    if (bias !== other && st.has(other)) {
      const a = out.get('mlm/bias')!.data;
      const b = read(other, [V]).data;
      if (a.some((x, i) => x !== b[i]))
        fail(`tensor "${other}" differs from "${bias}"; they are one parameter in BERT`);
    }
    const decoder = `${mlm}.decoder.weight`;
    if (st.has(decoder)) {
      const word = out.get('emb/word')!.data;
      const w = read(decoder, [V, d]).data;
      if (w.some((x, i) => x !== word[i]))
        fail(`tensor "${decoder}" differs from the word embeddings; this BERT ties its MLM decoder to them`);
    }
  }

  const classifier = st.tensors.get('classifier.weight');
  if (
    classifier !== undefined &&
    classifier.shape.length === 2 &&
    classifier.shape[0] === numClasses &&
    classifier.shape[1] === d
  )
    linear('cls', 'classifier', d, numClasses);

  for (const name of st.tensors.keys()) {
    if (used.has(name) || isUnusedHead(name, prefix)) continue;
    fail(`unexpected tensor "${name}": no parameter of a ${layers}-layer BERT corresponds to it`);
  }
  return out;
}

/**
 * Loads a Hugging Face BERT checkpoint into `model`. What the checkpoint has no tensors for (the
 * pooler of a BertForMaskedLM, the MLM head of a classifier, a classifier for other labels) stays
 * as initialised; the mapping already insists that each of those comes whole or not at all.
 */
export function loadBertCheckpoint(model: Bert, st: SafeTensors, file = 'model.safetensors'): void {
  const mapped = bertTensorsFromHf(st, model.config, file);
  assignVariables(model.variables, mapped, { file, optional: (name) => /^(pool|mlm|cls)\//.test(name) });
}
