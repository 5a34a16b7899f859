import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pretrainStage from '../stages/pretrain.ts';
import searchRungStage from '../stages/search-rung.ts';
import selectStage from '../stages/select.ts';
import tokenizeStage from '../stages/tokenize.ts';
import { loadStageSpecs } from '../src/config/load-project.ts';
import { buildGraph } from '../src/graph/build.ts';
import { chooseBackend } from '../src/ml/backend.ts';
import { Gpt } from '../src/ml/models/gpt.ts';
import type { GptConfig } from '../src/ml/models/gpt-config.ts';
import type { OptimizerConfig } from '../src/ml/optimizers/config.ts';
import { Rng } from '../src/ml/rng.ts';
import { trainClassifier } from '../src/ml/train.ts';
import { loadWeights, saveWeights } from '../src/ml/weights.ts';
import type {
  Cell,
  JsonObject,
  JsonValue,
  StageContext,
  StageFunction,
  StageOutputs,
  TableData,
  UpstreamStage,
} from '../src/stage-api.ts';
import { haltonPoints, radicalInverse } from '../src/study/search/halton.ts';
import { parseSpace, toUnit, trialValues } from '../src/study/search/space.ts';
import type { OptimizerParams } from '../src/study/optimizer-params.ts';
import { tokenizedSplit } from './helpers/tokenized-split.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Runs `check` on a copy of the repository's pipeline.yaml in a scratch folder, with one line replaced. */
async function withEditedPipeline(line: string, replacement: string, check: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'search-pipeline-'));
  try {
    const source = readFileSync(join(REPO, 'pipeline.yaml'), 'utf8');
    assert.ok(source.includes(line));
    writeFileSync(join(dir, 'pipeline.yaml'), source.replace(line, replacement));
    await check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('search space and quasi-random trials', () => {
  it('the radical inverse and the unshifted Halton sequence match their textbook values', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => radicalInverse(i, 2)),
      [0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875],
    );
    const third = [1, 2, 3, 4, 5].map((i) => radicalInverse(i, 3));
    [1 / 3, 2 / 3, 1 / 9, 4 / 9, 7 / 9].forEach((x, i) => assert.ok(Math.abs(third[i]! - x) < 1e-15));
    const pts = haltonPoints(3, 2, null);
    assert.deepEqual(pts[0], [0.5, 1 / 3]);
    assert.deepEqual(pts[1], [0.25, 2 / 3]);
    assert.ok(Math.abs(pts[2]![1]! - 1 / 9) < 1e-15);
  });

  it('a seeded shift is deterministic, depends on the seed, and keeps points in [0, 1)', () => {
    const a = haltonPoints(50, 3, 7);
    assert.deepEqual(haltonPoints(50, 3, 7), a);
    assert.notDeepEqual(haltonPoints(50, 3, 8), a);
    for (const p of a) for (const u of p) assert.ok(u >= 0 && u < 1);
    // A rotation keeps the spacing: in one dimension the 2^k - 1 points still fall one per cell of width 2^-k.
    const cells = new Set(haltonPoints(15, 1, 7).map(([u]) => Math.floor(u! * 16)));
    assert.equal(cells.size, 15);
  });

  it('trial 0 is Table 1, the rest lie inside the ranges, uniform on a log scale', () => {
    const space = parseSpace(
      { learning_rate: { min: 1e-5, max: 1e-2, scale: 'log' }, momentum: { min: 0.5, max: 0.99, scale: 'linear' } },
      'test',
    );
    const table1: OptimizerParams = { name: 'sgd', learning_rate: 5e-5, momentum: 0.9 };
    const trials = trialValues(space, 12, 3, table1, 'test');
    assert.equal(trials.length, 12);
    assert.deepEqual(trials[0], { learning_rate: 5e-5, momentum: 0.9 });
    assert.deepEqual(trialValues(space, 12, 3, table1, 'test'), trials);
    const shifted = haltonPoints(11, 2, 3);
    trials.slice(1).forEach((t, i) => {
      assert.ok(t.learning_rate! >= 1e-5 && t.learning_rate! <= 1e-2);
      assert.ok(t.momentum! >= 0.5 && t.momentum! <= 0.99);
      // Log scale: the position of the value's logarithm in the range is the Halton coordinate
      // (up to the 4-digit rounding); linear scale: the value's own position.
      assert.ok(Math.abs(toUnit(space.learning_rate!, t.learning_rate!) - shifted[i]![0]!) < 2e-4);
      assert.ok(Math.abs(toUnit(space.momentum!, t.momentum!) - shifted[i]![1]!) < 2e-4);
    });
    // The log-uniform midpoint of [1e-4, 1] is 1e-2, not 0.5.
    assert.ok(Math.abs(toUnit({ min: 1e-4, max: 1, scale: 'log' }, 1e-2) - 0.5) < 1e-12);
    assert.throws(() => trialValues(space, 4, 3, { name: 'sgd', learning_rate: 0.5, momentum: 0.9 }, 'x'), /outside/);
    assert.throws(
      () => parseSpace({ learning_rate: { min: 0, max: 1, scale: 'log' } }, 'x'),
      /log scale needs min > 0/,
    );
  });

  for (const profile of [undefined, 'smoke', 'table1']) {
    it(`every optimizer variant gets the same declared search (${profile ?? 'default'} study)`, async () => {
      const loaded = await loadStageSpecs(REPO, join(REPO, 'pipeline.yaml'), profile ? { profile } : {});
      assert.ok(loaded.ok);
      const specs = loaded.value.specs;
      const rung1 = specs.filter((s) => s.group === 'search-rung1');
      const variants = new Set(specs.filter((s) => s.group === 'finetune').map((s) => String(s.params.variant)));
      assert.ok(variants.size >= 4);
      for (const group of ['search-rung1', 'search-rung2', 'select'])
        assert.equal(specs.filter((s) => s.group === group).length, rung1.length);
      assert.equal(new Set(rung1.map((s) => String(s.params.variant))).size, variants.size);
      const counts = new Set(rung1.map((s) => s.params.trials));
      assert.equal(counts.size, 1, 'one trial count for every variant');
      const declared = [...counts][0] as number;
      assert.equal(declared, profile === 'table1' ? 0 : profile === 'smoke' ? 3 : 8);
      for (const s of rung1) {
        const values = trialValues(
          parseSpace(s.params.space, s.name),
          declared,
          s.params.seed as number,
          s.params.optimizer as OptimizerParams,
          s.name,
        );
        assert.equal(values.length, declared, s.name);
        if (declared > 0) assert.equal(values[0]!.learning_rate, (s.params.optimizer as JsonObject).learning_rate);
      }
    });
  }

  it("changing one variant's search space changes only that variant's search and selection stages", async () => {
    const line = '      adamw: {learning_rate: {min: 1.0e-5, max: 1.0e-2, scale: log}}';
    await withEditedPipeline(line, line.replace('1.0e-5', '1.0e-6'), async (dir) => {
      const before = await loadStageSpecs(REPO, join(REPO, 'pipeline.yaml'));
      const after = await loadStageSpecs(dir, join(dir, 'pipeline.yaml'));
      assert.ok(before.ok && after.ok);
      const params = (specs: { name: string; params: JsonObject }[]) =>
        new Map(specs.map((s) => [s.name, JSON.stringify(s.params)]));
      const a = params(before.value.specs);
      const b = params(after.value.specs);
      assert.deepEqual([...a.keys()], [...b.keys()]);
      const changed = [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort();
      assert.deepEqual(
        changed,
        ['bert', 'gpt2', 't5']
          .flatMap((arch) => ['search-rung1', 'search-rung2', 'select'].map((g) => `${g}@${arch}-adamw`))
          .sort(),
      );
    });
  });

  it("adding a seed adds only that seed's runs, and of the rest reruns only the statistics and the report", async () => {
    await withEditedPipeline('  seeds: [1, 2, 3, 4, 5]', '  seeds: [1, 2, 3, 4, 5, 6]', async (dir) => {
      const graphOf = async (root: string) => {
        const loaded = await loadStageSpecs(root, join(root, 'pipeline.yaml'));
        assert.ok(loaded.ok);
        // Built against the repository, where the stage modules and data the specs name are.
        const nowhere = { file: 'pipeline.yaml', start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
        const graph = buildGraph(loaded.value.specs, REPO, { locate: () => nowhere });
        assert.ok(graph.ok);
        return graph.value;
      };
      const before = await graphOf(REPO);
      const after = await graphOf(dir);
      // What a stage's fingerprint reads of the graph: its params, item and upstream stages; a stage
      // whose upstream reruns reruns too.
      const key = (n: { spec: { params: JsonObject; item?: unknown }; upstream: string[] }) =>
        JSON.stringify([n.spec.params, n.spec.item ?? null, [...n.upstream].sort()]);
      const added = [...after.stages.keys()].filter((n) => !before.stages.has(n));
      assert.ok(added.length > 0 && added.every((n) => n.endsWith('-6')), added.join(' '));
      assert.ok([...before.stages.keys()].every((n) => after.stages.has(n)));
      const reruns = new Set<string>(added);
      for (const name of after.order) {
        const node = after.stages.get(name)!;
        const old = before.stages.get(name);
        if (old === undefined || key(old) !== key(node) || node.upstream.some((u) => reruns.has(u))) reruns.add(name);
      }
      assert.deepEqual(
        [...reruns].filter((n) => !n.endsWith('-6')),
        ['stats', 'report'],
      );
      // Every seed-6 run of the study: each architecture x variant fine-tuned and evaluated, and the balanced branch.
      const variants = new Set([...before.stages.keys()].filter((n) => n.startsWith('select@')).map((n) => n.slice(7)));
      for (const cell of variants)
        for (const g of ['finetune', 'evaluate']) assert.ok(after.stages.has(`${g}@${cell}-6`), `${g}@${cell}-6`);
    });
  });
});

