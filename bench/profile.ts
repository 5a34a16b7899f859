/**
 * Where a step's time goes, per kernel family (bench/kernel-families.ts), for the three
 * architectures at pipeline.yaml's sizes: one fine-tuning step (all parameters, AdamW, the
 * study's batch) and one pre-training step (the family's own objective), gradient and optimizer
 * update; and one evaluation batch at the study's evaluation batch size (the classifier's loss and
 * predictions, then the held-out language-model score: BERT's pseudo-log-likelihood). Each piece
 * runs once unprofiled first (kernels compile, the optimizer allocates its state).
 *
 * Run on its own or from bench/train.ts:
 *   node --import tsx bench/profile.ts [--backend wasm] [--variants fast,baseline]
 * `baseline` switches off the faster formulations (src/ml/ops/fast-paths.ts) to measure the
 * before and after side by side in one process.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraph } from '../src/graph/load-graph.ts';
import { chooseBackend } from '../src/ml/backend.ts';
import { SENTINEL_COUNT, SPECIAL_TOKENS } from '../src/ml/bpe.ts';
import { frameTarget, frameText } from '../src/ml/framing.ts';
import { instantiate } from '../src/ml/models/model-spec.ts';
import type { LanguageModel } from '../src/ml/models/language-model.ts';
import { makeOptimizer } from '../src/ml/optimizers/make-optimizer.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { setFastPaths } from '../src/ml/ops/fast-paths.ts';
import { Rng } from '../src/ml/rng.ts';
import { declaredOptimizers } from '../src/study/declared-optimizers.ts';
import { type ModelParams, specFromParams } from '../src/study/model-params.ts';
import { FAMILIES, type Family, addFamilies, profileFamilies } from './kernel-families.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

interface StudySizes {
  models: Record<string, ModelParams>;
  trainBatch: number;
  evalBatch: number;
  optimizer: OptimizerConfig;
}

async function studySizes(): Promise<StudySizes> {
  const project = await loadGraph(root, join(root, 'pipeline.yaml'));
  if (!project.ok)
    throw new Error(`pipeline.yaml does not load: ${project.error.map((f) => f.diagnostic.message).join('; ')}`);
  const stages = [...project.value.stages.values()];
  const models = Object.fromEntries(
    stages.filter((s) => s.spec.group === 'pretrain').map((s) => [String(s.spec.item?.arch), s.spec.params.model]),
  ) as Record<string, ModelParams>;
  const finetune = stages.find((s) => s.spec.group === 'finetune');
  const evaluate = stages.find((s) => s.spec.group === 'evaluate');
  const adamw = (await declaredOptimizers(root)).get('adamw');
  if (finetune === undefined || evaluate === undefined || adamw === undefined)
    throw new Error('pipeline.yaml has no finetune / evaluate stage or no adamw variant');
  return {
    models,
    trainBatch: Number(finetune.spec.params.batch_size),
    evalBatch: Number(evaluate.spec.params.batch_size),
    optimizer: adamw,
  };
}

// The special-token layout of a tokenizer trained here (bench/train.ts uses it too).
const specialId = (token: string): number => SPECIAL_TOKENS.indexOf(token);
export const SPECIAL = {
  pad: specialId('<pad>'),
  eos: specialId('<eos>'),
  cls: specialId('<cls>'),
  sep: specialId('<sep>'),
  mask: specialId('<mask>'),
  sentinels: Array.from({ length: SENTINEL_COUNT }, (_, i) => specialId(`<extra_id_${i}>`)),
};
const VOCAB = 1000;

/** A batch of full-length random texts, framed as the family reads them. */
function batchOf(family: 'gpt' | 'bert' | 't5', rows: number, context: number, rng: Rng): tf.Tensor2D[] {
  const framed = Array.from({ length: rows }, () =>
    frameText(
      family,
      Array.from(
        { length: context - 2 },
        () => SPECIAL_TOKENS.length + Math.floor(rng.uniform() * (VOCAB - SPECIAL_TOKENS.length)),
      ),
      SPECIAL,
      context,
    ),
  );
  const width = Math.max(...framed.map((f) => f.length));
  const ids = new Int32Array(rows * width).fill(SPECIAL.pad);
  const mask = new Float32Array(rows * width);
  framed.forEach((f, r) =>
    f.forEach((t, j) => {
      ids[r * width + j] = t;
      mask[r * width + j] = 1;
    }),
  );
  return [tf.tensor2d(ids, [rows, width], 'int32'), tf.tensor2d(mask, [rows, width], 'float32')];
}

