import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './helpers/browser.ts';
import { checkBundleRecords } from './helpers/bundle.ts';
import { cli, reproJson } from './helpers/project.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** A copy of this repository's study with an empty store and no lockfile. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'default-pipeline-'));
  for (const p of ['pipeline.yaml', 'profiles', 'package.json', 'package-lock.json', 'data', 'stages', 'src'])
    cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

// A profile run records its state in its own lockfile, lockfile.PROFILE.json.
const lockOf = (dir: string, profile = 'smoke') =>
  JSON.parse(readFileSync(join(dir, `lockfile.${profile}.json`), 'utf8'));

// The full default study takes about 10 minutes on 2 cores; the suite runs the same pipeline,
// stages and code under profiles/smoke.yaml (fewer seeds and variants, tiny sizes).
describe('the default study (smoke profile)', () => {
  it('runs from an empty store twice to byte-identical lockfiles, every stage and artifact hash equal', async () => {
    const a = freshCopy();
    const b = freshCopy();
    // The committed default-study lockfile is in the copy, and no profile run may touch it.
    cpSync(join(REPO, 'lockfile.json'), join(a, 'lockfile.json'));
    const committed = readFileSync(join(a, 'lockfile.json'));
    const ra = await reproJson(a, '--profile', 'smoke', '-j', '2');
    assert.equal(ra.result.code, 0, ra.result.stderr);
    assert.ok(ra.stages.every((s) => s.status === 'ran'));
    const rb = await reproJson(b, '--profile', 'smoke', '-j', '2');
    assert.equal(rb.result.code, 0, rb.result.stderr);
    // Every stage is byte-for-byte reproducible, the report included: its measured figures
    // (training times, throughput) are on a page beside it that no hash covers.
    const marked = JSON.parse(
      (
        await cli(
          a,
          'query',
          "SELECT stage FROM runs WHERE json_extract(provenance, '$.deterministic') = 'false' ORDER BY stage",
          '--json',
        )
      ).stdout,
    );
    assert.deepEqual(marked, []);
    assert.equal(
      readFileSync(join(a, 'lockfile.smoke.json'), 'utf8'),
      readFileSync(join(b, 'lockfile.smoke.json'), 'utf8'),
    );
    assert.deepEqual(
      readFileSync(join(a, 'lockfile.json')),
      committed,
      'a profile run leaves lockfile.json as committed',
    );
    for (const f of ['artifacts/report.html', 'artifacts/report.md'])
      assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} is byte-identical`);
    const measuredPage = readFileSync(join(a, 'artifacts/report-measured.md'), 'utf8');
    for (const arch of ['gpt2', 'bert', 't5'])
      assert.match(
        measuredPage,
        new RegExp(`^## Training time and throughput per optimizer \\(${arch}, measured\\)`, 'm'),
      );
    assert.doesNotMatch(readFileSync(join(a, 'artifacts/report.md'), 'utf8'), /train time|tokens\/s/);
    assert.equal(
      lockOf(a).stages.report.outputs['file:artifacts/report-measured.html'],
      undefined,
      'the measured page is not a hashed output',
    );

    const lock = lockOf(a);
    const names = Object.keys(lock.stages);
    for (const prefix of [
      'ingest',
      'preprocess@as-is',
      'preprocess@balanced',
      'tokenize@gpt2',
      'pretrain@gpt2',
      'finetune@gpt2-sgd-1',
      'evaluate@gpt2-proposed-2',
      'baseline-summary',
    ]) {
      assert.ok(names.includes(prefix), `${prefix} ran`);
    }
    for (const prefix of [
      'tokenize@bert',
      'pretrain@bert',
      'finetune@bert-adamw-2',
      'evaluate@bert-sgd-1',
      'tokenize@t5',
      'pretrain@t5',
      'finetune@t5-proposed-1',
      'evaluate@t5-proposed-no-lr-2',
    ]) {
      assert.ok(names.includes(prefix), `${prefix} ran`);
    }
    assert.equal(lock.stages.ingest.metrics.texts, 40 * 5);
    // Same seed, same backend: identical fine-tuned weights; another seed: different ones.
    const w = (s: string) => lock.stages[s].outputs['blob:weights'].hash;
    assert.notEqual(w('finetune@gpt2-adamw-1'), w('finetune@gpt2-adamw-2'));
    assert.notEqual(w('finetune@gpt2-adamw-1'), w('finetune@gpt2-sgd-1'));
    const ev = lock.stages['evaluate@gpt2-adamw-1'].metrics;
    for (const m of [
      'test_accuracy',
      'test_macro_f1',
      'test_binary_f1',
      'test_perplexity',
      'steps_to_threshold',
      'test_accuracy_hard-ham-1',
    ])
      assert.equal(typeof ev[m], 'number', m);
    assert.ok(ev.test_perplexity > 1);
    // Each family is scored by its own perplexity (next token, pseudo-likelihood, span targets);
    // T5 generates its answer, so how often that is no label at all is recorded too.
    for (const arch of ['bert', 't5']) {
      const m = lock.stages[`evaluate@${arch}-adamw-1`].metrics;
      assert.ok(m.test_perplexity > 1 && Number.isFinite(m.test_perplexity), `${arch} perplexity ${m.test_perplexity}`);
      assert.ok(m.test_accuracy >= 0 && m.test_accuracy <= 1);
    }
    assert.equal(typeof lock.stages['evaluate@t5-adamw-1'].metrics.test_no_label_rate, 'number');
    // The balanced branch reuses gpt2's tokenizer and validation/test splits; only training differs.
    for (const out of ['blob:tokenizer.json', 'table:validation_ids', 'table:test_ids'])
      assert.equal(
        lock.stages['tokenize-balanced@gpt2'].outputs[out].hash,
        lock.stages['tokenize@gpt2'].outputs[out].hash,
        out,
      );
    assert.notEqual(
      lock.stages['tokenize-balanced@gpt2'].outputs['table:train_ids'].hash,
      lock.stages['tokenize@gpt2'].outputs['table:train_ids'].hash,
    );
    for (const variant of ['sgd', 'adamw', 'proposed', 'proposed-no-lr'])
      for (const seed of [1, 2])
        assert.equal(
          typeof lock.stages[`evaluate-balanced@gpt2-${variant}-${seed}`].metrics['test_accuracy_hard-ham-1'],
          'number',
        );
    // The three tokenize stages learn the same vocabulary from the same data.
    assert.equal(
      lock.stages['tokenize@bert'].outputs['blob:tokenizer.json'].hash,
      lock.stages['tokenize@gpt2'].outputs['blob:tokenizer.json'].hash,
    );

    const runs = JSON.parse(
      (
        await cli(
          a,
          'query',
          "SELECT stage, backend, provenance FROM runs WHERE stage LIKE 'finetune@%' ORDER BY stage",
          '--json',
        )
      ).stdout,
    ) as Array<{ backend: string; provenance: string }>;
    assert.equal(runs.length, 24);
    assert.ok(
      runs.every((r) => r.backend === 'wasm' || r.backend === 'tfjs-node' || r.backend === 'tfjs-node-gpu'),
      'the backend that ran is recorded',
    );
    const measured = JSON.parse(
      (
        await cli(
          a,
          'query',
          "SELECT count(*)::INT AS n FROM measurements WHERE name = 'train_seconds' AND value > 0",
          '--json',
        )
      ).stdout,
    );
    // Fine-tunes and their evaluations (24 each), pre-trains (3), and the balanced-data branch for
    // gpt2 (8 fine-tunes, 8 evaluations).
    assert.deepEqual(measured, [{ n: 24 + 24 + 3 + 8 + 8 }], 'training time is measured, outside the hashes');
    const again = await reproJson(a, '--profile', 'smoke');
    assert.ok(again.stages.every((s) => s.status === 'cached'));

    // verify --rerun of the report rebuilds it from the stored inputs, bit for bit.
    const rerun = await cli(a, '--profile', 'smoke', 'verify', '--rerun', 'report');
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /^reproduced report /m);

    // The bundle carries the store's records of every result: which backend, host and node ran it, when.
    const bundle = join(a, 'bundle');
    const exported = await cli(a, '--profile', 'smoke', 'export', '--bundle', bundle);
    assert.equal(exported.code, 0, exported.stderr);
    const bundledRuns = await checkBundleRecords(a, bundle, 'lockfile.smoke.json');
    const finetuneRuns = bundledRuns.filter((r) => String(r.stage).startsWith('finetune@') && r.status === 'ran');
    assert.equal(finetuneRuns.length, 24);
    assert.ok(
      finetuneRuns.every((r) => typeof r.backend === 'string' && typeof r.host === 'string' && r.started !== null),
    );

    // The report opens in a browser without errors and every chart drew its marks.
    const context = await launchChromium();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(pathToFileURL(join(a, 'artifacts/report.html')).href, { waitUntil: 'load' });
      for (const id of [
        'table-1',
        'fairness-spread',
        ...['gpt2', 'bert', 't5'].flatMap((a) => [`table-2-${a}`, `table-3-${a}`, `groups-${a}`]),
        ...['gpt2', 'bert', 't5'].map((a) => `improvement-${a}`),
        'fairness-baseline-spread',
      ])
        assert.ok((await page.locator(`#${id} table tbody tr`).count()) >= 2, id);
      for (const id of [
        'convergence-gpt2',
        'accuracy-gpt2',
        'convergence-bert',
        'accuracy-bert',
        'convergence-t5',
        'accuracy-t5',
        'fairness-groups',
        'fairness-baseline-groups',
      ]) {
        const marks = await page.locator(`#${id} figure > svg`).evaluate(
          (el) =>
            [...el.querySelectorAll('g.role-mark > path, g.role-mark > line')].filter((m) => {
              const b = (m as SVGGraphicsElement).getBBox();
              return b.width > 0 || b.height > 0;
            }).length,
        );
        assert.ok(marks >= 3, `${id} drew ${marks} marks`);
      }
      assert.deepEqual(problems, []);
      const shot = join(a, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(readFileSync(shot).byteLength > 20_000);
    } finally {
      await context.close();
    }
    for (const arch of ['gpt2', 'bert', 't5'])
      assert.match(readFileSync(join(a, 'artifacts/report.md'), 'utf8'), new RegExp(`^## Table 2 \\(${arch}\\)`, 'm'));
    // Figures 1-2 from the fine-tuned models; time to target never shows a number for "not reached".
    const reportMd = readFileSync(join(a, 'artifacts/report.md'), 'utf8');
    assert.match(
      reportMd,
      /gpt2: (balancing the training data changes the variance of accuracy across groups by -?\d+\.\d %|relative change not defined)/,
    );
    assert.match(reportMd, /^## Figure 1: test accuracy per group of fine-tuned models \(gpt2\)/m);
    assert.doesNotMatch(reportMd, /\| -1 \(/, 'no -1 step counts');

    // Changing only the significance level reruns the statistics and the report, nothing else.
    writeFileSync(
      join(a, 'pipeline.yaml'),
      readFileSync(join(a, 'pipeline.yaml'), 'utf8').replace('alpha: 0.05', 'alpha: 0.01'),
    );
    const alpha = await reproJson(a, '--profile', 'smoke');
    assert.deepEqual(
      alpha.stages.filter((s) => s.status !== 'cached').map((s) => `${s.name}:${s.status}`),
      ['stats:ran', 'report:ran'],
    );
  });

  it('a diverging fine-tune is a recorded result: listed with its step, left out of the statistics; the study completes', async () => {
    const dir = freshCopy();
    // Table 1's protocol (no search), so the fine-tune trains with the typed learning rate: a
    // search refuses a Table 1 value outside its declared space before anything trains.
    const smoke = readFileSync(join(dir, 'profiles/smoke.yaml'), 'utf8').replace(/^(\s+)trials: \d+$/m, '$1trials: 0');
    writeFileSync(
      join(dir, 'profiles/diverge.yaml'),
      `${smoke}\n  architectures: [gpt2]\n  optimizers:\n    sgd: {name: sgd, learning_rate: 1.0e+30, momentum: 0.9}\n    adamw: {name: adamw, learning_rate: 0.001}\n    proposed: {name: proposed, learning_rate: 0.001}\n    proposed-no-lr: {name: proposed, learning_rate: 0.001, adaptive_lr: false}\n`,
    );
    // Up to the statistics and the balanced evaluations: the report's declared charts name all three
    // architectures, and the report's handling of diverged runs is tested on its own (report-stage).
    const r = await reproJson(dir, '--profile', 'diverge', '-j', '2', 'stats', 'evaluate-balanced');
    assert.equal(r.result.code, 0, r.result.stderr);
    for (const stage of ['finetune@gpt2-sgd-1', 'evaluate@gpt2-sgd-1', 'finetune-balanced@gpt2-sgd-1', 'stats'])
      assert.equal(r.status[stage], 'ran', stage);
    const lock = lockOf(dir, 'diverge').stages;
    const sgd = lock['finetune@gpt2-sgd-1']!.metrics;
    assert.equal(sgd.diverged, 1);
    assert.ok(Number.isInteger(sgd.diverged_step) && sgd.diverged_step >= 1, `diverged_step ${sgd.diverged_step}`);
    assert.equal(lock['finetune@gpt2-adamw-1']!.metrics.diverged, 0);
    assert.equal(lock['evaluate@gpt2-sgd-1']!.metrics.diverged, 1);
    assert.equal(lock['evaluate@gpt2-sgd-1']!.metrics.test_accuracy, undefined, 'no test metric without a model');
    assert.equal(lock['evaluate-balanced@gpt2-sgd-1']!.metrics.diverged, 1);
    assert.equal(lock['evaluate@gpt2-adamw-1']!.metrics.diverged, 0);
    assert.equal(typeof lock['evaluate@gpt2-adamw-1']!.metrics.test_accuracy, 'number');
  });

  it('profiles: a missing or malformed profile is a located error', async () => {
    const dir = freshCopy();
    const missing = await cli(dir, '--profile', 'nope', 'status');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no profile "nope": .*profiles\/nope\.yaml does not exist/);
    writeFileSync(join(dir, 'profiles/bad.yaml'), 'varz: {}\n');
    const bad = await cli(dir, '--profile', 'bad', 'status');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /profiles\/bad\.yaml:1:1: error: unknown key "varz" \(did you mean "vars"\?\)/);
  });
});
