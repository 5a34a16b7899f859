/**
 * Training throughput of the study's small GPT (2 layers, d_model 128, 4 heads, context 64,
 * batch 16, vocabulary 2000) on the backend chooseBackend picks: for each optimizer, seconds
 * per update and tokens per second, measured through pretrainLM (the code path real runs use)
 * on random token ids, with the FLOPs per token, the backend's measured matmul rate and the
 * fraction of it training reaches; then PyTorch on the same CPU as a yardstick. The first
 * updates of each run are dropped (warm-up: kernels compile, the optimizer allocates its
 * state); the figure is the median of the rest. Also times one classification fine-tuning
 * configuration, where only the last block and the head train, and one update of each
 * architecture (GPT-2-, BERT- and T5-style) at the sizes pipeline.yaml declares.
 *
 * Then PyTorch (refused on the reference BLAS), and the per-kernel-family profile of each
 * architecture before and after the faster formulations (bench/profile.ts; --skip-profile skips it).
 *
 *   node --import tsx bench/train.ts [--backend wasm|cpu|webgpu|tfjs-node|tfjs-node-gpu] [--steps N] [--warmup N] [--optimizers a,b] [--skip-profile]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { loadGraph } from '../src/graph/load-graph.ts';
import { chooseBackend } from '../src/ml/backend.ts';
import { releaseWebGpu } from '../src/ml/webgpu-backend.ts';
import { SPECIAL_TOKENS } from '../src/ml/bpe.ts';
import { frameTarget, frameText } from '../src/ml/framing.ts';
import { countParameters } from '../src/ml/models/parameters.ts';
import { instantiate } from '../src/ml/models/model-spec.ts';
import { declaredOptimizers } from '../src/study/declared-optimizers.ts';
import { type ModelParams, specFromParams } from '../src/study/model-params.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import { SMALL_GPT } from '../src/ml/models/gpt-config.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { Rng } from '../src/ml/rng.ts';
import { pretrainLM, trainClassifier } from '../src/ml/train.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';
import { printProfiles, SPECIAL } from './profile.ts';

const BATCH = 16;
const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    optimizers: { type: 'string', default: 'sgd,adam,adamw,rmsprop,proposed' },
    'skip-profile': { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
// Step times are differences of successive progress marks, so the first needs one before it.
if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 1))
  throw new Error('--steps and --warmup must be integers >= 1');

const root = fileURLToPath(new URL('..', import.meta.url));
// Table 1 as pipeline.yaml declares it: the optimizers the study fine-tunes with, per variant.
const table1 = await declaredOptimizers(root);
const adamw = table1.get('adamw');
if (adamw === undefined) throw new Error('pipeline.yaml declares no adamw variant');

const backend = await chooseBackend(values.backend ? [values.backend] : undefined);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
);
console.log(
  `node ${process.version}, backend ${backend.name} ${backend.version}${backend.skipped.length ? ` (skipped: ${backend.skipped.map((s) => s.name).join(', ')})` : ''}`,
);
if (backend.adapter !== undefined) {
  const a = backend.adapter;
  console.log(
    `adapter: ${a.vendor} ${a.architecture} ${a.device}: ${a.description}${a.software ? ' (software: runs on the CPU)' : ''}`,
  );
}
const config = SMALL_GPT;
const model0 = new Gpt(config, 0);
console.log(
  `model: ${config.layers} layers, d ${config.dModel}, ${config.heads} heads, d_ff ${config.dFF}, context ${config.contextLength}, vocab ${config.vocabSize}, ${model0.parameterCount()} parameters; batch ${BATCH}`,
);
model0.dispose();

const rng = new Rng(1);
const sequences = Array.from({ length: (warmup + steps) * BATCH }, () =>
  Array.from({ length: config.contextLength }, () => 5 + Math.floor(rng.uniform() * (config.vocabSize - 5))),
);
const tokensPerStep = BATCH * (config.contextLength - 1);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Seconds per update of the measured steps, from the training loop's own progress reports. */
function stepTimer(): { onProgress: (p: { phase: string; elapsedSeconds: number }) => void; perStep: () => number } {
  const marks: number[] = [];
  return {
    onProgress: (p) => {
      if (p.phase === 'train') marks.push(p.elapsedSeconds);
    },
    perStep: () => median(marks.slice(warmup).map((t, i) => t - marks[warmup + i - 1]!)),
  };
}