export interface ProfileRow {
  arch: string;
  what: string;
  ms: Map<Family, number>;
}

/** Per family, the median over repeated measurements (the machine may be loaded). */
function medianFamilies(runs: Map<Family, number>[]): Map<Family, number> {
  const out = new Map<Family, number>();
  for (const f of FAMILIES) {
    const xs = runs.map((r) => r.get(f) ?? 0).sort((a, b) => a - b);
    const m = xs[Math.floor(xs.length / 2)]!;
    if (m > 0) out.set(f, m);
  }
  return out;
}

let repeats = 3;
/** Kernel names and their ms, per family, of the last measurement of each row (--detail). */
export const details = new Map<string, Map<string, number>>();

async function repeated(
  label: string,
  once: () => Promise<{ ms: Map<Family, number>; byKernel: Map<string, number> }>,
  times = repeats,
): Promise<Map<Family, number>> {
  const runs: Map<Family, number>[] = [];
  for (let i = 0; i < times; i++) {
    const r = await once();
    runs.push(r.ms);
    details.set(label, r.byKernel);
  }
  return medianFamilies(runs);
}

async function trainStep(
  label: string,
  model: LanguageModel,
  loss: () => tf.Scalar,
  optimizer: OptimizerConfig,
): Promise<Map<Family, number>> {
  const opt = makeOptimizer(optimizer, 100);
  const variables = model.trainableVariables('all');
  const step = async (): Promise<{ ms: Map<Family, number>; byKernel: Map<string, number> }> => {
    const g = await profileFamilies(() =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, variables);
        return { value, grads };
      }),
    );
    const u = await profileFamilies(() => tf.tidy(() => opt.apply(g.result.grads).gradNorm), 'optimizer update');
    await g.result.value.data();
    tf.dispose([g.result.value, ...Object.values(g.result.grads)]);
    u.result?.dispose();
    return { ms: addFamilies(g.ms, u.ms), byKernel: new Map([...g.byKernel, ...u.byKernel]) };
  };
  await step();
  const ms = await repeated(label, step);
  opt.dispose();
  return ms;
}

async function evaluation(
  label: string,
  model: LanguageModel,
  ids: tf.Tensor2D,
  mask: tf.Tensor2D,
  scoreRows: number,
): Promise<ProfileRow['ms'][]> {
  // The held-out score of BERT runs a forward pass per scored token: profiled on fewer rows.
  const scoreIds = tf.slice(ids, [0, 0], [scoreRows, -1]);
  const scoreMask = tf.slice(mask, [0, 0], [scoreRows, -1]);
  const labels = tf.tensor1d(
    Array.from({ length: ids.shape[0] }, (_, i) => i % 2),
    'int32',
  );
  const classify = async (): Promise<void> => {
    const l = tf.tidy(() => model.classificationLoss(ids, mask, labels));
    await l.data();
    l.dispose();
    await model.predictClasses(ids, mask);
  };
  const score = async (): Promise<void> => {
    await model.heldOutNll(scoreIds, scoreMask);
  };
  await classify();
  await score();
  const c = await repeated(`${label} classify`, () => profileFamilies(classify));
  const s = await repeated(`${label} score`, () => profileFamilies(score), model.family === 'bert' ? 1 : repeats);
  tf.dispose([labels, scoreIds, scoreMask]);
  return [c, s];
}

