import { type T5Config, validateT5Config } from '../models/t5-config.ts';
import type { T5 } from '../models/t5.ts';
import { type MappedTensor, assignVariables, transpose2d } from './assign.ts';
import { configBoolean, configInteger, configPositive, configProbability, configString } from './config-fields.ts';
import type { SafeTensors } from './safetensors.ts';

/**
 * A T5Config from a Hugging Face `config.json` (T5ForConditionalGeneration), with Hugging Face's
 * defaults where a field may be left out: num_decoder_layers = num_layers,
 * relative_attention_num_buckets 32, relative_attention_max_distance 128, feed_forward_proj
 * "relu", tie_word_embeddings true, layer_norm_epsilon 1e-6, dropout_rate 0.1. The encoder's
 * context is n_positions where the file has it (T5's configs say 512), else 512: T5 itself has
 * no absolute positions.
 */
export function t5ConfigFromHf(
  config: Record<string, unknown>,
  numClasses: number,
  maxTargetLength: number,
  file = 'config.json',
): T5Config {
  const proj = configString(config, 'feed_forward_proj', file, 'relu');
  if (proj !== 'relu' && proj !== 'gated-gelu')
    throw new Error(
      `${file}: field "feed_forward_proj" is ${JSON.stringify(proj)}; supported: "relu" (T5 v1.0), "gated-gelu" (T5 v1.1)`,
    );
  const tie = configBoolean(config, 'tie_word_embeddings', file, true);
  const scale = outputScaling(config, file);
  if (scale && !tie)
    throw new Error(
      `${file}: field "scale_decoder_outputs" is true with a separate lm_head (tie_word_embeddings false); this T5 rescales only a tied output layer`,
    );
  const encoderLayers = configInteger(config, 'num_layers', file);
  const out: T5Config = {
    vocabSize: configInteger(config, 'vocab_size', file),
    contextLength: configInteger(config, 'n_positions', file, 512),
    encoderLayers,
    decoderLayers: configInteger(config, 'num_decoder_layers', file, encoderLayers),
    dModel: configInteger(config, 'd_model', file),
    dKv: configInteger(config, 'd_kv', file),
    heads: configInteger(config, 'num_heads', file),
    dFF: configInteger(config, 'd_ff', file),
    feedForward: proj,
    relativeBuckets: configInteger(config, 'relative_attention_num_buckets', file, 32),
    relativeMaxDistance: configInteger(config, 'relative_attention_max_distance', file, 128),
    // A tied head that is not rescaled (transformers 5 writes v1.1 checkpoints so) computes what
    // a separate head holding a copy of the embeddings computes; it is loaded as one.
    tieEmbeddings: tie && scale,
    numClasses,
    dropout: configProbability(config, 'dropout_rate', file, 0.1),
    layerNormEps: configPositive(config, 'layer_norm_epsilon', file, 1e-6),
    maxTargetLength,
  };
  validateT5Config(out);
  return out;
}

/**
 * Whether the decoder output is scaled by dModel^-0.5 before the output layer. transformers 4
 * ties this to tie_word_embeddings (T5 v1.0: tied and scaled; v1.1: separate and unscaled);
 * transformers 5 says it in its own field, scale_decoder_outputs, and writes v1.1 checkpoints as
 * tied but unscaled, with no lm_head tensor.
 */
function outputScaling(config: Record<string, unknown>, file: string): boolean {
  const tie = configBoolean(config, 'tie_word_embeddings', file, true);
  return configBoolean(config, 'scale_decoder_outputs', file, tie);
}

/** One model parameter and the checkpoint tensor(s) it may come from, in PyTorch's layout. */
interface Source {
  param: string;
  /** Candidate names, first present wins. */
  names: string[];
  shape: number[];
  /** A Linear weight `[out, in]`, stored here as `[in, out]`. */
  linear: boolean;
}

