import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, startCli } from './helpers/project.ts';
import { skipWithoutWebGpu } from './helpers/webgpu.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * The smoke study cut further for lavapipe, which runs every kernel on the CPU and compiles each
 * shader once per stage process: two optimizers and two seeds (the least the statistics take),
 * fewer texts. Every architecture and every kind of stage still runs.
 */
const PROFILE = `vars:
  seeds: [1, 2]
  variants: [sgd, adamw]
  corpus: {source: spam-assassin, max_per_group: 16, max_chars: 300}
  tokenizer: {vocab_size: 300, context_length: 24}
  models:
    gpt2: {architecture: gpt2, layers: 1, d_model: 16, heads: 2, d_ff: 32, context_length: 24, dropout: 0}
    bert: {architecture: bert, layers: 1, d_model: 16, heads: 2, d_ff: 32, context_length: 24, dropout: 0}
    t5: {architecture: t5, layers: 1, decoder_layers: 1, d_model: 16, d_kv: 8, heads: 2, d_ff: 32, feed_forward: gated-gelu, tie_embeddings: true, context_length: 24, dropout: 0}
  pretraining:
    epochs: 1
    batch_size: 16
    optimizer: {name: adamw, learning_rate: 0.002, weight_decay: 0.01}
  finetuning: {epochs: 1, batch_size: 16, trainable: all}
`;

function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-study-'));
  for (const p of ['pipeline.yaml', 'profiles', 'package.json', 'package-lock.json', 'data', 'stages', 'src'])
    cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'profiles', 'webgpu-test.yaml'), PROFILE);
  return dir;
}

describe('the study on webgpu (lavapipe in CI)', () => {
  it('runs from an empty store with PIPELINE_BACKEND=webgpu and records webgpu and the adapter for every ML stage', async (t) => {
    if (await skipWithoutWebGpu(t)) return;
    const dir = freshCopy();
    const run = await startCli(dir, ['--profile', 'webgpu-test', 'repro', '-j', '2', '--json'], {
      PIPELINE_BACKEND: 'webgpu',
    }).done;
    assert.equal(
      run.code,
      0,
      run.stderr
        .split('\n')
        .filter((l) => !l.includes('Warning: maxDynamic'))
        .slice(-40)
        .join('\n'),
    );
    const stages = (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { stages: { name: string; status: string }[] })
      .stages;
    assert.ok(stages.length > 0 && stages.every((s) => s.status === 'ran'), 'every stage ran');
    const query =
      "SELECT stage, backend, provenance FROM runs WHERE regexp_matches(stage, '^(pretrain|finetune|evaluate)@') ORDER BY stage";
    const runs = JSON.parse((await cli(dir, 'query', query, '--json')).stdout) as {
      stage: string;
      backend: string;
      provenance: string;
    }[];
    assert.equal(runs.length, 3 + 2 * 2 * 3 * 2, 'three pre-trainings, twelve fine-tunes, twelve evaluations');
    for (const r of runs) {
      assert.equal(r.backend, 'webgpu', r.stage);
      const adapter = (JSON.parse(r.provenance) as { adapter?: Record<string, unknown> }).adapter;
      assert.ok(adapter !== undefined, `${r.stage} records its adapter`);
      for (const field of ['vendor', 'architecture', 'device', 'description'])
        assert.equal(typeof adapter[field], 'string', `${r.stage} adapter.${field}`);
      assert.equal(typeof adapter.software, 'boolean', r.stage);
    }
    // The statistics and the report ran on what webgpu computed.
    assert.ok(stages.some((s) => s.name === 'report'));
  });
});
