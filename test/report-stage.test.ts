import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import reportStage from '../stages/report.ts';
import { launchChromium } from './helpers/browser.ts';
import { reportInputs, SEEDS as SEEDS_ALL, stageContext, type FixtureOptions } from './fixtures/report-stage-inputs.ts';

const PARAMS = { title: 'Report stage fixture', baseline_alpha: 1, curve_points: 50 };
const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function run(opts: FixtureOptions): Promise<{ dir: string; md: string; measured: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'report-stage-'));
  dirs.push(dir);
  await reportStage(stageContext('report', PARAMS, await reportInputs(opts), dir) as never);
  return {
    dir,
    md: await readFile(join(dir, 'artifacts/report.md'), 'utf8'),
    measured: await readFile(join(dir, 'artifacts/report-measured.md'), 'utf8'),
  };
}

/** The Markdown table under a section's heading, as rows of cells. */
function tableOf(md: string, id: string): string[][] {
  const start = md.indexOf(`<a id="${id}"></a>`);
  assert.ok(start >= 0, `section ${id}`);
  const rest = md.slice(start).split('\n');
  const first = rest.findIndex((l) => l.startsWith('| '));
  const rows = [];
  for (let i = first; i < rest.length && rest[i]!.startsWith('|'); i++) rows.push(rest[i]!);
  return rows
    .filter((_, i) => i !== 1)
    .map((r) =>
      r
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

function section(md: string, id: string): string {
  const start = md.indexOf(`<a id="${id}"></a>`);
  assert.ok(start >= 0, `section ${id}`);
  const next = md.indexOf('<a id="', start + 1);
  return md.slice(start, next < 0 ? undefined : next);
}

describe('report stage on hand-built inputs', () => {
  test('diverged fine-tunes: listed with their step, counted per cell, left out of means, tests and pairs', async () => {
    const diverged = [...SEEDS_ALL.map((s) => `as-is:gpt2-sgd-${s}`), 'as-is:bert-adamw-2', 'balanced:gpt2-proposed-1'];
    const { md } = await run({ selects: 'search', balanced: true, diverged });
    const listed = tableOf(md, 'diverged-runs');
    assert.deepEqual(
      listed.slice(1).map((r) => r[0]),
      [
        'finetune@bert-adamw-2',
        'finetune@gpt2-sgd-1',
        'finetune@gpt2-sgd-2',
        'finetune@gpt2-sgd-3',
        'finetune-balanced@gpt2-proposed-1',
      ],
    );
    assert.ok(
      listed.slice(1).every((r) => r.at(-1) === '35'),
      'the step of each',
    );
    const gpt2 = tableOf(md, 'table-2-gpt2');
    assert.equal(gpt2[0]![1], 'seeds trained to the end');
    const sgd = gpt2.find((r) => r[0] === 'sgd')!;
    assert.deepEqual(sgd.slice(1, 3), ['0 of 3', 'diverged on every seed']);
    assert.equal(gpt2.find((r) => r[0] === 'adamw')![1], '3');
    assert.equal(tableOf(md, 'table-2-bert').find((r) => r[0] === 'adamw')![1], '2 of 3');
    // No comparison involves a cell without models; the other cells keep theirs.
    const improvement = tableOf(md, 'improvement-gpt2');
    assert.deepEqual(improvement[0], ['optimizer', 'adamw', 'proposed']);
    // The fairness pairs drop the seed whose balanced fine-tune diverged and every as-is sgd run.
    const spread = tableOf(md, 'fairness-spread');
    const seedsOf = (v: string) => spread.find((r) => r[1] === v)?.[2];
    assert.equal(seedsOf('proposed'), '2');
    assert.equal(seedsOf('adamw'), '3');
    assert.equal(seedsOf('sgd'), undefined);
    assert.match(md, /mean over 5 runs: 2 optimizer variants x 3 seeds, less 1 pair whose fine-tune diverged;/);
  });

  test('with the search: Table 1 from the selections, search charts with edge warnings and failed trials', async () => {
    const { dir, md } = await run({ selects: 'search', balanced: true });
    const t1 = tableOf(md, 'table-1');
    assert.match(md, /## Table 1: the search space and the values it selected/);
    assert.equal(t1.length, 1 + 6, 'a row per architecture x variant');
    const adamw = t1.find((r) => r[0] === 'gpt2' && r[1] === 'adamw')!;
    assert.equal(adamw[2], 'search');
    assert.equal(adamw[3], 'learning\\_rate 1e-5 … 1e-2 (log)');
    assert.equal(adamw[4], '6');
    assert.match(adamw[5]!, /^learning\\_rate 5e-3$/);
    for (const arch of ['gpt2', 'bert']) {
      const table = tableOf(md, `search-table-${arch}`);
      const byVariant = Object.fromEntries(table.slice(1).map((r) => [r[0], r]));
      assert.equal(byVariant.adamw![4], 'yes: learning\\_rate');
      // sgd: trials 4 and 5 of 6 diverged, trial 1 stayed at the majority class; never hidden.
      assert.equal(byVariant.sgd![5], '33 % (2)');
      assert.equal(byVariant.sgd![6], '17 % (1)');
      assert.equal(byVariant.sgd![1], '6/6');
      assert.match(section(md, `search-${arch}`), /Warning: adamw's selected learning\\_rate \(5e-3\) lies on an edge/);
    }
    const svg = await readFile(join(dir, 'artifacts/charts/search-gpt2.svg'), 'utf8');
    // 3 variants x 6 trials, each drawn once, plus one ring per variant.
    const symbols = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].map(
      (m) => (m[1] ?? '').match(/<path\b/g)?.length ?? 0,
    );
    assert.deepEqual(symbols, [18, 3]);
    assert.match(svg, /learning rate/);

    const context = await launchChromium();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
      await page.goto(pathToFileURL(join(dir, 'artifacts/report.html')).href, { waitUntil: 'load' });
      for (const id of ['search-gpt2', 'search-bert', 'fairness-groups']) {
        const drawn = await page.locator(`#${id} figure > svg`).evaluate(
          (el) =>
            [...el.querySelectorAll('g.role-mark > path')].filter((m) => {
              const b = (m as SVGGraphicsElement).getBBox();
              return b.width > 0 && b.height > 0;
            }).length,
        );
        assert.ok(drawn >= 6, `${id} drew ${drawn} marks`);
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('without search stages the report renders, Table 1 says fixed values', async () => {
    const { md } = await run({ selects: 'none', balanced: true });
    assert.match(md, /## Table 1: optimizer hyperparameters used \(fixed values, no search\)/);
    assert.doesNotMatch(md, /search-table-|search-gpt2/);
  });

  test('the table1 protocol: selections without a search show fixed values and no search chart', async () => {
    const { md } = await run({ selects: 'table1', balanced: true });
    assert.match(md, /## Table 1: optimizer hyperparameters used \(fixed values, no search\)/);
    const t1 = tableOf(md, 'table-1');
    assert.ok(t1.slice(1).every((r) => r[2] === 'fixed values (Table 1), no search' && r[3] === '—'));
    assert.doesNotMatch(md, /search-table-/);
  });

  test('time to target: steps in Table 2, "not reached" never a number, seconds only on the measured page', async () => {
    const { md, measured } = await run({ selects: 'none', balanced: false });
    const t2 = tableOf(md, 'table-2-gpt2');
    const column = t2[0]!.findIndex((c) => c.startsWith('time to target'));
    assert.match(t2[0]![column]!, /validation loss ≤ 0\.3/);
    const cell = Object.fromEntries(t2.slice(1).map((r) => [r[0], r[column]]));
    assert.equal(cell.adamw, 'not reached (0/3 seeds)');
    // proposed: seeds 1 and 2 reach it at steps 30 and 40, seed 3 never: the median is 40.
    assert.equal(cell.proposed, '40 (2/3 seeds)');
    assert.equal(cell.sgd, '40 (3/3 seeds)');
    assert.doesNotMatch(md, /\d s \(/, 'no seconds in the hashed report');
    const times = tableOf(measured, 'times-gpt2');
    const seconds = times[0]!.findIndex((c) => c.startsWith('time to target'));
    const sec = Object.fromEntries(times.slice(1).map((r) => [r[0], r[seconds]]));
    assert.equal(sec.adamw, 'not reached (0/3 seeds)');
    // sgd (v = 2), seed 2: 40 steps x (30 + 4 + 0.2) s / 40 steps.
    assert.equal(sec.sgd, '34.2 s (3/3 seeds)');
  });

  test('an infinite perplexity: said so in Table 2, no interval or F test over it, the other metrics tested', async () => {
    const infinitePerplexity = SEEDS_ALL.map((s) => `gpt2-sgd-${s}`);
    const inputs = await reportInputs({ selects: 'none', balanced: false, infinitePerplexity });
    const stats = inputs.find((i) => i.name === 'stats')!;
    const bootstrap = await stats.table('bootstrap');
    const row = (bootstrap.arch as string[]).findIndex(
      (a, k) => a === 'gpt2' && bootstrap.variant![k] === 'sgd' && bootstrap.metric![k] === 'test_perplexity',
    );
    assert.deepEqual([bootstrap.low![row], bootstrap.high![row]], [null, null]);
    const anova = await stats.table('anova');
    const notes = (anova.arch as string[]).flatMap((a, k) =>
      a === 'gpt2' ? [[anova.metric![k], anova.note![k]] as const] : [],
    );
    assert.match(String(notes.find(([m]) => m === 'test_perplexity')![1]), /^not testable: .*Infinity \(not finite\)/);
    assert.equal(notes.find(([m]) => m === 'test_accuracy')![1], '', 'accuracy is still tested');
    const { md } = await run({ selects: 'none', balanced: false, infinitePerplexity });
    const gpt2 = tableOf(md, 'table-2-gpt2');
    const ppl = gpt2[0]!.indexOf('perplexity');
    assert.equal(gpt2.find((r) => r[0] === 'sgd')![ppl], 'infinite on 3 of 3 seeds');
    assert.match(gpt2.find((r) => r[0] === 'adamw')![ppl]!, /^(\*\*)?\d+\.\d(\*\*)?$/, 'a finite mean (bold if best)');
  });

  test('statistics: which test each claim rests on; Welch where a group is constant; P(X > Y) for every pair', async () => {
    const { md } = await run({ selects: 'none', balanced: false });
    const bert = section(md, 'table-2-bert');
    assert.match(bert, /Welch's ANOVA \(no shared variance assumed\): not testable: welchAnova: sgd has zero variance/);
    assert.match(bert, /Classic one-way ANOVA \(equal variances assumed, as in the paper\): F\(2, 6\) = /);
    assert.match(section(md, 'table-2-gpt2'), /Welch's ANOVA \(no shared variance assumed\): F\(2, \d+\.\d\) = /);
    const p = tableOf(md, 'improvement-bert');
    assert.deepEqual(p[0], ['optimizer', 'adamw', 'proposed', 'sgd']);
    const row = Object.fromEntries(p.slice(1).map((r) => [r[0], r.slice(1)]));
    // sgd sits at 0.574 on every seed, below every other run.
    assert.deepEqual(row.sgd, ['0.00', '0.00', '—']);
    assert.deepEqual(row.proposed, ['1.00', '—', '1.00']);
    const interval = tableOf(md, 'table-2-bert');
    const ci = interval[0]!.indexOf('accuracy 95 % bootstrap interval');
    assert.equal(interval.find((r) => r[0] === 'sgd')![ci], '57.4 … 57.4');
  });

  test('fairness from the fine-tuned models, naive Bayes kept as a secondary baseline', async () => {
    const { md } = await run({ selects: 'none', balanced: true });
    const spread = section(md, 'fairness-spread');
    assert.match(
      spread,
      /gpt2: balancing the training data changes the variance of accuracy across groups by -\d+\.\d % \(fine-tuned models, mean over 9 runs: 3 optimizer variants x 3 seeds/,
    );
    assert.match(spread, /P\(variance as-is \\> variance balanced\) = 1\.00/);
    assert.equal(tableOf(md, 'fairness-spread').length, 1 + 3);
    assert.match(md, /## Figure 1: test accuracy per group of fine-tuned models \(gpt2\)/);
    assert.match(md, /## Naive Bayes baseline: spread of accuracy across groups/);
    // Without the balanced branch the naive Bayes figures are Figures 1-2, as before.
    const { md: without } = await run({ selects: 'none', balanced: false });
    assert.match(without, /<a id="fairness-spread"><\/a>\n\n## Figure 2: spread of accuracy across groups/);
  });

  test('the same inputs give the same report bytes', async () => {
    const a = await run({ selects: 'search', balanced: true });
    const b = await run({ selects: 'search', balanced: true });
    assert.equal(a.md, b.md);
    for (const f of ['report.html', 'charts/search-gpt2.svg', 'charts/fairness-groups.svg'])
      assert.equal(
        await readFile(join(a.dir, 'artifacts', f), 'utf8'),
        await readFile(join(b.dir, 'artifacts', f), 'utf8'),
        f,
      );
  });
});