function sources(config: T5Config, headFromShared: boolean): Source[] {
  const { vocabSize: V, dModel: d, dKv, heads, dFF, relativeBuckets } = config;
  const inner = heads * dKv;
  const out: Source[] = [];
  const linear = (param: string, name: string, outDim: number, inDim: number): void => {
    out.push({ param, names: [name], shape: [outDim, inDim], linear: true });
  };
  const vector = (param: string, name: string): void => {
    out.push({ param, names: [name], shape: [d], linear: false });
  };
  const attention = (param: string, hf: string): void => {
    linear(`${param}/q`, `${hf}.q.weight`, inner, d);
    linear(`${param}/k`, `${hf}.k.weight`, inner, d);
    linear(`${param}/v`, `${hf}.v.weight`, inner, d);
    linear(`${param}/o`, `${hf}.o.weight`, d, inner);
  };
  const feedForward = (param: string, hf: string): void => {
    if (config.feedForward === 'relu') linear(`${param}/wi`, `${hf}.wi.weight`, dFF, d);
    else {
      linear(`${param}/wi0`, `${hf}.wi_0.weight`, dFF, d);
      linear(`${param}/wi1`, `${hf}.wi_1.weight`, dFF, d);
    }
    linear(`${param}/wo`, `${hf}.wo.weight`, d, dFF);
  };
  // Tied copies are often saved once: under `shared`, or only as a stack's embed_tokens.
  out.push({
    param: 'shared',
    names: ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'],
    shape: [V, d],
    linear: false,
  });
  out.push({
    param: 'enc/rel_bias',
    names: ['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'],
    shape: [relativeBuckets, heads],
    linear: false,
  });
  for (let i = 0; i < config.encoderLayers; i++) {
    const hf = `encoder.block.${i}.layer`;
    attention(`enc/b${i}/attn`, `${hf}.0.SelfAttention`);
    vector(`enc/b${i}/ln1`, `${hf}.0.layer_norm.weight`);
    feedForward(`enc/b${i}/ff`, `${hf}.1.DenseReluDense`);
    vector(`enc/b${i}/ln2`, `${hf}.1.layer_norm.weight`);
  }
  vector('enc/ln_f', 'encoder.final_layer_norm.weight');
  out.push({
    param: 'dec/rel_bias',
    names: ['decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'],
    shape: [relativeBuckets, heads],
    linear: false,
  });
  for (let i = 0; i < config.decoderLayers; i++) {
    const hf = `decoder.block.${i}.layer`;
    attention(`dec/b${i}/self`, `${hf}.0.SelfAttention`);
    vector(`dec/b${i}/ln1`, `${hf}.0.layer_norm.weight`);
    attention(`dec/b${i}/cross`, `${hf}.1.EncDecAttention`);
    vector(`dec/b${i}/ln2`, `${hf}.1.layer_norm.weight`);
    feedForward(`dec/b${i}/ff`, `${hf}.2.DenseReluDense`);
    vector(`dec/b${i}/ln3`, `${hf}.2.layer_norm.weight`);
  }
  vector('dec/ln_f', 'decoder.final_layer_norm.weight');
  // Tied (v1.0) checkpoints may also carry lm_head.weight, a copy of shared: not read. A tied
  // but unscaled checkpoint has no lm_head: the separate head starts as the embeddings.
  if (!config.tieEmbeddings)
    out.push({
      param: 'lm_head',
      names: headFromShared ? ['shared.weight'] : ['lm_head.weight'],
      shape: [V, d],
      linear: true,
    });
  return out;
}

/**
 * The model's parameters from a Hugging Face T5ForConditionalGeneration safetensors file, under
 * the T5 class's variable names and in its layout (Linear weights transposed to `[in, out]`;
 * embeddings and relative-bias tables as stored). Every tensor the config needs must be there
 * with PyTorch's shape for that config; the error names the tensor.
 */
export function t5TensorsFromHf(
  st: SafeTensors,
  config: T5Config,
  file = 'model.safetensors',
  hf: Record<string, unknown> = {},
): Map<string, MappedTensor> {
  const mapped = new Map<string, MappedTensor>();
  const headFromShared = !config.tieEmbeddings && configBoolean(hf, 'tie_word_embeddings', file, false);
  for (const s of sources(config, headFromShared)) {
    const name = s.names.find((n) => st.has(n));
    if (name === undefined) throw new Error(`${file}: missing tensor "${s.names[0]}" (for parameter "${s.param}")`);
    const { shape, data } = st.float32(name);
    if (shape.length !== s.shape.length || shape.some((dim, i) => dim !== s.shape[i])) {
      throw new Error(
        `${file}: tensor "${name}" has shape [${shape.join(', ')}] but the config needs [${s.shape.join(', ')}]`,
      );
    }
    if (s.linear)
      mapped.set(s.param, {
        shape: [shape[1]!, shape[0]!],
        data: transpose2d(data, shape[0]!, shape[1]!),
        source: name,
      });
    else mapped.set(s.param, { shape, data, source: name });
  }
  return mapped;
}

/**
 * Loads a Hugging Face T5 checkpoint into `model` (built from t5ConfigFromHf of the same
 * config.json, passed as `hf`); all or nothing.
 */
export function loadT5Checkpoint(
  model: T5,
  st: SafeTensors,
  file = 'model.safetensors',
  hf: Record<string, unknown> = {},
): void {
  assignVariables(model.variables, t5TensorsFromHf(st, model.config, file, hf), { file });
}
