import type { GptConfig } from '../models/gpt-config.ts';
import type { Gpt } from '../models/gpt.ts';
import { type MappedTensor, assignVariables, transpose2d } from './assign.ts';
import { configInteger, configNumber, configProbability, configString } from './config-fields.ts';
import type { SafeTensors } from './safetensors.ts';

/**
 * A GPT-2 model's config.json (GPT2Config) as our decoder's sizes. Our decoder computes exactly
 * GPT-2's function (tanh GELU, layer-norm epsilon 1e-5, 1/sqrt(d_head) attention scaling), so a
 * config asking for anything else is refused rather than loaded into a different function.
 */
export function gpt2ConfigFromHf(config: Record<string, unknown>, numClasses: number, file = 'config.json'): GptConfig {
  const dModel = configInteger(config, 'n_embd', file);
  const activation = configString(config, 'activation_function', file, 'gelu_new');
  if (activation !== 'gelu_new' && activation !== 'gelu_pytorch_tanh')
    throw new Error(`${file}: activation_function "${activation}" is not supported (the GPT-2 decoder uses gelu_new)`);
  const epsilon = configNumber(config, 'layer_norm_epsilon', file, 1e-5);
  if (epsilon !== 1e-5)
    throw new Error(`${file}: layer_norm_epsilon ${epsilon} is not supported (the GPT-2 decoder uses 1e-5)`);
  for (const flag of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'] as const) {
    if (config[flag] === true) throw new Error(`${file}: ${flag} is not supported`);
  }
  if (config.scale_attn_weights === false) throw new Error(`${file}: scale_attn_weights false is not supported`);
  const inner =
    config.n_inner === null || config.n_inner === undefined ? 4 * dModel : configInteger(config, 'n_inner', file);
  return {
    vocabSize: configInteger(config, 'vocab_size', file),
    contextLength: configInteger(config, 'n_positions', file),
    layers: configInteger(config, 'n_layer', file),
    dModel,
    heads: configInteger(config, 'n_head', file),
    dFF: inner,
    numClasses,
    dropout: configProbability(config, 'resid_pdrop', file, 0.1),
  };
}

/**
 * GPT-2's tensors under our names. GPT-2 stores its projections as Conv1D, whose weight is
 * `[in, out]`, the layout our decoder uses: only a classification head saved by
 * GPT2ForSequenceClassification (`score`, a Linear `[out, in]`, no bias) is transposed. Names
 * may carry the `transformer.` prefix of the LM-head and classification models.
 */
export function gpt2TensorsFromHf(
  st: SafeTensors,
  config: GptConfig,
  file = 'model.safetensors',
): Map<string, MappedTensor> {
  const prefix = st.has('transformer.wte.weight') ? 'transformer.' : '';
  const out = new Map<string, MappedTensor>();
  const take = (ours: string, theirs: string): void => {
    const name = prefix + theirs;
    if (!st.has(name)) throw new Error(`${file}: missing tensor "${name}"`);
    const { shape, data } = st.float32(name);
    out.set(ours, { shape, data, source: name });
  };
  take('wte', 'wte.weight');
  take('wpe', 'wpe.weight');
  for (let i = 0; i < config.layers; i++) {
    const pairs: [string, string][] = [
      ['ln1/g', 'ln_1.weight'],
      ['ln1/b', 'ln_1.bias'],
      ['attn/qkv/w', 'attn.c_attn.weight'],
      ['attn/qkv/b', 'attn.c_attn.bias'],
      ['attn/proj/w', 'attn.c_proj.weight'],
      ['attn/proj/b', 'attn.c_proj.bias'],
      ['ln2/g', 'ln_2.weight'],
      ['ln2/b', 'ln_2.bias'],
      ['mlp/fc/w', 'mlp.c_fc.weight'],
      ['mlp/fc/b', 'mlp.c_fc.bias'],
      ['mlp/proj/w', 'mlp.c_proj.weight'],
      ['mlp/proj/b', 'mlp.c_proj.bias'],
    ];
    for (const [ours, theirs] of pairs) take(`h${i}/${ours}`, `h.${i}.${theirs}`);
  }
  take('lnf/g', 'ln_f.weight');
  take('lnf/b', 'ln_f.bias');
  if (st.has('score.weight')) {
    const { shape, data } = st.float32('score.weight');
    if (shape.length === 2 && shape[0] === config.numClasses) {
      out.set('cls/w', {
        shape: [shape[1]!, shape[0]!],
        data: transpose2d(data, shape[0]!, shape[1]!),
        source: 'score.weight',
      });
      out.set('cls/b', {
        shape: [config.numClasses],
        data: new Float32Array(config.numClasses),
        source: 'score.weight',
      });
    }
  }
  return out;
}

/** Loads GPT-2 weights; a classification head the checkpoint lacks stays as initialised. */
export function loadGpt2Checkpoint(model: Gpt, st: SafeTensors, file = 'model.safetensors'): void {
  assignVariables(model.variables, gpt2TensorsFromHf(st, model.config, file), {
    optional: (name) => name.startsWith('cls/'),
    file,
  });
}