/*
 * FLOPs counted exactly from the matmul shapes (2 x m x n x k each; the backward pass is twice
 * the forward, a weight gradient and an input gradient per matmul). Per position and layer: the
 * QKV, attention-output and two MLP projections, 2 x d x (3d + d + 2 dFF), and the attention
 * scores and mixing, 2 x 2 x T x d (the full T x T product is computed and then masked, so the
 * causal half is not subtracted). The tied LM head, 2 x d x vocab, runs on the T - 1 positions
 * that have a target; the blocks run on all T. Embedding lookups, layer norms, softmax and
 * other elementwise work are left out.
 */
const { layers, dModel: d, dFF, contextLength: T, vocabSize, numClasses } = config;
const blockFlops = 2 * d * (4 * d + 2 * dFF) + 4 * T * d;
const lmFlopsPerStep = 3 * BATCH * (T * layers * blockFlops + (T - 1) * 2 * d * vocabSize);
const trainFlopsPerToken = lmFlopsPerStep / tokensPerStep;
/*
 * Fine-tuning the last block and the head: forward through every block, backward only through
 * the trained one (tfjs differentiates only along paths from the requested variables, so the
 * frozen block gets no backward pass), and the head on one position per sequence; no LM head.
 */
const tunedBlocks = 1;
const fineTuneFlopsPerToken = (layers + 2 * tunedBlocks) * blockFlops + (3 * 2 * d * numClasses) / T;
// Kaplan et al. (2020): 6 N + 6 L T d, N the non-embedding parameters, which leaves out the tied
// LM head; here the vocabulary is large next to d, so that head is a big share of the work.
const nonEmbedding = layers * (4 * d * d + 2 * d * dFF + 9 * d + dFF) + 2 * d;
const kaplanFlopsPerToken = 6 * nonEmbedding + 6 * layers * T * d;
console.log(
  `training FLOPs per token (forward + backward), counted from the matmul shapes: ${(trainFlopsPerToken / 1e6).toFixed(2)} MFLOP ` +
    `(the 6N + 6LTd estimate, without the LM head: ${(kaplanFlopsPerToken / 1e6).toFixed(2)} MFLOP); fine-tuning the last block + head: ${(fineTuneFlopsPerToken / 1e6).toFixed(2)} MFLOP`,
);

/**
 * The backend's own matmul rate, the ceiling training is compared with (512 x 512 fp32, median
 * of 10). Each product is read back asynchronously: a GPU backend has no synchronous read, and
 * the read is what waits for the device to finish.
 */
async function matmulGflops(n = 512): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  for (let i = 0; i < 3; i++) {
    const w = tf.matMul(a, b);
    await w.data();
    w.dispose();
  }
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    times.push((performance.now() - t0) / 1000);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / median(times) / 1e9;
}
const peak = await matmulGflops();
console.log(`measured matmul rate on ${backend.name}: ${peak.toFixed(2)} GFLOP/s (512 x 512 fp32)`);

const rows: string[] = [];
const secondsPerStep = new Map<string, number>();
const report = (label: string, seconds: number, tokens: number, flopsPerToken = trainFlopsPerToken): void => {
  secondsPerStep.set(label, seconds);
  const gflops = (tokens * flopsPerToken) / seconds / 1e9;
  rows.push(
    `| ${label} | ${seconds.toFixed(3)} | ${Math.round(tokens / seconds)} | ${gflops.toFixed(2)} | ${((100 * gflops) / peak).toFixed(0)}% |`,
  );
  console.log(
    `${label}: ${seconds.toFixed(3)} s/step, ${Math.round(tokens / seconds)} tokens/s, ${gflops.toFixed(2)} GFLOP/s (${((100 * gflops) / peak).toFixed(0)}% of matmul rate)`,
  );
};

