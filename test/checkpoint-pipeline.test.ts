import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { BpeTokenizer } from '../src/ml/bpe.ts';
import { unigramTokenizer, wordPieceTokenizer, writeHfCheckpoint } from './helpers/hf-checkpoints.ts';
import { cli, reproJson } from './helpers/project.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

const WORDS =
  'the a to and of you your for is in it this that on with are be i we have not free money click here email list from at our by or can will more all just new get now please business offer'.split(
    ' ',
  );

/**
 * A copy of the study with a profile that starts each architecture from a Hugging Face
 * checkpoint directory in the project (`checkpoints`): GPT-2 with a byte-level BPE tokenizer in
 * half precision, BERT with WordPiece, T5 (v1.1 layout) with a Unigram tokenizer and sentinels;
 * smoke sizes otherwise.
 */
function projectWithCheckpoints(): { dir: string; vocab: Record<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'checkpoint-pipeline-'));
  for (const p of ['pipeline.yaml', 'profiles', 'package.json', 'package-lock.json', 'data', 'stages', 'src'])
    cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  const texts = Array.from(
    { length: 60 },
    (_, i) => `message ${i} about money offers and meetings ${i % 7} with friends`,
  );
  const gpt2 = BpeTokenizer.train(texts, 340);
  const bert = BpeTokenizer.fromJson(wordPieceTokenizer(WORDS));
  const t5 = BpeTokenizer.fromJson(unigramTokenizer(WORDS, 8));
  const sizes = { positions: 40, d: 16, heads: 2, layers: 1 };
  writeHfCheckpoint('gpt2', join(dir, 'ckpt/gpt2'), { ...sizes, vocabSize: gpt2.vocabSize + 4 }, gpt2.json, 3, 'F16');
  writeHfCheckpoint('bert', join(dir, 'ckpt/bert'), { ...sizes, vocabSize: bert.vocabSize }, bert.json, 4, 'BF16');
  writeHfCheckpoint('t5', join(dir, 'ckpt/t5'), { ...sizes, vocabSize: t5.vocabSize + 2 }, t5.json, 5, 'F32');
  const profile = parseYaml(readFileSync(join(REPO, 'profiles/smoke.yaml'), 'utf8')) as {
    vars: Record<string, unknown>;
  };
  Object.assign(profile.vars, {
    variants: ['adamw', 'sgd'],
    seeds: [1, 2],
    checkpoints: { gpt2: 'ckpt/gpt2', bert: 'ckpt/bert', t5: 'ckpt/t5' },
    pretraining: { epochs: 0, batch_size: 16, optimizer: { name: 'adamw', learning_rate: 0.001 } },
  });
  writeFileSync(join(dir, 'profiles/ckpt.yaml'), stringifyYaml(profile));
  return { dir, vocab: { gpt2: gpt2.vocabSize, bert: bert.vocabSize, t5: t5.vocabSize } };
}

// A profile run records its state in lockfile.PROFILE.json.
const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'lockfile.ckpt.json'), 'utf8'));

describe('a study started from a Hugging Face checkpoint', () => {
  it("uses each checkpoint's tokenizer and sizes, hashes its bytes, and names a broken tensor in one line", async () => {
    const { dir, vocab } = projectWithCheckpoints();
    const run = await reproJson(dir, '--profile', 'ckpt', '-j', '2', 'evaluate');
    assert.equal(run.result.code, 0, run.result.stderr);
    const lock = lockOf(dir);
    for (const arch of ['gpt2', 'bert', 't5']) {
      assert.equal(
        lock.stages[`tokenize@${arch}`].metrics.vocab_size,
        vocab[arch],
        `${arch}: the checkpoint's tokenizer, not one trained here`,
      );
      const m = lock.stages[`evaluate@${arch}-adamw-1`].metrics;
      assert.ok(
        m.test_accuracy >= 0 && m.test_accuracy <= 1 && Number.isFinite(m.test_perplexity),
        `${arch} evaluated`,
      );
    }
    // The model is the checkpoint's: 1 block of width 16 over 40 positions, not pipeline.yaml's size.
    const d = 16;
    const expected =
      (vocab.gpt2! + 4) * d +
      40 * d +
      (4 * d + 3 * d * d + 3 * d + d * d + d + 2 * (4 * d * d) + 4 * d + d) +
      2 * d +
      (d * 2 + 2);
    assert.equal(lock.stages['pretrain@gpt2'].metrics.parameters, expected);
    // A profile run's results are addressed through its lockfile, lockfile.ckpt.json.
    const exported = await cli(
      dir,
      '--profile',
      'ckpt',
      'export',
      'pretrain@t5:json:spec',
      '--format',
      'json',
      '-o',
      join(dir, 'spec.json'),
    );
    assert.equal(exported.code, 0, exported.stderr);
    const spec = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8'));
    assert.deepEqual(
      [spec.family, spec.config.encoderLayers, spec.config.dModel, spec.config.feedForward, spec.config.tieEmbeddings],
      ['t5', 1, 16, 'gated-gelu', false],
    );

    // One byte of one weight changed: the tokenizer, the pre-trained model and everything after are stale.
    const weights = join(dir, 'ckpt/gpt2/model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
    writeFileSync(weights, bytes);
    const dry = await reproJson(dir, '--profile', 'ckpt', '--dry', 'evaluate');
    for (const stage of ['tokenize@gpt2', 'pretrain@gpt2', 'finetune@gpt2-sgd-2', 'evaluate@gpt2-adamw-1'])
      assert.equal(dry.status[stage], 'would-run', `${stage}: ${dry.status[stage]}`);
    assert.equal(dry.status['preprocess@as-is'], 'cached');

    // A checkpoint that lacks a tensor: one line naming it; what is stored stays valid.
    const header = readFileSync(weights);
    const renamed = Buffer.from(
      header.toString('latin1').replace('transformer.h.0.mlp.c_fc.bias', 'transformer.h.0.mlp.c_fc.bia_'),
      'latin1',
    );
    writeFileSync(weights, renamed);
    const broken = await reproJson(dir, '--profile', 'ckpt', 'evaluate');
    assert.notEqual(broken.result.code, 0);
    assert.equal(broken.status['pretrain@gpt2'], 'failed');
    assert.match(
      broken.result.stderr,
      /pretrain@gpt2 failed: .*ckpt\/gpt2\/model\.safetensors: missing tensor "transformer\.h\.0\.mlp\.c_fc\.bias"/,
    );
    assert.deepEqual(
      lockOf(dir).stages['pretrain@gpt2'],
      lock.stages['pretrain@gpt2'],
      'the earlier result is still what the lockfile records',
    );
    const verify = await cli(dir, '--profile', 'ckpt', 'verify');
    assert.equal(verify.code, 0, verify.stderr);
  });
});