/** A task a model must read to solve: filler words and one keyword that decides the label. */
function keywordTexts(n: number, seed: number): { text: string[]; label: string[]; group: string[] } {
  const filler = ['the', 'offer', 'was', 'and', 'mail', 'list', 'a', 'very', 'we', 'saw', 'it', 'today'];
  const rng = new Rng(seed);
  const label = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'spam' : 'ham'));
  const text = label.map((l) => {
    const len = 4 + Math.floor(rng.uniform() * 6);
    const words = Array.from({ length: len }, () => filler[Math.floor(rng.uniform() * filler.length)]!);
    words.splice(Math.floor(rng.uniform() * (len + 1)), 0, l === 'spam' ? 'winner' : 'meeting');
    return words.join(' ');
  });
  return { text, label, group: label.map((_, i) => `g${i % 2}`) };
}

const tableData = (t: NonNullable<StageOutputs['tables']>[string] | undefined): TableData =>
  Object.fromEntries(Object.entries(t ?? {}).map(([k, v]) => [k, Array.from(v as ArrayLike<Cell>)]));

/** A finished stage's outputs as a downstream stage sees them. */
function upstream(
  name: string,
  params: JsonObject,
  out: StageOutputs,
  opts: { forbid?: string[] } = {},
): UpstreamStage {
  const group = name.split('@')[0]!;
  const read = (kind: string, key: string) => {
    if (opts.forbid?.includes(key)) throw new Error(`${name}: ${kind} "${key}" was read`);
  };
  return {
    name,
    group,
    params,
    item: undefined,
    metrics: out.metrics ?? {},
    measurements: out.measurements ?? {},
    outputs: [],
    outputHashes: {},
    fingerprint: name,
    async table(key) {
      read('table', key);
      const t = out.tables?.[key];
      if (t === undefined) throw new Error(`${name} has no table ${key}`);
      return tableData(t);
    },
    async json(key) {
      read('json', key);
      const j = out.json?.[key];
      if (j === undefined) throw new Error(`${name} has no json ${key}`);
      return j;
    },
    async blob(key) {
      read('blob', key);
      const b = out.blobs?.[key];
      if (b === undefined) throw new Error(`${name} has no blob ${key}`);
      return b;
    },
  };
}