/*
 * AdamW once more with the faster formulations switched off (src/ml/ops/fast-paths.ts): the
 * "before" figure, measured in the same process as the "after" one.
 */
const runs = [...values.optimizers!.split(',').map((name) => ({ name, fast: true })), { name: 'adamw', fast: false }];
for (const { name, fast } of runs) {
  const optimizer: OptimizerConfig | undefined = table1.get(name);
  if (!optimizer)
    throw new Error(`unknown optimizer ${name} (pipeline.yaml declares ${[...table1.keys()].join(', ')})`);
  setFastPaths(fast);
  const model = new Gpt(config, 1);
  const timer = stepTimer();
  await pretrainLM(model, sequences, sequences.slice(0, 1), {
    batchSize: BATCH,
    epochs: 1,
    optimizer,
    seed: 1,
    padId: 0,
    onProgress: timer.onProgress,
  });
  report(`LM pre-training, ${name}${fast ? '' : ' (baseline: fast paths off)'}`, timer.perStep(), tokensPerStep);
  model.dispose();
  setFastPaths(true);
}

{
  const model = new Gpt(config, 1);
  const timer = stepTimer();
  const labelled = { ids: sequences, labels: sequences.map((s) => s[0]! % 2) };
  await trainClassifier(
    model,
    labelled,
    { ids: sequences.slice(0, 1), labels: [0] },
    {
      batchSize: BATCH,
      epochs: 1,
      optimizer: adamw,
      seed: 1,
      padId: 0,
      subset: `last-${tunedBlocks}`,
      onProgress: timer.onProgress,
    },
  );
  report('fine-tuning last block + head, adamw', timer.perStep(), BATCH * config.contextLength, fineTuneFlopsPerToken);
  model.dispose();
}

console.log(
  `\n| ${backend.name}: what | s/step | tokens/s | GFLOP/s | of matmul rate |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`,
);

/*
 * The three architectures at the sizes pipeline.yaml declares (its pretrain stages' resolved
 * params, so the figures are the study's): one AdamW update of each family's pre-training objective (next token, masked
 * tokens, span corruption) and of fine-tuning every parameter as a classifier (T5: the label's
 * text as target), batch 16 of full-length random texts framed as each family reads them.
 * Tokens per second count the input tokens of a batch.
 */
const project = await loadGraph(root, join(root, 'pipeline.yaml'));
if (!project.ok)
  throw new Error(`pipeline.yaml does not load: ${project.error.map((f) => f.diagnostic.message).join('; ')}`);
