import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendDifference } from '../src/run/backend-difference.ts';
import { studyBackend } from '../src/study/backend.ts';

const lavapipe = {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe',
  description: 'llvmpipe: Mesa 25.0.7',
  software: true,
};
const nvidia = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'NVIDIA H200',
  description: 'NVIDIA 570.1',
  software: false,
};

describe('verify --rerun on another backend', () => {
  it('explains a rerun on another backend instead of reporting it like tampering', () => {
    const why = backendDifference(
      { backend: 'webgpu', provenance: { backend: 'webgpu', adapter: nvidia } },
      { backend: 'wasm', provenance: { backend: 'wasm' } },
    );
    assert.match(why ?? '', /^computed on webgpu \(nvidia NVIDIA H200\), rerun on wasm: /);
    assert.match(why ?? '', /not expected to be bit-identical/);
  });

  it('names two adapters of one backend apart', () => {
    const why = backendDifference(
      { backend: 'webgpu', provenance: { adapter: nvidia } },
      { backend: 'webgpu', provenance: { adapter: lavapipe } },
    );
    assert.match(why ?? '', /^computed on webgpu \(nvidia NVIDIA H200\), rerun on webgpu \(mesa llvmpipe\)/);
  });

  it('says nothing when both ran alike or either is unknown: a difference then is the stage itself', () => {
    assert.equal(
      backendDifference({ backend: 'wasm', provenance: {} }, { backend: 'wasm', provenance: {} }),
      undefined,
    );
    assert.equal(
      backendDifference(
        { backend: 'webgpu', provenance: { adapter: lavapipe } },
        { backend: 'webgpu', provenance: { adapter: lavapipe } },
      ),
      undefined,
    );
    assert.equal(backendDifference(undefined, { backend: 'wasm', provenance: {} }), undefined);
    assert.equal(
      backendDifference({ backend: null, provenance: undefined }, { backend: 'wasm', provenance: {} }),
      undefined,
    );
  });
});

describe("the study stages' backend param", () => {
  const none = (): void => undefined;
  it('refuses an unknown backend, and PIPELINE_BACKEND that contradicts a pinned one', async () => {
    await assert.rejects(
      studyBackend(none, 'gpu'),
      /params\.backend "gpu" is not one of auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/,
    );
    const saved = process.env.PIPELINE_BACKEND;
    process.env.PIPELINE_BACKEND = 'wasm';
    try {
      await assert.rejects(
        studyBackend(none, 'webgpu'),
        /PIPELINE_BACKEND=wasm but the stage's params say backend: webgpu/,
      );
    } finally {
      if (saved === undefined) delete process.env.PIPELINE_BACKEND;
      else process.env.PIPELINE_BACKEND = saved;
    }
  });

  it('runs a pinned backend and records it', async () => {
    const recorded: Record<string, unknown> = {};
    const choice = await studyBackend((k, v) => (recorded[k] = v), 'cpu');
    assert.equal(choice.name, 'cpu');
    assert.equal(recorded.backend, 'cpu');
    assert.equal(recorded.adapter, undefined, 'only webgpu has an adapter to record');
  });
});