async function runStage(
  stage: unknown,
  name: string,
  params: JsonObject,
  inputs: UpstreamStage[],
  item?: Record<string, JsonValue>,
): Promise<StageOutputs> {
  const fn = stage as StageFunction;
  const ctx: StageContext = {
    name,
    group: name.split('@')[0]!,
    params,
    item,
    root: REPO,
    files: [],
    inputs: [...inputs].sort((a, b) => (a.name < b.name ? -1 : 1)),
    input: (n) => inputs.find((i) => i.name === n)!,
    outs: [],
    log: () => {},
    progress: () => {},
    provenance: () => {},
    signal: new AbortController().signal,
  };
  return (await fn(ctx)) ?? {};
}

const SEARCH = {
  trials: 4,
  seed: 1,
  metric: 'validation_accuracy',
  rungs: [{ epochs: 0.5, promote: 2 }, { epochs: 1 }] as JsonValue,
};

/** tokenize -> pretrain -> search-rung1 -> search-rung2 -> select on a tiny corpus and GPT. */
async function searchChain(
  test: { text: string[]; label: string[]; group: string[] },
  variant: { name: string; optimizer: OptimizerParams; space: JsonObject },
  opts: { forbidTest?: boolean } = {},
): Promise<{ rung1: StageOutputs; rung2: StageOutputs; select: StageOutputs }> {
  const all = keywordTexts(120, 5);
  const part = (a: number, b: number) => ({
    text: all.text.slice(a, b),
    label: all.label.slice(a, b),
    group: all.group.slice(a, b),
  });
  const preprocess = upstream(
    'preprocess@as-is',
    {},
    { tables: { train: part(0, 96), validation: part(96, 120), test } },
  );
  const tokParams = { vocab_size: 300, context_length: 24, checkpoint: null };
  const tokOut = await runStage(tokenizeStage, 'tokenize@gpt2', tokParams, [preprocess]);
  const tokenize = upstream('tokenize@gpt2', tokParams, tokOut, opts.forbidTest ? { forbid: ['test_ids'] } : {});
  const ptParams = {
    model: { architecture: 'gpt2', layers: 1, d_model: 32, heads: 2, d_ff: 64, context_length: 24, dropout: 0 },
    checkpoint: null,
    epochs: 1,
    batch_size: 16,
    optimizer: { name: 'adamw', learning_rate: 0.002, weight_decay: 0.01 },
    seed: 1,
    backend: 'wasm',
  };
  const ptOut = await runStage(pretrainStage, 'pretrain@gpt2', ptParams, [tokenize]);
  const pretrain = upstream('pretrain@gpt2', ptParams, ptOut);
  const common = { variant: variant.name, optimizer: variant.optimizer, space: variant.space, ...SEARCH };
  const rungParams = (rung: number) => ({ ...common, rung, batch_size: 8, trainable: 'all', backend: 'wasm' });
  const item = { arch: 'gpt2', variant: variant.name };
  const cell = `gpt2-${variant.name}`;
  const rung1 = await runStage(searchRungStage, `search-rung1@${cell}`, rungParams(1), [pretrain, tokenize], item);
  const r1 = upstream(`search-rung1@${cell}`, rungParams(1), rung1);
  const rung2 = await runStage(searchRungStage, `search-rung2@${cell}`, rungParams(2), [pretrain, tokenize, r1], item);
  const r2 = upstream(`search-rung2@${cell}`, rungParams(2), rung2);
  const select = await runStage(selectStage, `select@${cell}`, common, [r1, r2], item);
  return { rung1, rung2, select };
}

