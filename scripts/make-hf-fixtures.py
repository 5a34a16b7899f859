"""Tiny Hugging Face checkpoints and their outputs, made by transformers itself, for the parity test.

Run where PyTorch and transformers are installed (the pipeline's own machine has neither):

    python3 scripts/make-hf-fixtures.py OUTDIR

For each case it builds a small randomly initialised model with transformers, spreads its
weights (so that outputs are far from uniform and a layout mistake shows), saves it with
save_pretrained (config.json and model.safetensors, as the Hub has them), runs it on a padded
batch in eval mode and writes the inputs and outputs to expected.json beside it.
test/hf-parity.test.ts loads the directories with the pipeline's loader and compares.
"""
import copy
import json
import os
import sys

import torch
import transformers
from transformers import (BertConfig, BertForMaskedLM, BertForSequenceClassification, GPT2Config,
                          GPT2ForSequenceClassification, GPT2LMHeadModel, T5Config,
                          T5ForConditionalGeneration)

out_dir = sys.argv[1]
torch.manual_seed(20261127)
V, T = 50, 12
LENGTHS = [12, 7]
PAD = 0


def batch(vocab=V, time=T, lengths=LENGTHS):
    ids, mask = [], []
    for n in lengths:
        row = torch.randint(3, vocab, (n,)).tolist()
        ids.append(row + [PAD] * (time - n))
        mask.append([1] * n + [0] * (time - n))
    return torch.tensor(ids), torch.tensor(mask)


def spread(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            norm = any(k in name for k in ('LayerNorm', 'ln_', 'layer_norm'))
            p.copy_(torch.randn_like(p) * (0.2 if norm else 0.3) + (1.0 if norm and name.endswith(('weight', 'gamma')) else 0.0))


def save(name, model, expected):
    path = os.path.join(out_dir, name)
    try:
        model.save_pretrained(path, safe_serialization=True)
    except TypeError:  # transformers 5 writes safetensors only and dropped the argument
        model.save_pretrained(path)
    for extra in ('generation_config.json',):
        if os.path.exists(os.path.join(path, extra)):
            os.remove(os.path.join(path, extra))
    expected['transformers'] = transformers.__version__
    expected['torch'] = torch.__version__
    with open(os.path.join(path, 'expected.json'), 'w') as f:
        json.dump(expected, f)


def lm_loss(logits, ids, mask):
    # Mean next-token cross-entropy over the real targets, as GPT2LMHeadModel's loss with -100 on padding.
    labels = ids.clone()
    labels[mask == 0] = -100
    shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
    return torch.nn.functional.cross_entropy(shift_logits, labels[:, 1:].reshape(-1), ignore_index=-100).item()


def build(model_class, config):
    """The model, initialised by transformers, spread, and in eval mode."""
    m = model_class(config)
    spread(m)
    m.eval()
    return m


def logits_of(model, **inputs):
    with torch.no_grad():
        return model(**inputs).logits


def with_labels(config, num_labels):
    labelled = copy.deepcopy(config)
    labelled.num_labels = num_labels
    return labelled


# GPT-2: LM head (tied) and a sequence-classification head. BERT: masked LM (no pooler) and
# sequence classification (pooler + classifier). Each family draws one batch, before its first
# model, and runs both of its models on it; a case with a label count gets a copy of the config.
g = GPT2Config(vocab_size=V, n_positions=16, n_embd=16, n_layer=2, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, pad_token_id=PAD)
b = BertConfig(vocab_size=V, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=16,
               hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=PAD)
for config, cases in (
    (g, (('gpt2-lm', GPT2LMHeadModel, None, 'lm_loss'), ('gpt2-cls', GPT2ForSequenceClassification, 3, 'class_logits'))),
    (b, (('bert-mlm', BertForMaskedLM, None, 'mlm_logits'), ('bert-cls', BertForSequenceClassification, 2, 'class_logits'))),
):
    ids, mask = batch()
    for name, model_class, num_labels, output in cases:
        m = build(model_class, config if num_labels is None else with_labels(config, num_labels))
        logits = logits_of(m, input_ids=ids, attention_mask=mask)
        value = lm_loss(logits, ids, mask) if output == 'lm_loss' else logits.tolist()
        save(name, m, {'ids': ids.tolist(), 'mask': mask.tolist(), output: value})

# T5 v1.0 (ReLU, tied head) and v1.1 (gated GELU, separate head); relative buckets reach the
# logarithmic range within 12 positions.
for name, ff, tie in (('t5-v1_0', 'relu', True), ('t5-v1_1', 'gated-gelu', False)):
    c = T5Config(vocab_size=V, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_decoder_layers=2, num_heads=2, relative_attention_num_buckets=8,
                 relative_attention_max_distance=16, dropout_rate=0.0, feed_forward_proj=ff, tie_word_embeddings=tie, pad_token_id=PAD,
                 eos_token_id=1, decoder_start_token_id=PAD)
    m = build(T5ForConditionalGeneration, c)
    ids, mask = batch()
    dec_ids, dec_mask = batch(time=9, lengths=[9, 5])
    dec_ids[:, 0] = PAD  # the decoder start token
    logits = logits_of(m, input_ids=ids, attention_mask=mask, decoder_input_ids=dec_ids, decoder_attention_mask=dec_mask)
    save(name, m, {'ids': ids.tolist(), 'mask': mask.tolist(), 'dec_ids': dec_ids.tolist(), 'dec_mask': dec_mask.tolist(), 'logits': logits.tolist()})

print('wrote', sorted(os.listdir(out_dir)), 'with transformers', transformers.__version__, 'torch', torch.__version__)