const studyModels = Object.fromEntries(
  [...project.value.stages.values()]
    .filter((s) => s.spec.group === 'pretrain')
    .map((s) => [String(s.spec.item?.arch), s.spec.params.model as ModelParams]),
);
// Ordinary tokens come after the special-token layout of a tokenizer trained here.
const FIRST_ORDINARY = SPECIAL_TOKENS.length;
const archRows: string[] = [];
const archSeconds = new Map<string, number>();
for (const [arch, params] of Object.entries(studyModels)) {
  const spec = specFromParams(params, 1000, 2);
  const family = spec.family;
  const textLength = params.context_length - 2;
  const texts = Array.from({ length: (warmup + steps) * BATCH }, () =>
    Array.from({ length: textLength }, () => FIRST_ORDINARY + Math.floor(rng.uniform() * (1000 - FIRST_ORDINARY))),
  );
  const framed = texts.map((t) => frameText(family, t, SPECIAL, params.context_length));
  const vocabulary = { special: SPECIAL, labelTargets: [frameTarget([100], SPECIAL), frameTarget([101], SPECIAL)] };
  const optimizer = adamw;
  const timeRun = async (task: 'pretrain' | 'finetune'): Promise<{ seconds: number; parameters: number }> => {
    const model = instantiate(spec, vocabulary, 1);
    const timer = stepTimer();
    const options = {
      batchSize: BATCH,
      epochs: 1,
      optimizer,
      seed: 1,
      padId: SPECIAL.pad,
      onProgress: timer.onProgress,
    };
    if (task === 'pretrain') await pretrainLM(model, framed, framed.slice(0, 1), options);
    else
      await trainClassifier(
        model,
        { ids: framed, labels: framed.map((_, i) => i % 2) },
        { ids: framed.slice(0, 1), labels: [0] },
        options,
      );
    const parameters = countParameters([...model.variables.values()]);
    model.dispose();
    return { seconds: timer.perStep(), parameters };
  };
  for (const task of ['pretrain', 'finetune'] as const) {
    const { seconds, parameters } = await timeRun(task);
    archSeconds.set(`${arch} ${task}`, seconds);
    const tokens = BATCH * params.context_length;
    const vsGpt = archSeconds.get(`gpt2 ${task}`);
    archRows.push(
      `| ${arch} (${family}, ${parameters} parameters) | ${task === 'pretrain' ? 'pre-training objective' : 'fine-tuning, all parameters'} | ${seconds.toFixed(3)} | ${Math.round(tokens / seconds)} | ${vsGpt === undefined ? '' : (vsGpt / seconds).toFixed(2)} |`,
    );
    console.log(`${arch} ${task}: ${seconds.toFixed(3)} s/step, ${Math.round(tokens / seconds)} tokens/s`);
  }
}
console.log(
  `\n| ${backend.name}: architecture (pipeline.yaml size) | what | s/step | tokens/s | throughput vs gpt2 |\n| --- | --- | --- | --- | --- |\n${archRows.join('\n')}`,
);

/*
 * The same model and batch trained by PyTorch on this CPU, as a yardstick: Debian's python3-torch,
 * one thread (tfjs wasm uses one) and all threads, each with subnormal floats kept (PyTorch's
 * default) and flushed to zero. Skipped with a message where torch is missing.
 */
const torchScript = `
import os, sys, time, math, torch
torch.manual_seed(0)
# Which BLAS the matmuls ran on: Debian's torch links whatever libblas.so.3 the system's
# alternative points to, and the reference BLAS is about 15x slower than OpenBLAS.
_ = torch.randn(64, 64) @ torch.randn(64, 64)
blas = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.split()[-1].lower() or 'mkl_rt' in l or 'blis' in l})
print('blas ' + (','.join(blas) or 'none found'))
V, T, L, D, H, F, B = ${vocabSize}, ${T}, ${layers}, ${d}, ${config.heads}, ${dFF}, ${BATCH}
class Block(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.ln1 = torch.nn.LayerNorm(D); s.qkv = torch.nn.Linear(D, 3*D); s.proj = torch.nn.Linear(D, D)
        s.ln2 = torch.nn.LayerNorm(D); s.fc = torch.nn.Linear(D, F); s.out = torch.nn.Linear(F, D)
    def forward(s, x):
        b, t, _ = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(D, 2)
        q, k, v = [z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v)]
        w = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        w = w.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float('-inf')).softmax(-1)
        a = w @ v
        x = x + s.proj(a.transpose(1, 2).reshape(b, t, D))
        return x + s.out(torch.nn.functional.gelu(s.fc(s.ln2(x)), approximate='tanh'))
class Gpt(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.wte = torch.nn.Embedding(V, D); s.wpe = torch.nn.Embedding(T, D)
        s.blocks = torch.nn.ModuleList([Block() for _ in range(L)]); s.lnf = torch.nn.LayerNorm(D)
    def forward(s, ids):
        x = s.wte(ids) + s.wpe(torch.arange(ids.shape[1]))
        for b in s.blocks: x = b(x)
        # As in tfjs: the blocks see all T positions, the tied head only the T - 1 with a target.
        return s.lnf(x)[:, :-1] @ s.wte.weight.T
import ctypes
# torch.set_num_threads does not reach Debian's OpenBLAS, which would otherwise use every core
# even in the "one thread" run: set its thread count through its own entry point.
openblas = next((ctypes.CDLL(p) for p in blas if 'libopenblas' in p), None)
# Subnormal floats (values below 1.2e-38) take a microcode path on some x86 CPUs that is many
# times slower: on an Intel Xeon with AVX-512 this step ran 13x slower with them than flushed to
# zero, while on an AMD EPYC the default run was already fast. PyTorch keeps them by default;
# both are timed.
for flush, threads in ((False, 1), (True, 1), (False, os.cpu_count()), (True, os.cpu_count())):
    torch.set_flush_denormal(flush)
    torch.set_num_threads(threads)
    if openblas is not None: openblas.openblas_set_num_threads(threads)
    m = Gpt(); opt = torch.optim.AdamW(m.parameters(), lr=${adamw.learningRate}, weight_decay=${adamw.weightDecay ?? 0})
    ids = torch.randint(5, V, (B, T))
    times = []
    for i in range(${warmup + steps}):
        t0 = time.perf_counter()
        logits = m(ids); loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - t0)
    step = sorted(times[${warmup}:])[len(times[${warmup}:]) // 2]
    print(f"{threads} {int(flush)} {step}")
`;
const torchVersion = (): string =>
  spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const torch = hasTorch ? spawnSync('/usr/bin/python3', ['-c', torchScript], { encoding: 'utf8' }) : undefined;