const ADAMW = {
  name: 'adamw',
  optimizer: { name: 'adamw', learning_rate: 5e-5, beta1: 0.9, beta2: 0.999, weight_decay: 0.01 },
  space: { learning_rate: { min: 1e-5, max: 1e-1, scale: 'log' } },
};

describe('search stages', () => {
  it('the selection never reads the test split: poisoned test texts and labels select the same trial', async () => {
    const clean = keywordTexts(30, 9);
    const a = await searchChain(clean, ADAMW, { forbidTest: true });
    const poisoned = {
      text: clean.text.map((t) => `winner winner ${t.split('').reverse().join('')}`),
      label: clean.label.map((l) => (l === 'spam' ? 'ham' : 'spam')),
      group: clean.group,
    };
    const b = await searchChain(poisoned, ADAMW);
    assert.deepEqual(b.select.json, a.select.json);
    assert.deepEqual(b.select.tables, a.select.tables);
    const selection = a.select.json!.selection as JsonObject;
    assert.equal(selection.protocol, 'search');
    assert.equal(selection.trials, 4);
    assert.equal(typeof selection.selected_trial, 'number');
    assert.equal((selection.optimizer as JsonObject).learning_rate, (selection.values as JsonObject).learning_rate);
    // Every trial at rung 1, the promoted two at rung 2, trial 0 marked as Table 1's.
    const trials = tableData(a.select.tables!.trials!);
    assert.deepEqual(trials.rung, [1, 1, 1, 1, 2, 2]);
    assert.deepEqual(
      trials.table1,
      trials.trial!.map((t) => t === 0),
    );
    assert.equal(trials.promoted!.slice(0, 4).filter(Boolean).length, 2);
    assert.equal(trials.promoted!.slice(4).filter(Boolean).length, 1);
    assert.deepEqual(Object.keys(a.rung1.blobs!).length, 4, 'weights and optimizer state of the two promoted trials');
    assert.deepEqual(a.rung2.blobs, {}, 'the last rung keeps no state');
    // 96 training texts in batches of 8: 12 updates per epoch; 4 trials x 6, then 2 x 6 more.
    assert.equal(a.select.metrics!.train_steps, 4 * 6 + 2 * 6);
  });

  it('a diverged trial is recorded, not thrown, and the selection still comes out', async () => {
    const sgd = {
      name: 'sgd',
      optimizer: { name: 'sgd', learning_rate: 1e25, momentum: 0.9 },
      space: { learning_rate: { min: 1e20, max: 1e30, scale: 'log' } },
    };
    const { rung1, rung2, select } = await searchChain(keywordTexts(30, 9), sgd);
    const t1 = tableData(rung1.tables!.trials!);
    assert.deepEqual(t1.diverged, [true, true, true, true]);
    assert.deepEqual(t1.validation_accuracy, [null, null, null, null]);
    assert.deepEqual(t1.promoted, [false, false, false, false]);
    assert.equal(rung1.metrics!.diverged, 4);
    assert.equal(tableData(rung2.tables!.trials!).trial!.length, 0);
    const selection = select.json!.selection as JsonObject;
    assert.equal(selection.selected_trial, null);
    assert.equal(selection.validation, null);
    assert.equal(tableData(select.tables!.trials!).trial!.length, 4, 'all trials are reported');
  });

  it('with trials: 0 (the table1 profile) nothing trains and the selection is Table 1, marked as such', async () => {
    const common = { variant: 'adamw', optimizer: ADAMW.optimizer, space: ADAMW.space, ...SEARCH, trials: 0 };
    const rung = (r: number) => ({ ...common, rung: r, batch_size: 8, trainable: 'all', backend: 'wasm' });
    // No tokenize or pretrain input at all: the rung stages must not need them.
    const r1 = await runStage(searchRungStage, 'search-rung1@gpt2-adamw', rung(1), []);
    const r2 = await runStage(searchRungStage, 'search-rung2@gpt2-adamw', rung(2), []);
    const select = await runStage(
      selectStage,
      'select@gpt2-adamw',
      common,
      [upstream('search-rung1@gpt2-adamw', rung(1), r1), upstream('search-rung2@gpt2-adamw', rung(2), r2)],
      { arch: 'gpt2', variant: 'adamw' },
    );
    assert.deepEqual(select.json!.selection, {
      arch: 'gpt2',
      variant: 'adamw',
      metric: 'validation_accuracy',
      direction: 'max',
      protocol: 'table1',
      trials: 0,
      selected_trial: null,
      values: { learning_rate: 5e-5 },
      optimizer: ADAMW.optimizer,
      space: ADAMW.space,
      on_edge: [],
      validation: null,
    });
  });
});