/** Profiles every architecture; one row per (architecture, piece of work). */
export async function profileArchitectures(): Promise<ProfileRow[]> {
  const sizes = await studySizes();
  const rows: ProfileRow[] = [];
  for (const [arch, params] of Object.entries(sizes.models)) {
    const spec = specFromParams(params, VOCAB, 2);
    const vocabulary = { special: SPECIAL, labelTargets: [frameTarget([100], SPECIAL), frameTarget([101], SPECIAL)] };
    const model = instantiate(spec, vocabulary, 1);
    const rng = new Rng(7);
    const [ids, mask] = batchOf(spec.family, sizes.trainBatch, params.context_length, rng) as [
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const labels = tf.tensor1d(
      Array.from({ length: sizes.trainBatch }, (_, i) => i % 2),
      'int32',
    );
    const objectives: [what: string, label: string, loss: () => tf.Scalar][] = [
      ['fine-tuning', 'finetune', () => model.classificationLoss(ids, mask, labels, { dropoutSeed: 3 })],
      ['pre-training', 'pretrain', () => model.lmLoss(ids, mask, { dropoutSeed: 3 })],
    ];
    for (const [what, label, loss] of objectives) {
      rows.push({
        arch,
        what: `${what} step (batch ${sizes.trainBatch})`,
        ms: await trainStep(`${arch} ${label}`, model, loss, sizes.optimizer),
      });
    }
    tf.dispose([ids, mask, labels]);
    const [eIds, eMask] = batchOf(spec.family, sizes.evalBatch, params.context_length, rng) as [
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const scoreRows = Math.min(sizes.evalBatch, 16);
    const [classify, score] = await evaluation(arch, model, eIds, eMask, scoreRows);
    rows.push({ arch, what: `evaluation: classify (batch ${sizes.evalBatch})`, ms: classify! });
    rows.push({
      arch,
      what: `evaluation: held-out LM score (${scoreRows} rows${spec.family === 'bert' ? ', pseudo-log-likelihood' : ''})`,
      ms: score!,
    });
    tf.dispose([eIds, eMask]);
    model.dispose();
  }
  return rows;
}

/** Markdown table: per row, the total and each family's ms and share. */
export function profileTable(title: string, rows: ProfileRow[]): string {
  const head = `| ${title} | total ms | ${FAMILIES.join(' | ')} |\n| --- | --- |${FAMILIES.map(() => ' --- |').join('')}`;
  const body = rows.map((r) => {
    const total = [...r.ms.values()].reduce((a, b) => a + b, 0);
    const cells = FAMILIES.map((f) => {
      const t = r.ms.get(f) ?? 0;
      return t === 0 ? '' : `${t.toFixed(1)} (${((100 * t) / total).toFixed(0)}%)`;
    });
    return `| ${r.arch}: ${r.what} | ${total.toFixed(1)} | ${cells.join(' | ')} |`;
  });
  return [head, ...body].join('\n');
}

/** Profiles with each variant of the fast paths in turn and prints one table per variant. */
export async function printProfiles(
  variants: readonly string[],
  backendName: string,
  options: { repeats?: number; detail?: boolean } = {},
): Promise<void> {
  repeats = options.repeats ?? 3;
  for (const variant of variants) {
    if (variant !== 'fast' && variant !== 'baseline') throw new Error(`unknown variant ${variant} (fast, baseline)`);
    setFastPaths(variant === 'fast');
    const rows = await profileArchitectures();
    console.log(
      `\n${profileTable(`${backendName}, ${variant === 'fast' ? 'after' : 'before'} (${variant}; ms, median of ${repeats})`, rows)}`,
    );
    if (options.detail)
      for (const [label, byKernel] of details) {
        const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12);
        console.log(`${label}: ${top.map(([k, t]) => `${k} ${t.toFixed(1)}`).join(', ')}`);
      }
  }
  setFastPaths(true);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      variants: { type: 'string', default: 'baseline,fast' },
      repeats: { type: 'string', default: '3' },
      detail: { type: 'boolean', default: false },
    },
  });
  const backend = await chooseBackend(values.backend ? [values.backend] : undefined);
  console.log(`backend ${backend.name} ${backend.version}, ${new Date().toISOString()}`);
  await printProfiles(values.variants!.split(','), backend.name, {
    repeats: Number(values.repeats),
    detail: values.detail!,
  });
}