if (torch === undefined) {
  console.log(
    'PyTorch comparison skipped: /usr/bin/python3 cannot import torch; install it with apt-get install python3-torch',
  );
} else if (torch.status !== 0) {
  throw new Error(`the PyTorch comparison failed: ${torch.stderr.trim().split('\n').at(-1)}`);
} else {
  const tfjs = secondsPerStep.get('LM pre-training, adamw');
  const before = secondsPerStep.get('LM pre-training, adamw (baseline: fast paths off)');
  const [blasLine, ...lines] = torch.stdout.trim().split('\n');
  const blas = blasLine!.replace(/^blas /, '');
  console.log(`PyTorch ${torchVersion()} BLAS: ${blas}`);
  // The reference BLAS (Debian's default without OpenBLAS) would make tfjs look many times faster.
  if (/\/blas\/libblas/.test(blas) || !/openblas|mkl_rt|blis/i.test(blas))
    throw new Error(
      `PyTorch runs on the reference BLAS (${blas}): not a fair yardstick; apt-get install libopenblas0-pthread`,
    );
  const runs = lines.map((line) => {
    const [threads, flush, seconds] = line.split(' ').map(Number) as [number, number, number];
    return { threads, flush: flush === 1, seconds };
  });
  for (const { threads, flush, seconds } of runs) {
    const ratio =
      (tfjs === undefined ? '' : `; tfjs ${backend.name} / PyTorch throughput ${(seconds / tfjs).toFixed(2)}`) +
      (before === undefined ? '' : ` (fast paths off: ${(seconds / before).toFixed(2)})`);
    console.log(
      `PyTorch ${threads} thread(s), subnormals ${flush ? 'flushed to zero' : 'kept (default)'}, AdamW LM step: ${seconds.toFixed(3)} s/step, ${Math.round(tokensPerStep / seconds)} tokens/s${ratio}`,
    );
  }
  // The yardstick is PyTorch at its fastest on this CPU: a ratio against a run slowed by
  // subnormals says more about the CPU's microcode than about tfjs.
  const oneThread = runs.filter((r) => r.threads === 1);
  if (tfjs !== undefined && oneThread.length > 0) {
    const fastest = Math.min(...oneThread.map((r) => r.seconds));
    const kept = oneThread.find((r) => !r.flush)?.seconds ?? fastest;
    console.log(
      `tfjs ${backend.name} / PyTorch, one thread each, against PyTorch's faster run: ${(fastest / tfjs).toFixed(2)}` +
        (kept > 1.5 * fastest
          ? ` (subnormals slow PyTorch ${(kept / fastest).toFixed(1)}x on this CPU; against its default run the ratio would read ${(kept / tfjs).toFixed(2)})`
          : ''),
    );
  }
}
if (!values['skip-profile']) await printProfiles(['baseline', 'fast'], backend.name);
releaseWebGpu();