describe('a resumed rung equals an uninterrupted run', () => {
  let train: { ids: number[][]; labels: number[] };
  let validation: { ids: number[][]; labels: number[] };
  let config: GptConfig;

  before(async () => {
    await chooseBackend(['wasm']);
    const data = keywordTexts(52, 3);
    const labels = data.label.map((l) => (l === 'spam' ? 1 : 0));
    const split = await tokenizedSplit(data.text, labels, { trainSize: 40, vocabSize: 300, maxLength: 20 });
    train = split.train;
    validation = split.validation;
    config = {
      vocabSize: split.tokenizer.vocabSize,
      contextLength: 20,
      layers: 1,
      dModel: 16,
      heads: 2,
      dFF: 32,
      // Dropout on, so the continuation must also resume the dropout stream where it stopped.
      dropout: 0.1,
      numClasses: 2,
    };
  });

  const schedule = { kind: 'linear', warmupSteps: 3 } as const;
  const optimizers: OptimizerConfig[] = [
    { name: 'sgd', learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, schedule },
    { name: 'sgd', learningRate: 0.05 },
    { name: 'adam', learningRate: 1e-3, clipNorm: 1, schedule },
    { name: 'adamw', learningRate: 1e-3, weightDecay: 0.01, schedule },
    { name: 'rmsprop', learningRate: 1e-3, rho: 0.9, momentum: 0.5 },
    { name: 'proposed', learningRate: 1e-3, adaptiveLr: true, adaptiveMomentum: true, schedule },
    { name: 'proposed', learningRate: 1e-3, adaptiveLr: false, adaptiveMomentum: true },
    { name: 'proposed', learningRate: 1e-3, adaptiveLr: true, adaptiveMomentum: false },
  ];

  for (const optimizer of optimizers) {
    it(`2 epochs straight == a quarter epoch, then 1.5 epochs, then the rest (${JSON.stringify(optimizer)})`, async () => {
      const options = { batchSize: 8, epochs: 2, optimizer, seed: 4, padId: 0 };
      const straightModel = new Gpt(config, 11);
      const straight = await trainClassifier(straightModel, train, validation, options);
      const straightBytes = await saveWeights(straightModel.variables);
      straightModel.dispose();
      // 5 steps per epoch: [0, 1) ends mid-epoch 1, [1, 8) crosses into epoch 2 and stops mid-way.
      const cuts = [0, 1, 8, 10];
      const pieces = [];
      let state: Uint8Array | undefined;
      let weights: Uint8Array | undefined;
      for (let i = 0; i + 1 < cuts.length; i++) {
        // A fresh model and optimizer per piece, as a rung stage in its own process has.
        const model = new Gpt(config, 11);
        if (weights !== undefined) loadWeights(model.variables, weights);
        const curve = await trainClassifier(model, train, validation, {
          ...options,
          range: {
            fromStep: cuts[i]!,
            toStep: cuts[i + 1]!,
            totalSteps: 10,
            ...(state === undefined ? {} : { optimizerState: state }),
            saveOptimizerState: true,
          },
        });
        state = curve.optimizerState;
        weights = await saveWeights(model.variables);
        model.dispose();
        pieces.push(curve);
      }
      assert.ok(Buffer.from(weights!).equals(Buffer.from(straightBytes)), 'identical weight bytes');
      assert.deepEqual(
        pieces.flatMap((p) => p.lossCurve),
        straight.lossCurve,
      );
      assert.deepEqual(
        pieces.flatMap((p) => p.learningRates),
        straight.learningRates,
      );
      assert.deepEqual(pieces.at(-1)!.epochs.at(-1)!.validation, straight.epochs.at(-1)!.validation);
      assert.deepEqual(
        pieces.map((p) => p.epochs.map((e) => e.epoch)),
        [[0.2], [1, 1.6], [2]],
      );
    });
  }

  it('refuses to continue without the state it needs', async () => {
    const model = new Gpt(config, 11);
    await assert.rejects(
      trainClassifier(model, train, validation, {
        batchSize: 8,
        epochs: 2,
        optimizer: { name: 'adam', learningRate: 1e-3 },
        seed: 4,
        padId: 0,
        range: { fromStep: 3, toStep: 6, totalSteps: 10 },
      }),
      /needs the optimizer state/,
    );
    model.dispose();
  });
});
